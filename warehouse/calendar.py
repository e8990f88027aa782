"""Trading sessions from the exchange calendar (exchange-calendars). Sessions are exchange dates;
instants are UTC."""

from __future__ import annotations

import bisect
import datetime as dt
from functools import lru_cache

import exchange_calendars as xcals
import pandas as pd

_START = "1990-01-02"


@lru_cache(maxsize=8)
def _calendar(exchange: str) -> xcals.ExchangeCalendar:
    # exchange-calendars stops about a year ahead by default; schedules look further.
    end = (pd.Timestamp.today() + pd.DateOffset(years=3)).strftime("%Y-%m-%d")
    return xcals.get_calendar(exchange, start=_START, end=end)


@lru_cache(maxsize=8)
def _session_index(exchange: str) -> tuple[dt.date, ...]:
    return tuple(d.date() for d in _calendar(exchange).sessions)


def sessions(start: dt.date, end: dt.date, *, exchange: str = "XNYS") -> list[dt.date]:
    """Return the exchange's sessions in [start, end], inclusive."""
    index = _session_index(exchange)
    return list(index[bisect.bisect_left(index, start) : bisect.bisect_right(index, end)])


def is_session(day: dt.date, *, exchange: str = "XNYS") -> bool:
    """Return True when ``day`` is a trading session."""
    index = _session_index(exchange)
    i = bisect.bisect_left(index, day)
    return i < len(index) and index[i] == day


def last_completed_session(now: dt.datetime, *, exchange: str = "XNYS") -> dt.date:
    """Return the latest session whose close is at or before ``now`` (a timezone-aware instant)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    candidates = sessions(
        now.date() - dt.timedelta(days=10), now.date() + dt.timedelta(days=1), exchange=exchange
    )
    for day in reversed(candidates):
        if session_close(day, exchange=exchange) <= now:
            return day
    raise ValueError(f"no completed {exchange} session in the ten days before {now}")


def next_session(day: dt.date, *, exchange: str = "XNYS") -> dt.date:
    """Return the first session strictly after ``day``."""
    return sessions(day + dt.timedelta(days=1), day + dt.timedelta(days=15), exchange=exchange)[0]


def previous_session(day: dt.date, *, exchange: str = "XNYS") -> dt.date:
    """Return the last session strictly before ``day``."""
    return sessions(day - dt.timedelta(days=15), day - dt.timedelta(days=1), exchange=exchange)[-1]


def sessions_behind(latest: dt.date, now: dt.datetime, *, exchange: str = "XNYS") -> int:
    """Return how many completed sessions lie after ``latest`` up to ``now`` (0 = up to date)."""
    last = last_completed_session(now, exchange=exchange)
    if latest >= last:
        return 0
    return len(sessions(latest + dt.timedelta(days=1), last, exchange=exchange))


def sessions_between(earlier: dt.date, later: dt.date, *, exchange: str = "XNYS") -> int:
    """Return how many sessions lie after ``earlier`` up to and including ``later`` (0 if none)."""
    if later <= earlier:
        return 0
    return len(sessions(earlier + dt.timedelta(days=1), later, exchange=exchange))


def session_close(day: dt.date, *, exchange: str = "XNYS") -> dt.datetime:
    """Return the UTC instant of the session's close (half-days included)."""
    return _calendar(exchange).session_close(pd.Timestamp(day)).to_pydatetime()


def exchange_date(now: dt.datetime, *, exchange: str = "XNYS") -> dt.date:
    """Return the calendar date at the exchange at the instant ``now``."""
    return pd.Timestamp(now).tz_convert(_calendar(exchange).tz).date()
