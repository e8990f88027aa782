"""Batch identity, batch records and watermarks for the macro and news ingest flows.

A batch id hashes everything a fetch returned (rows in order, and the notes on inputs that
were not data), so fetching the same files again yields the same id and the flow finds it in
meta.batches. The watermark of a (source, dataset) is the latest knowledge time of the rows of
its passed batches.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict, dataclass, field

import polars as pl

from flows.dagster_events import report_materializations
from flows.sources.base import Rejection
from quantlake.settings import Settings
from validations.result import ValidationOutcome
from warehouse import schemas
from warehouse.lake import Lakehouse
from warehouse.schemas import Dataset


@dataclass
class DatasetIngestSummary:
    """What one macro or news ingest run did, for people and for the CLI summary.

    ``rows_in`` counts what the source delivered; ``rows_new`` what was not loaded before
    (only those are validated and stored); ``rows_late`` the new rows known no later than the
    watermark (backfills, late files, revisions of old observations). ``conflicts`` describes
    values that changed an observation already stored.
    """

    source: str
    dataset: str
    status: str  # loaded | already_loaded | up_to_date
    batch_id: str | None = None
    validation: str | None = None  # passed | failed
    rows_in: int = 0
    rows_new: int = 0
    rows_passed: int = 0
    rows_quarantined: int = 0
    rows_late: int = 0
    quarantined_by_rule: dict[str, int] = field(default_factory=dict)
    rejections: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    first_date: dt.date | None = None
    last_date: dt.date | None = None
    watermark: dt.datetime | None = None
    snapshot_id: int | None = None
    quality_report: str | None = None
    docs_path: str | None = None
    message: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def batch_id(source: str, frame: pl.DataFrame, rejections: tuple[Rejection, ...]) -> str:
    """Return a content hash of a fetch: the same rows and notes always get the same id."""
    digest = hashlib.sha256(source.encode())
    digest.update(str(frame.schema).encode())
    digest.update(frame.write_csv().encode())
    for rejection in rejections:
        digest.update(f"{rejection.origin}\0{rejection.reason}\0".encode())
    return f"{source}-{digest.hexdigest()[:16]}"


def stored_batch(lake: Lakehouse, batch: str) -> tuple[str, str] | None:
    """Return (status, message) of a batch already in meta.batches, or None."""
    found = lake.query("SELECT status, message FROM meta.batches WHERE batch_id = ?", [batch])
    return None if found.is_empty() else found.row(0)


def watermark(lake: Lakehouse, raw: Dataset, *, source: str, dataset: str) -> dt.datetime | None:
    """Return the latest knowledge_time in ``raw`` of the passed batches of (source, dataset)."""
    return lake.query(
        f"SELECT max(r.knowledge_time) FROM {raw.table} r "
        "JOIN meta.batches b ON b.batch_id = r.batch_id "
        "WHERE b.source = ? AND b.dataset = ? AND b.status = 'passed'",
        [source, dataset],
    ).item()


def passed_rows(
    lake: Lakehouse, raw: Dataset, columns: str, *, source: str, dataset: str
) -> pl.DataFrame:
    """Return ``columns`` (SQL, over ``r``) of the raw rows of passed batches of the dataset."""
    return lake.query(
        f"SELECT {columns} FROM {raw.table} r JOIN meta.batches b ON b.batch_id = r.batch_id "
        "WHERE b.source = ? AND b.dataset = ? AND b.status = 'passed'",
        [source, dataset],
    )


def batch_row(
    *,
    batch: str,
    source: str,
    dataset: str,
    now: dt.datetime,
    dates: pl.Series,
    rows_in: int,
    outcome: ValidationOutcome,
    notes: list[str],
) -> pl.DataFrame:
    """Return the meta.batches row of a batch (first/last_session: its first and last date)."""
    dates = dates.drop_nulls()
    row = {
        "batch_id": batch,
        "source": source,
        "ingested_at": now,
        "dataset": dataset,
        "first_session": dates.min() if len(dates) else None,
        "last_session": dates.max() if len(dates) else None,
        "rows_in": rows_in,
        "rows_passed": len(outcome.passed),
        "rows_quarantined": outcome.rows_quarantined,
        "status": outcome.status,
        "message": " | ".join([outcome.message, *notes]),
    }
    return schemas.BATCHES.frame([row])


def quarantined_by_rule(outcome: ValidationOutcome) -> dict[str, int]:
    """Return how many rows each rule quarantined."""
    if outcome.quarantined.is_empty():
        return {}
    return dict(outcome.quarantined.group_by("rule").len().sort("rule").rows())


def report(
    settings: Settings, summary: DatasetIngestSummary, *, tables: tuple[Dataset, ...]
) -> None:
    """Tell the Dagster instance that the batch wrote ``tables`` (runless asset events)."""
    meta = {
        "batch_id": summary.batch_id,
        "source": summary.source,
        "rows": summary.rows_passed,
        "quarantined": summary.rows_quarantined,
        "snapshot_id": summary.snapshot_id,
        "last_date": str(summary.last_date),
    }
    report_materializations(settings.dagster_home, [([t.zone, t.name], meta) for t in tables])
