"""What a daily ingest run did: its summary for people and the CLI, its meta.batches row.

Every row received is accounted for: rows_received = rows_passed + rows_quarantined +
rows_skipped, where skipped rows are those the source read but did not deliver (undated,
outside the window, not asked for), each counted under its reason.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

import polars as pl

from flows.sources.base import SourceBatch
from validations.result import ValidationOutcome


@dataclass
class IngestSummary:
    """What one ingest run did, for people and for the CLI summary."""

    source: str
    status: str  # loaded | already_loaded | up_to_date
    batch_id: str | None = None
    validation: str | None = None  # passed | failed
    rows_received: int = 0  # rows_in + rows_skipped
    rows_in: int = 0  # delivered by the source: stored in raw, then passed or quarantined
    rows_passed: int = 0
    rows_quarantined: int = 0
    rows_skipped: int = 0
    quarantined_by_rule: dict[str, int] = field(default_factory=dict)
    skipped_by_reason: dict[str, int] = field(default_factory=dict)
    # Warning rules' counts (rows flagged, still stored), e.g. volume_positive.
    warnings: dict[str, int] = field(default_factory=dict)
    rejections: list[str] = field(default_factory=list)
    first_session: dt.date | None = None
    last_session: dt.date | None = None
    snapshot_id: int | None = None
    docs_path: str | None = None
    quality_report: str | None = None
    message: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def skipped_by_reason(batch: SourceBatch) -> dict[str, int]:
    """Return the rows the source did not deliver, summed per reason."""
    out: dict[str, int] = {}
    for skip in batch.skipped:
        out[skip.reason] = out.get(skip.reason, 0) + skip.rows
    return out


def notes(batch: SourceBatch) -> list[str]:
    """Return the batch's rejected inputs and skipped rows in words."""
    skipped = [f"{s.origin}: skipped {s.rows:,} rows ({s.reason})" for s in batch.skipped]
    return [f"{r.origin}: {r.reason}" for r in batch.rejections] + skipped


def ingest_summary(
    batch: SourceBatch, raw: pl.DataFrame, outcome: ValidationOutcome, **kw: object
) -> IngestSummary:
    """Return the summary of a committed batch."""
    by_rule = outcome.quarantined.group_by("rule").len().sort("rule").rows()
    sessions = raw.get_column("session").drop_nulls()
    skipped = skipped_by_reason(batch)
    return IngestSummary(
        source=batch.source,
        status="loaded",
        validation=outcome.status,
        rows_received=raw.height + sum(skipped.values()),
        rows_in=raw.height,
        rows_passed=outcome.passed.height,
        rows_quarantined=outcome.rows_quarantined,
        rows_skipped=sum(skipped.values()),
        quarantined_by_rule=dict(by_rule),
        skipped_by_reason=skipped,
        warnings={r.rule: r.unexpected_count for r in outcome.rules if r.severity == "warning"},
        rejections=notes(batch),
        first_session=sessions.min() if len(sessions) else None,
        last_session=sessions.max() if len(sessions) else None,
        docs_path=outcome.docs_path,
        message=outcome.message,
        **kw,  # type: ignore[arg-type]
    )


def batch_row(
    batch: SourceBatch,
    raw: pl.DataFrame,
    outcome: ValidationOutcome,
    *,
    batch_id: str,
    now: dt.datetime,
) -> pl.DataFrame:
    """Return the batch's meta.batches row."""
    sessions = raw.get_column("session").drop_nulls()
    return pl.DataFrame(
        {
            "batch_id": [batch_id],
            "source": [batch.source],
            "ingested_at": [now],
            "dataset": ["daily_bars"],
            "first_session": [sessions.min() if len(sessions) else None],
            "last_session": [sessions.max() if len(sessions) else None],
            "rows_in": [len(raw)],
            "rows_passed": [len(outcome.passed)],
            "rows_quarantined": [outcome.rows_quarantined],
            "status": [outcome.status],
            "message": [" | ".join([outcome.message, *notes(batch)])],
        }
    )
