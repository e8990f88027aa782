"""The session frame that macro and sentiment features are placed on: session and its close."""

from __future__ import annotations

import datetime as dt

import polars as pl

UTC = pl.Datetime("us", "UTC")


def require_columns(frame: pl.DataFrame, columns: tuple[str, ...], *, what: str) -> None:
    """Raise when ``frame`` lacks a column or holds a null in one."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lack column(s) {missing}; expected {list(columns)}")
    nulls = [c for c in columns if frame.get_column(c).null_count()]
    if nulls:
        raise ValueError(f"{what} hold nulls in {nulls}: drop or fix those rows first")


def utc(frame: pl.DataFrame, column: str, *, what: str) -> pl.Expr:
    """Return ``column`` as a UTC timestamp; refuse naive times (their moment is unknown)."""
    dtype = frame.schema[column]
    if not isinstance(dtype, pl.Datetime) or dtype.time_zone is None:
        raise ValueError(f"{what}.{column} must be a timezone-aware datetime, got {dtype}")
    return pl.col(column).dt.convert_time_zone("UTC").cast(UTC)


def checked_sessions(sessions: pl.DataFrame) -> pl.DataFrame:
    """Return (session, session_close_utc, session_index) sorted by session, closes in UTC."""
    require_columns(sessions, ("session", "session_close_utc"), what="sessions")
    frame = sessions.select(
        "session", session_close_utc=utc(sessions, "session_close_utc", what="sessions")
    ).sort("session")
    if frame.get_column("session").is_duplicated().any():
        raise ValueError("sessions hold a session twice: pass one row per session")
    closes = frame.get_column("session_close_utc")
    if len(closes) > 1 and not (closes.diff().drop_nulls() > dt.timedelta(0)).all():
        raise ValueError("session closes must increase with the session; check the calendar")
    return frame.with_row_index("session_index")
