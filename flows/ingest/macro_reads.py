"""Point-in-time reads of macro series: what was known at a moment, never anything later."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from warehouse.lake import Lakehouse


def macro_as_of(
    lake: Lakehouse,
    *,
    series: Sequence[str] | None,
    known_at: dt.datetime,
    start: dt.date | None = None,
    end: dt.date | None = None,
    snapshot: int | None = None,
) -> pl.DataFrame:
    """Return, per observation of ``series`` (None: all), the latest vintage known at
    ``known_at``: series_id, observation_date, value (null when missing), knowledge_time.

    An observation none of whose vintages was known by then is absent. ``start``/``end`` bound
    the observation dates; ``snapshot`` reads the lakehouse as that commit left it.
    """
    if known_at.tzinfo is None:
        raise ValueError("known_at must be timezone-aware, e.g. datetime(..., tzinfo=UTC)")
    at = f" AT (VERSION => {int(snapshot)})" if snapshot is not None else ""
    return lake.query(
        "SELECT series_id, observation_date, value, knowledge_time "
        f"FROM curated.macro_vintages{at} "
        "WHERE knowledge_time <= ? AND (? OR list_contains(?, series_id)) "
        "AND observation_date >= coalesce(?, DATE '0001-01-01') "
        "AND observation_date <= coalesce(?, DATE '9999-12-31') "
        "QUALIFY row_number() OVER "
        "(PARTITION BY series_id, observation_date ORDER BY knowledge_time DESC) = 1 "
        "ORDER BY series_id, observation_date",
        [
            known_at,
            series is None,
            [s.upper() for s in series or []],
            start,
            end,
        ],
    )
