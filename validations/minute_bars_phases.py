"""Session date and market phase of each minute bar, from the exchange calendar (pure, vectorized).

Equities: ``session`` is the bar's date in New York. ``market_phase`` is "regular" from the
session's open to its close (the calendar's times, so half-days close at 13:00 and daylight
saving moves the UTC times), "pre" from 04:00 New York to the open, "post" from the close for
four hours (20:00 on a full day, 17:00 after a 13:00 close: the extended-hours sessions US
venues run), and "closed" otherwise, including every minute of a day that is not a session.
Crypto trades around the clock: ``session`` is the UTC date and the phase is "24h".

It lives in validations/ because the minute contract re-derives phases to check them and
validations may not import flows; it belongs beside warehouse/calendar.py.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Literal

import exchange_calendars as xcals
import polars as pl

AssetClass = Literal["us_equity", "crypto"]
ASSET_CLASSES: tuple[str, ...] = ("us_equity", "crypto")
PHASES: tuple[str, ...] = ("pre", "regular", "post", "closed", "24h")
EXCHANGE = "XNYS"
EXCHANGE_TZ = "America/New_York"
PRE_OPEN = dt.time(4, 0)
POST_HOURS = 4


@lru_cache(maxsize=4)
def _calendar(exchange: str) -> xcals.ExchangeCalendar:
    return xcals.get_calendar(exchange, start="2000-01-03")


@lru_cache(maxsize=64)
def session_times(first: dt.date, last: dt.date, *, exchange: str = EXCHANGE) -> pl.DataFrame:
    """Return the sessions in [first, last] with the UTC instants their phases start and end:
    ``_pre`` (04:00 New York), ``_open``, ``_close`` and ``_post_end`` (close + 4 h)."""
    calendar = _calendar(exchange)
    lo = max(first, calendar.first_session.date())
    hi = min(last, calendar.last_session.date())
    if lo > hi:
        raise ValueError(
            f"{first} .. {last} lies outside the {exchange} calendar "
            f"({calendar.first_session.date()} .. {calendar.last_session.date()})"
        )
    schedule = calendar.schedule.loc[str(lo) : str(hi)]
    utc = pl.Datetime("us", "UTC")
    times = pl.DataFrame(
        {
            "_day": pl.Series(schedule.index.to_numpy(), dtype=pl.Datetime("ns")).dt.date(),
            "_open": schedule["open"].dt.tz_convert("UTC"),
            "_close": schedule["close"].dt.tz_convert("UTC"),
        }
    ).cast({"_open": utc, "_close": utc})
    pre = (pl.col("_day").cast(pl.Datetime("us")) + pl.duration(hours=PRE_OPEN.hour)).dt
    return times.with_columns(
        _pre=pre.replace_time_zone(EXCHANGE_TZ).dt.convert_time_zone("UTC"),
        _post_end=pl.col("_close") + pl.duration(hours=POST_HOURS),
    )


def with_phases(frame: pl.DataFrame, *, exchange: str = EXCHANGE) -> pl.DataFrame:
    """Return ``frame`` (ts UTC, asset_class, ...) with ``session`` and ``market_phase``.

    Rows with a null ts or an unknown asset_class get null session and phase (validation
    quarantines them). Phase boundaries are computed once per session, not per row.
    """
    ts = pl.col("ts")
    crypto = pl.col("asset_class") == "crypto"
    equity = pl.col("asset_class") == "us_equity"
    frame = frame.with_columns(
        _day=pl.when(equity).then(ts.dt.convert_time_zone(EXCHANGE_TZ).dt.date())
    )
    days = frame.get_column("_day").drop_nulls()
    if days.is_empty():
        times = session_times(dt.date(2020, 1, 2), dt.date(2020, 1, 2), exchange=exchange).clear()
    else:
        times = session_times(days.min(), days.max(), exchange=exchange)
    phase = (
        pl.when(pl.col("_open").is_null() | (ts < pl.col("_pre")))
        .then(pl.lit("closed"))
        .when(ts < pl.col("_open"))
        .then(pl.lit("pre"))
        .when(ts < pl.col("_close"))
        .then(pl.lit("regular"))
        .when(ts < pl.col("_post_end"))
        .then(pl.lit("post"))
        .otherwise(pl.lit("closed"))
    )
    return (
        frame.join(times, on="_day", how="left", maintain_order="left")
        .with_columns(
            session=pl.when(crypto).then(ts.dt.date()).when(equity).then(pl.col("_day")),
            market_phase=pl.when(crypto).then(pl.lit("24h")).when(equity).then(phase),
        )
        .drop("_day", "_pre", "_open", "_close", "_post_end")
    )
