"""Write one validated minute batch to the lakehouse in one transaction (a single snapshot)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from flows.ingest import minute_rows
from flows.sources.minute_bars import MinuteBatch
from validations.report import rule_rows
from validations.result import ValidationOutcome
from warehouse import schemas
from warehouse.lake import Lakehouse, Transaction


@dataclass(frozen=True)
class WrittenBatch:
    """What a commit wrote: the snapshot (None when nothing changed) and the conflicts found."""

    batch_id: str
    snapshot_id: int | None
    conflicts: int


def commit_minute_batch(
    lake: Lakehouse,
    batch: MinuteBatch,
    raw: pl.DataFrame,
    outcome: ValidationOutcome,
    *,
    batch_id: str,
    now: dt.datetime,
) -> WrittenBatch:
    """Write raw, quarantine, curated, validation rows and the batch record atomically."""
    with lake.transaction(f"ingest minute bars {batch.source}", batch_id=batch_id) as txn:
        write_raw(txn, raw)
        conflicts = write_outcome(txn, batch, raw, outcome, batch_id=batch_id, now=now)
    return WrittenBatch(batch_id, txn.snapshot_id, conflicts)


def write_raw(txn: Transaction, raw: pl.DataFrame) -> int:
    """Append the batch's raw rows. Return rows written."""
    return txn.append(schemas.RAW_MINUTE_BARS, raw)


def write_outcome(
    txn: Transaction,
    batch: MinuteBatch,
    raw: pl.DataFrame,
    outcome: ValidationOutcome,
    *,
    batch_id: str,
    now: dt.datetime,
) -> int:
    """Write quarantine, curated, validation rows and the batch record. Return the conflicts."""
    txn.append(schemas.QUARANTINE_MINUTE_BARS, outcome.quarantined)
    curated = minute_rows.curated_minute_rows(outcome.passed, knowledge_time=now)
    fresh, changed, across = minute_rows.settle_with_stored(curated, _stored(txn, curated))
    txn.append(schemas.CURATED_MINUTE_BARS, fresh)
    txn.merge(schemas.CURATED_MINUTE_BARS, changed)
    txn.append(schemas.VALIDATION_RESULTS, rule_rows(outcome, batch_id=batch_id, validated_at=now))
    txn.append(schemas.BATCHES, _batch_row(batch, raw, outcome, batch_id=batch_id, now=now))
    superseded = outcome.quarantined.filter(pl.col("rule") == "unique_symbol_ts")
    return minute_rows.in_batch_conflicts(raw, superseded) + across


def _stored(txn: Transaction, curated: pl.DataFrame) -> pl.DataFrame:
    """Return the curated rows already stored for the symbols and time span of ``curated``."""
    if curated.is_empty():
        return curated.clear()
    span = curated.select(pl.col("ts").min().alias("lo"), pl.col("ts").max().alias("hi")).row(0)
    symbols = curated.get_column("symbol").unique().to_list()
    return txn.query(
        "SELECT * FROM curated.minute_bars WHERE list_contains(?, symbol) AND ts BETWEEN ? AND ?",
        [symbols, span[0], span[1]],
    )


def _batch_row(
    batch: MinuteBatch,
    raw: pl.DataFrame,
    outcome: ValidationOutcome,
    *,
    batch_id: str,
    now: dt.datetime,
) -> pl.DataFrame:
    sessions = raw.get_column("session").drop_nulls()
    notes = [outcome.message] + [f"{r.origin}: {r.reason}" for r in batch.rejections]
    return pl.DataFrame(
        {
            "batch_id": [batch_id],
            "source": [batch.source],
            "ingested_at": [now],
            "dataset": ["minute_bars"],
            "first_session": [sessions.min() if len(sessions) else None],
            "last_session": [sessions.max() if len(sessions) else None],
            "rows_in": [raw.height],
            "rows_passed": [outcome.passed.height],
            "rows_quarantined": [outcome.rows_quarantined],
            "status": [outcome.status],
            "message": [" | ".join(notes)],
        }
    ).cast({"ingested_at": pl.Datetime("us", "UTC")})
