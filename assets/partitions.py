"""Daily partitions on the exchange calendar: one partition per trading session.

A partition's key is its session date (``2024-07-03``). Weekends are outside the cron schedule
and exchange holidays are excluded, so the Dagster UI shows exactly the sessions the exchange
trades; an early close is still a session. The partition of session ``D`` opens at midnight
(exchange time) on ``D``: with ``end_offset=1`` it is the latest partition from then on, so
the evening ingest's runless event makes Dagster's automation request it the same day.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import dagster as dg

from warehouse import calendar

# The partitions' exchange. Features are daily on this calendar; a lakehouse on another
# exchange's sessions is refused at load time (see assets/definitions.py).
EXCHANGE = "XNYS"
TIMEZONE = "America/New_York"
# The first session features are computed for (earlier bars still serve as lookback).
FIRST_SESSION = dt.date(2000, 1, 3)
# How far the exchange-calendar package knows holidays ahead: partitions up to then are exact.
_HOLIDAYS_UNTIL_YEARS = 2


@cache
def _holidays(exchange: str, start: dt.date, until: dt.date) -> tuple[dt.datetime, ...]:
    """Return each weekday in [start, until] that is not a session, as midnight datetimes."""
    trading = set(calendar.sessions(start, until, exchange=exchange))
    days = (start + dt.timedelta(days=n) for n in range((until - start).days + 1))
    closed = (day for day in days if day.weekday() < 5 and day not in trading)
    return tuple(dt.datetime.combine(day, dt.time()) for day in closed)


def session_partitions(
    *, exchange: str = EXCHANGE, timezone: str = TIMEZONE, start: dt.date = FIRST_SESSION
) -> dg.TimeWindowPartitionsDefinition:
    """Return partitions of the exchange's sessions from ``start``: weekdays minus holidays."""
    year_end = dt.date.today().replace(month=12, day=31)
    until = year_end + dt.timedelta(days=366 * _HOLIDAYS_UNTIL_YEARS)
    return dg.TimeWindowPartitionsDefinition(
        cron_schedule="0 0 * * 1-5",
        fmt="%Y-%m-%d",
        start=dt.datetime.combine(start, dt.time()),
        timezone=timezone,
        end_offset=1,
        exclusions=list(_holidays(exchange, start, until)),
    )


SESSIONS = session_partitions()


def session_of(key: str) -> dt.date:
    """Return the session date of a partition key."""
    return dt.date.fromisoformat(key)


def key_of(session: dt.date) -> str:
    """Return the partition key of a session."""
    return session.isoformat()
