"""Freshness in the quality report, and of the whole lakehouse now (``quantlake quality
--freshness``): the lakehouse reads of flows/quality/reads.py judged by
flows/quality/freshness_checks.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import polars as pl

from flows.quality import reads
from flows.quality.freshness import Freshness, FreshnessRules, Latest, summarize
from flows.quality.freshness_checks import assess, assess_frame, latest_of
from warehouse import calendar
from warehouse.lake import Lakehouse

BAR_DATASETS = ("daily_bars", "minute_bars")


@dataclass(frozen=True)
class SourceFreshness:
    """One (source, dataset): its verdict over all subjects, and each subject's."""

    source: str
    dataset: str
    summary: Freshness
    subjects: tuple[Freshness, ...]


def source_rows(freshness: pl.DataFrame, frequencies: dict[str, str], source: str) -> pl.DataFrame:
    """Return a source's rows of a freshness read, each with its cadence (macro; else null)."""
    cadence = pl.col("symbol").replace_strict(frequencies, default=None, return_dtype=pl.String)
    return freshness.filter(pl.col("source") == source).with_columns(frequency=cadence)


def row_freshness(
    dataset: str, rows: pl.DataFrame, symbol: str, *, now: dt.datetime, rules: FreshnessRules
) -> Freshness:
    """Return how fresh ``symbol`` is in a source's rows (not there: nothing validated)."""
    mine = rows.filter(pl.col("symbol") == symbol)
    item = Latest(symbol, None) if mine.is_empty() else latest_of(mine.row(0, named=True))
    return assess(dataset, item, now=now, rules=rules)


def report_columns(
    dataset: str, rows: pl.DataFrame, symbol: str | None, *, now: dt.datetime, exchange: str
) -> dict[str, Any]:
    """Return the report's last_session, sessions_behind and latest_knowledge_time of a
    source's ``symbol`` (None: of all its symbols)."""
    if symbol is not None:
        rows = rows.filter(pl.col("symbol") == symbol)
    if rows.is_empty() or rows.get_column("last_session").null_count() == rows.height:
        return {"last_session": None, "sessions_behind": None, "latest_knowledge_time": None}
    behind = None
    exchange_traded = rows.filter(~pl.col("crypto"))
    if dataset in BAR_DATASETS and not exchange_traded.is_empty():
        latest = exchange_traded.get_column("last_session").max()
        behind = calendar.sessions_behind(latest, now, exchange=exchange)
    return {
        "last_session": rows.get_column("last_session").max(),
        "sessions_behind": behind,
        "latest_knowledge_time": rows.get_column("latest_knowledge_time").max(),
    }


def current_freshness(
    lake: Lakehouse, *, now: dt.datetime, rules: FreshnessRules
) -> list[SourceFreshness]:
    """Return the freshness at ``now`` of every (source, dataset) with curated data."""
    found = []
    for dataset, spec in sorted(reads.SPECS.items()):
        frame = reads.freshness(lake, spec, None)
        if frame.is_empty():
            continue
        cadences = reads.macro_frequencies(lake, None) if dataset == "macro" else {}
        for source in sorted(frame.get_column("source").unique()):
            mine = source_rows(frame, cadences, source)
            subjects = tuple(assess_frame(dataset, mine, now=now, rules=rules))
            found.append(SourceFreshness(source, dataset, summarize(subjects), subjects))
    return found
