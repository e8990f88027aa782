"""meta.backfill_windows: the windows backfills and gap re-requests ingested, read and written.

The row of a window whose run commits a batch is written in that batch's own transaction, so a
crash never leaves a batch committed by a backfill that the table does not know of.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Literal

import polars as pl

from flows.backfill.plan import Recorded, Window
from warehouse import schemas
from warehouse.lake import Lakehouse

WindowKind = Literal["backfill", "gaps"]

# The batches backfills and gap re-requests committed: not the scheduled ingest's own progress.
COMMITTED_HERE = (
    "SELECT batch_id FROM meta.backfill_windows WHERE committed AND batch_id IS NOT NULL"
)


def scope_text(symbols: tuple[str, ...]) -> str:
    """Return the stored form of a scope: a JSON list of the sorted symbols ("[]": all)."""
    return json.dumps(sorted(symbols))


def recorded_windows(lake: Lakehouse, *, source: str) -> list[Recorded]:
    """Return every window recorded for ``source``, oldest first."""
    rows = lake.query(
        "SELECT first_session, last_session, scope, status FROM meta.backfill_windows "
        "WHERE source = ? ORDER BY first_session, last_session",
        [source],
    )
    return [
        Recorded(first, last, tuple(json.loads(scope)), status)
        for first, last, scope, status in rows.iter_rows()
    ]


def window_row(
    window: Window,
    *,
    source: str,
    kind: WindowKind,
    scope: tuple[str, ...],
    batch_id: str,
    committed: bool,
    status: str,
    now: dt.datetime,
) -> pl.DataFrame:
    """Return the meta.backfill_windows row of an ingested window."""
    return schemas.BACKFILL_WINDOWS.frame(
        [
            {
                "source": source,
                "kind": kind,
                "scope": scope_text(scope),
                "first_session": window.first,
                "last_session": window.last,
                "batch_id": batch_id,
                "committed": committed,
                "status": status,
                "recorded_at": now,
            }
        ]
    )


def record_window(lake: Lakehouse, row: pl.DataFrame) -> None:
    """Record a window whose batch was already in the lakehouse (its own small commit).

    A window recorded before keeps its row: it may say that its run committed the batch.
    """
    with lake.transaction("record backfill window") as txn:
        txn.insert_missing(schemas.BACKFILL_WINDOWS, row)
