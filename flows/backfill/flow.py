"""The backfill flow: load a source's daily-bar history in chunks of sessions, resumably.

[start, end] is split into chunks of ``chunk_sessions`` exchange sessions (calendar days on a
24/7 exchange), ingested oldest first, each as its own batch through the ingest flow's steps.
Every chunk is recorded in meta.backfill_windows in its batch's own transaction, so a rerun
skips what an interrupted run finished. A chunk the source cannot deliver is reported and the
rest go on; the flow fails at the end, naming the chunks and what to do. Backfill batches never
move the scheduled ingest's watermark past sessions it has not seen (flows/ingest.plan_window).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from prefect import flow, get_run_logger

from flows.backfill.plan import Window, chunk_state, plan_chunks
from flows.backfill.records import recorded_windows
from flows.backfill.window import (
    Progress,
    WindowOutcome,
    WindowRequestError,
    ingest_recorded,
    report_loaded,
    run_quality_report,
    window_settings,
)
from quantlake.settings import Settings
from warehouse import calendar
from warehouse.lake import Lakehouse

DEFAULT_CHUNK_SESSIONS = 63  # about a quarter of a year of sessions


@dataclass
class BackfillSummary:
    """What a backfill did, chunk by chunk (oldest first)."""

    source: str
    first: dt.date
    last: dt.date
    chunk_sessions: int
    symbols: tuple[str, ...]  # empty: the configured ones (or all the source serves)
    chunks: list[WindowOutcome] = field(default_factory=list)
    quality_report: str | None = None

    def count(self, *statuses: str) -> int:
        """Return how many chunks ended in any of ``statuses``."""
        return sum(c.status in statuses for c in self.chunks)

    @property
    def problems(self) -> list[WindowOutcome]:
        """Return the chunks that are not in the lakehouse as passed batches."""
        return [c for c in self.chunks if c.status in ("failed", "empty", "invalid")]

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "first": self.first,
            "last": self.last,
            "chunk_sessions": self.chunk_sessions,
            "symbols": list(self.symbols),
            "chunks": [c.as_dict() for c in self.chunks],
            "quality_report": self.quality_report,
        }


class BackfillFailed(RuntimeError):
    """Some chunks of a backfill did not land as passed batches; ``summary`` says which."""

    def __init__(self, message: str, summary: BackfillSummary) -> None:
        super().__init__(message)
        self.summary = summary


@flow(name="backfill", description="Load daily-bar history in chunks of sessions, resumably.")
def backfill_flow(
    source: str | None,
    start: dt.date,
    end: dt.date | None = None,
    chunk_sessions: int = DEFAULT_CHUNK_SESSIONS,
    symbols: tuple[str, ...] | None = None,
    now: dt.datetime | None = None,
    report_to_dagster: bool = True,
    on_progress: Progress | None = None,
) -> BackfillSummary:
    """Backfill sessions [start, end] (end: the last completed one) of ``source`` (None: the
    configured one); raise BackfillFailed naming the chunks that did not land."""
    settings = window_settings(source, purpose="a backfill")
    now = now or dt.datetime.now(dt.UTC)
    with Lakehouse(settings.lake_dir, catalog=settings.catalog) as lake:
        summary = run_backfill(
            lake,
            settings,
            start=start,
            end=end,
            chunk_sessions=chunk_sessions,
            symbols=symbols or (),
            now=now,
            on_progress=on_progress,
        )
        summary.quality_report = run_quality_report(lake, settings, summary.chunks, now=now)
    if report_to_dagster:
        report_loaded(settings, summary.chunks)
    if summary.problems:
        raise BackfillFailed(problems_message(summary, first_error=True), summary)
    return summary


def run_backfill(
    lake: Lakehouse,
    settings: Settings,
    *,
    start: dt.date,
    end: dt.date | None,
    chunk_sessions: int,
    symbols: tuple[str, ...],
    now: dt.datetime,
    on_progress: Progress | None = None,
) -> BackfillSummary:
    """Ingest the chunks of [start, end] not ingested before, oldest first (the flow's body)."""
    logger = get_run_logger()
    chunks = _chunks(settings, start=start, end=end, now=now, chunk_sessions=chunk_sessions)
    source = settings.resolved_source
    recorded = recorded_windows(lake, source=source)
    scope = symbols or settings.symbols
    summary = BackfillSummary(source, chunks[0].first, chunks[-1].last, chunk_sessions, symbols)
    progress = on_progress or (lambda done, total, outcome: None)
    progress(0, len(chunks), None)
    for chunk in chunks:
        window = Window(chunk.days, symbols)
        state = chunk_state(window, recorded, scope=scope)
        if state == "pending":
            outcome = ingest_recorded(lake, settings, window, kind="backfill", now=now)
        elif state == "passed":
            outcome = WindowOutcome(window, "skipped", message="ingested by an earlier run")
        else:
            outcome = WindowOutcome(
                window, "invalid", message="its batch failed validation in an earlier run"
            )
        logger.info("chunk %s: %s %s", window.label(), outcome.status, outcome.message)
        summary.chunks.append(outcome)
        progress(len(summary.chunks), len(chunks), outcome)
    return summary


def _chunks(
    settings: Settings,
    *,
    start: dt.date,
    end: dt.date | None,
    now: dt.datetime,
    chunk_sessions: int,
) -> list[Window]:
    """Return the chunks of [start, end]; refuse an end after the last completed session."""
    last_done = calendar.last_completed_session(now, exchange=settings.exchange)
    end = end or last_done
    if end > last_done:
        raise WindowRequestError(
            f"end {end} is after the last completed {settings.exchange} session {last_done}: "
            "bars of sessions still to come or still trading are partial; pass an earlier end "
            "or none (the last completed session)"
        )
    if start > end:
        raise WindowRequestError(f"start {start} is after end {end}: pass start <= end")
    days = calendar.sessions(start, end, exchange=settings.exchange)
    if not days:
        raise WindowRequestError(f"no {settings.exchange} session lies in {start} .. {end}")
    return plan_chunks(days, chunk_sessions=chunk_sessions)


def problems_message(summary: BackfillSummary, *, first_error: bool = False) -> str:
    """Say which chunks did not land as passed batches and what to do about each kind (and,
    with ``first_error``, the first such chunk's message)."""
    parts = []
    kinds = {
        "failed": "the source could not deliver them; rerun the same backfill to retry them "
        "(chunks already done are skipped)",
        "empty": "the source has no bars there; check the symbols, or start the backfill later",
        "invalid": "their batches failed validation: the good rows are in curated, the others "
        "in quarantine (see the Data Docs and `quantlake quality`); the same data fails again, "
        "so they are not fetched again; fix the data at the source",
    }
    for status, advice in kinds.items():
        mine = [c for c in summary.chunks if c.status == status]
        if mine:
            spans = ", ".join(c.window.label() for c in mine)
            first = f". First: {mine[0].message}" if first_error else ""
            parts.append(f"{len(mine)} chunk(s) {status} ({spans}): {advice}{first}")
    return f"backfill of {summary.source} {summary.first} .. {summary.last}: " + " | ".join(parts)
