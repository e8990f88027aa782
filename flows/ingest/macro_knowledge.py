"""When a macro observation could first have been known: frequencies, period ends, lags.

FRED dates an observation by the start of its period (monthly 2024-05-01 covers May), except
weekly series, which FRED dates by the week's last day. A value is known ``lag`` days after its
period ends, at the release time of day (UTC), unless the file states its vintage's release date
(``realtime_start``), which then wins. Nothing is known after the moment we ingest it.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import polars as pl

from quantlake.settings import MacroSettings

Frequency = Literal["D", "W", "M", "Q", "A"]
# Median gap between a series' consecutive dates (days) -> frequency.
_GAPS: tuple[tuple[int, int, Frequency], ...] = (
    (1, 4, "D"),
    (5, 10, "W"),
    (25, 35, "M"),
    (80, 100, "Q"),
    (350, 380, "A"),
)


def infer_frequency(dates: pl.Series) -> Frequency | None:
    """Return the frequency the spacing of ``dates`` shows, or None (one date, irregular)."""
    distinct = dates.drop_nulls().unique().sort()
    if len(distinct) < 2:
        return None
    gap = distinct.diff().drop_nulls().dt.total_days().median()
    for low, high, frequency in _GAPS:
        if gap is not None and low <= gap <= high:
            return frequency
    return None


def period_end(date: pl.Expr, frequency: pl.Expr) -> pl.Expr:
    """Return the last day of the period an observation dated ``date`` covers."""
    quarter_end_month = ((date.dt.month() - 1) // 3) * 3 + 3
    return (
        pl.when(frequency.is_in(["D", "W"]))
        .then(date)
        .when(frequency == "M")
        .then(date.dt.month_end())
        .when(frequency == "Q")
        .then(pl.date(date.dt.year(), quarter_end_month, 1).dt.month_end())
        .when(frequency == "A")
        .then(pl.date(date.dt.year(), 12, 31))
    )


def knowledge_times(
    observations: pl.DataFrame,
    settings: MacroSettings,
    *,
    revised: pl.Series,
    ingested_at: dt.datetime,
) -> pl.DataFrame:
    """Return ``observations`` with ``frequency`` (overrides applied) and ``knowledge_time``.

    ``revised`` marks rows without a stated vintage whose value differs from the one stored
    before: we learn such a revision only now, so it is known at ``ingested_at``. A row whose
    period end cannot be told (unknown frequency, unreadable date) gets a null knowledge time.
    """
    if ingested_at.tzinfo is None:
        raise ValueError("ingested_at must be timezone-aware (UTC)")
    series = pl.col("series_id")
    frequency = pl.coalesce(
        series.replace_strict(settings.frequencies, default=None, return_dtype=pl.String),
        pl.col("frequency"),
    )
    lag = series.replace_strict(
        settings.lags, default=settings.default_lag_days, return_dtype=pl.Int64
    )
    release = pl.duration(
        hours=settings.release_time.hour,
        minutes=settings.release_time.minute,
        seconds=settings.release_time.second,
    )
    published = period_end(pl.col("observation_date"), frequency) + pl.duration(days=lag)
    day = pl.coalesce(pl.col("realtime_start"), published)
    now = pl.lit(ingested_at).cast(pl.Datetime("us", "UTC"))
    at = (day.cast(pl.Datetime("us")) + release).dt.replace_time_zone("UTC")
    # Unknown frequency and no stated vintage: no knowledge time (validation quarantines it).
    known = pl.when(revised).then(now).when(at.is_null()).then(None)
    known = known.otherwise(pl.min_horizontal(at, now))
    return observations.with_columns(frequency=frequency).with_columns(knowledge_time=known)
