"""Macro features per session, as of the session close: term spread, VIX and its change.

A series' value at a session is the one known at the session's close: among the observations
whose ``knowledge_time`` is at or before the close, the latest ``observation_date``, in its
latest known vintage. A value is invisible before its knowledge time, a revision replaces a
value only from its own knowledge time on, and a revision of an older date never replaces a
newer date's value. Missing observations (null values, FRED's ".") are skipped, so the last
known value stands, however old. Not in ``FEATURE_COLUMNS``: the pipeline wires them later.
"""

from __future__ import annotations

import polars as pl

from assets.features.sessions import UTC, checked_sessions, require_columns, utc

OBSERVATION_COLUMNS = ("series_id", "observation_date", "knowledge_time")


def latest_known(observations: pl.DataFrame, series_id: str) -> pl.DataFrame:
    """Return (knowledge_time, value): the series' current value from each moment it changed."""
    series = observations.filter((pl.col("series_id") == series_id) & pl.col("value").is_not_null())
    if series.is_empty():
        raise ValueError(
            f"no observation of series {series_id!r}: ingest it or pick another series id"
        )
    ordered = series.select(
        knowledge_time=utc(series, "knowledge_time", what="observations"),
        observation_date="observation_date",
        value=pl.col("value").cast(pl.Float64),
    ).sort("knowledge_time", "observation_date")
    # A row changes the current value only when its date is the newest known so far (a new
    # date, or a revision of the newest date); at one moment the newest date wins.
    current = ordered.filter(pl.col("observation_date") == pl.col("observation_date").cum_max())
    return current.unique("knowledge_time", keep="last", maintain_order=True).select(
        "knowledge_time", "value"
    )


def as_of_close(sessions: pl.DataFrame, observations: pl.DataFrame, series_id: str) -> pl.Series:
    """Return the series' value known at each session close (null before its first release)."""
    known = latest_known(observations, series_id)
    joined = sessions.select("session_close_utc").join_asof(
        known, left_on="session_close_utc", right_on="knowledge_time", strategy="backward"
    )
    return joined.get_column("value")


def macro_features(
    sessions: pl.DataFrame,
    observations: pl.DataFrame,
    *,
    term_spread: str | tuple[str, str] = ("DGS10", "DGS2"),
    vix: str = "VIXCLS",
    vix_change_sessions: int = 5,
) -> pl.DataFrame:
    """Return (session, term_spread, vix, vix_change_<n>) per session, as of its close.

    ``term_spread`` is a spread series used as it is (e.g. "T10Y2Y") or a (long, short) pair of
    yields whose difference is taken (DGS10 - DGS2, percentage points). ``vix_change_<n>`` is the
    VIX level at this close minus the level at the close ``n`` sessions before (null for the
    first ``n`` sessions of ``sessions``).
    """
    if vix_change_sessions < 1:
        raise ValueError(f"vix_change_sessions must be at least 1, got {vix_change_sessions}")
    require_columns(observations, OBSERVATION_COLUMNS, what="observations")
    if "value" not in observations.columns:
        raise ValueError("observations lack column 'value'")
    frame = checked_sessions(sessions).with_columns(pl.col("session_close_utc").cast(UTC))
    if isinstance(term_spread, str):
        spread = as_of_close(frame, observations, term_spread)
    else:
        long, short = term_spread
        spread = as_of_close(frame, observations, long) - as_of_close(frame, observations, short)
    level = as_of_close(frame, observations, vix)
    return frame.select(
        "session",
        term_spread=spread,
        vix=level,
        **{f"vix_change_{vix_change_sessions}": level - level.shift(vix_change_sessions)},
    )
