"""Ingest one window of daily bars for a backfill or a gap re-request, and record it.

Shared by flows/backfill/flow.py and flows/backfill/gaps.py: the settings they run with, the
outcome of a window, the quality report and the Dagster event of a whole run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Literal

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from flows.backfill.plan import Window
from flows.backfill.records import WindowKind, record_window, window_row
from flows.dagster_events import report_materializations
from flows.ingest.daily import EmptyWindow, ingest_window
from flows.sources.base import SourceError
from quantlake.settings import Settings, load_settings
from validations.result import ValidationOutcome
from warehouse import schemas
from warehouse.lake import Lakehouse
from warehouse.schemas import Dataset

# loaded / already_loaded: the window's batch is in the lakehouse and passed; invalid: it
# failed validation; skipped: an earlier run ingested it; empty: the source has no bars there;
# failed: the source could not deliver (worth a retry).
WindowStatus = Literal["loaded", "already_loaded", "skipped", "empty", "failed", "invalid"]


@dataclass(frozen=True)
class WindowOutcome:
    """What ingesting one window did."""

    window: Window
    status: WindowStatus
    batch_id: str | None = None
    rows_passed: int = 0
    rows_quarantined: int = 0
    docs_path: str | None = None
    message: str = ""
    new_batch: bool = False  # this run committed the batch (else it was there, or none)

    def as_dict(self) -> dict[str, object]:
        out = asdict(self)
        out["window"] = {"first": self.window.first, "last": self.window.last}
        out["symbols"] = list(self.window.symbols)
        return out


# Called before the first window (done 0, outcome None) and after each: (done, total, outcome).
Progress = Callable[[int, int, WindowOutcome | None], None]


class WindowRequestError(ValueError):
    """A backfill or gap request that cannot be served as asked; the message says why."""


def window_settings(source: str | None, *, purpose: str) -> Settings:
    """Load the settings (``source`` overriding QUANTLAKE_SOURCE); refuse the file source,
    which loads whole files and cannot serve a window of sessions."""
    settings = None if source == "file" else load_settings(**({"source": source} if source else {}))
    if settings is None or settings.resolved_source == "file":
        raise WindowRequestError(
            f"the file source cannot serve {purpose}: it loads whole files, not windows of "
            "sessions. Load files with `quantlake ingest --source file --path ...`; use "
            "--source simulator or --source alpaca here"
        )
    return settings


def ingest_recorded(
    lake: Lakehouse, settings: Settings, window: Window, *, kind: WindowKind, now: dt.datetime
) -> WindowOutcome:
    """Ingest ``window`` as one batch and record it in meta.backfill_windows.

    A source that cannot deliver is an outcome (``failed``, or ``empty`` when it answered with
    no bars at all), so the windows after it still run.
    """
    source = settings.resolved_source

    def row(bid: str, status: str, *, committed: bool) -> pl.DataFrame:
        return window_row(
            window,
            source=source,
            kind=kind,
            scope=window.symbols or settings.symbols,
            batch_id=bid,
            committed=committed,
            status=status,
            now=now,
        )

    def in_batch(bid: str, outcome: ValidationOutcome) -> list[tuple[Dataset, pl.DataFrame]]:
        return [(schemas.BACKFILL_WINDOWS, row(bid, outcome.status, committed=True))]

    try:
        summary = ingest_window(
            lake,
            settings,
            start=window.first,
            end=window.last,
            now=now,
            symbols=window.symbols or None,
            extra_rows=in_batch,
        )
    except EmptyWindow as exc:
        return WindowOutcome(window, "empty", message=str(exc))
    except SourceError as exc:
        return WindowOutcome(window, "failed", message=str(exc))
    if summary.batch_id is None or summary.validation is None:
        raise RuntimeError(f"ingesting {window.label()} gave no batch ({summary.status}): a bug")
    if summary.status == "already_loaded":
        record_window(lake, row(summary.batch_id, summary.validation, committed=False))
    status: WindowStatus = "loaded" if summary.status == "loaded" else "already_loaded"
    return WindowOutcome(
        window,
        "invalid" if summary.validation == "failed" else status,
        batch_id=summary.batch_id,
        rows_passed=summary.rows_passed,
        rows_quarantined=summary.rows_quarantined,
        docs_path=summary.docs_path,
        message=summary.message,
        new_batch=summary.status == "loaded",
    )


@task(name="quality report", cache_policy=NO_CACHE)
def run_quality_report(
    lake: Lakehouse, settings: Settings, outcomes: Sequence[WindowOutcome], *, now: dt.datetime
) -> str | None:
    """Build one quality report over the batches the run committed; return its HTML page."""
    from flows.quality.report import build_quality_report, write_quality_report

    ids = [o.batch_id for o in outcomes if o.new_batch and o.batch_id]
    if not ids:
        return None
    report = build_quality_report(lake, batch_ids=ids, now=now, exchange=settings.exchange)
    return str(write_quality_report(lake, report, reports_dir=settings.data_dir / "reports"))


def report_loaded(settings: Settings, outcomes: Sequence[WindowOutcome]) -> None:
    """Tell Dagster that raw and curated bars changed, when any window loaded a passed batch."""
    loaded = [o for o in outcomes if o.status == "loaded"]
    if not loaded:
        return
    meta = {
        "batches": len(loaded),
        "rows": sum(o.rows_passed for o in loaded),
        "first_session": str(min(o.window.first for o in loaded)),
        "last_session": str(max(o.window.last for o in loaded)),
    }
    report_materializations(
        settings.dagster_home, [(["raw", "bars"], meta), (["curated", "bars"], meta)]
    )
