"""The gap-fill flow: find sessions missing from curated daily bars and re-request them.

Each symbol's missing sessions (against the exchange calendar, inside the symbol's own first
and last bar: validations/gaps.py) are grouped into runs of consecutive sessions; symbols
missing the same run share one request. Sessions every symbol lacks (a closure the calendar
does not know, or a feed outage) are requested too. Each request is one batch, recorded in
meta.backfill_windows (kind ``gaps``). One pass: a session the source still cannot serve (a
halted stock, a bar that fails validation again) is reported as still missing, not retried.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl
from prefect import flow, get_run_logger

from flows.backfill.plan import gap_windows
from flows.backfill.window import (
    Progress,
    WindowOutcome,
    ingest_recorded,
    report_loaded,
    run_quality_report,
    window_settings,
)
from quantlake.settings import Settings
from validations.gaps import GAP_SCHEMA, find_gaps
from warehouse import calendar
from warehouse.lake import Lakehouse

Missing = list[tuple[str, dt.date]]


@dataclass
class GapFillSummary:
    """What a gap fill found, requested and filled, and what is still missing."""

    source: str
    symbols: tuple[str, ...]  # the symbols checked
    closures: tuple[dt.date, ...] = ()  # sessions every checked symbol lacked
    found: Missing = field(default_factory=list)  # (symbol, session) missing before
    windows: list[WindowOutcome] = field(default_factory=list)
    filled: Missing = field(default_factory=list)
    still_missing: Missing = field(default_factory=list)
    quality_report: str | None = None

    @property
    def failed(self) -> list[WindowOutcome]:
        """Return the requests the source could not answer (worth a retry)."""
        return [w for w in self.windows if w.status == "failed"]

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "symbols": list(self.symbols),
            "closures": list(self.closures),
            "found": self.found,
            "windows": [w.as_dict() for w in self.windows],
            "filled": self.filled,
            "still_missing": self.still_missing,
            "quality_report": self.quality_report,
        }


class GapFillFailed(RuntimeError):
    """Some gap requests could not be answered by the source; ``summary`` says which."""

    def __init__(self, message: str, summary: GapFillSummary) -> None:
        super().__init__(message)
        self.summary = summary


@flow(name="gap fill", description="Re-request sessions missing from curated daily bars.")
def gap_fill_flow(
    source: str | None = None,
    symbols: tuple[str, ...] | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    now: dt.datetime | None = None,
    report_to_dagster: bool = True,
    on_progress: Progress | None = None,
) -> GapFillSummary:
    """Re-request the missing sessions in [start, end] (None: all) of ``symbols`` (None: the
    configured ones, else those ``source`` delivered); raise GapFillFailed when requests fail."""
    settings = window_settings(source, purpose="gap re-requests")
    now = now or dt.datetime.now(dt.UTC)
    with Lakehouse(settings.lake_dir, catalog=settings.catalog) as lake:
        summary = run_gap_fill(
            lake,
            settings,
            symbols=symbols or (),
            start=start,
            end=end,
            now=now,
            on_progress=on_progress,
        )
        summary.quality_report = run_quality_report(lake, settings, summary.windows, now=now)
    if report_to_dagster:
        report_loaded(settings, summary.windows)
    if summary.failed:
        spans = ", ".join(w.window.label() for w in summary.failed)
        raise GapFillFailed(
            f"{len(summary.failed)} gap request(s) to {summary.source} failed ({spans}): "
            f"{summary.failed[0].message}. Rerun `quantlake backfill --gaps` to retry them",
            summary,
        )
    return summary


def run_gap_fill(
    lake: Lakehouse,
    settings: Settings,
    *,
    symbols: tuple[str, ...],
    start: dt.date | None,
    end: dt.date | None,
    now: dt.datetime,
    on_progress: Progress | None = None,
) -> GapFillSummary:
    """Find the gaps, request each window once, then see what landed (the flow's body)."""
    logger = get_run_logger()
    source = settings.resolved_source
    wanted = symbols or settings.symbols or _symbols_from(lake, source)
    bars = lake.query(
        "SELECT DISTINCT symbol, session FROM curated.bars WHERE list_contains(?, symbol)",
        [list(wanted)],
    )
    missing, closures, days = _missing(bars, exchange=settings.exchange, start=start, end=end)
    summary = GapFillSummary(source, tuple(sorted(wanted)), closures, found=missing.rows())
    windows = gap_windows(missing, days)
    progress = on_progress or (lambda done, total, outcome: None)
    progress(0, len(windows), None)
    for window in windows:
        outcome = ingest_recorded(lake, settings, window, kind="gaps", now=now)
        logger.info("gap %s: %s %s", window.label(), outcome.status, outcome.message)
        summary.windows.append(outcome)
        progress(len(summary.windows), len(windows), outcome)
    now_held = lake.query(
        "SELECT DISTINCT symbol, session FROM curated.bars WHERE list_contains(?, symbol)",
        [list(wanted)],
    )
    summary.filled = missing.join(now_held, on=["symbol", "session"], how="semi").rows()
    summary.still_missing = missing.join(now_held, on=["symbol", "session"], how="anti").rows()
    return summary


def _symbols_from(lake: Lakehouse, source: str) -> tuple[str, ...]:
    """Return the symbols whose curated bars came from ``source``."""
    rows = lake.query(
        "SELECT DISTINCT symbol FROM curated.bars WHERE source = ? ORDER BY symbol", [source]
    )
    return tuple(rows.get_column("symbol").to_list()) if not rows.is_empty() else ()


def _missing(
    bars: pl.DataFrame, *, exchange: str, start: dt.date | None, end: dt.date | None
) -> tuple[pl.DataFrame, tuple[dt.date, ...], list[dt.date]]:
    """Return the missing (symbol, session) rows in [start, end], the closures among them and
    the exchange sessions over the bars' span."""
    if bars.is_empty():
        return pl.DataFrame(schema=GAP_SCHEMA), (), []
    days = calendar.sessions(bars["session"].min(), bars["session"].max(), exchange=exchange)
    closures = find_gaps(bars, days).closures
    # Counted as one symbol's gaps, every session each symbol lacks, closures included.
    every = find_gaps(bars, days, min_symbols=bars["symbol"].n_unique() + 1).gaps
    lo, hi = start or dt.date.min, end or dt.date.max
    inside = every.filter(pl.col("session").is_between(lo, hi))
    return inside, tuple(d for d in closures if lo <= d <= hi), days
