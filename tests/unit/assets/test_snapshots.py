"""Finding the snapshot that last changed a dataset, and keeping per-row provenance stable."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from assets.features.provenance import with_curated_snapshot
from assets.snapshots import last_change
from tests.unit.assets.bars import random_walk_bars
from warehouse.lake import Lakehouse, LakehouseError
from warehouse.schemas import CURATED_BARS, FEATURE_COLUMNS, LABELS


def test_last_change_ignores_commits_to_other_tables(lake: Lakehouse) -> None:
    with pytest.raises(LakehouseError, match="curated.bars"):
        last_change(lake, CURATED_BARS, as_of=lake.current_snapshot())
    bars = random_walk_bars(n_symbols=2, n_sessions=5, seed=1)
    with lake.transaction("bars") as txn:
        txn.merge(CURATED_BARS, bars)
    wrote_bars = txn.snapshot_id
    with lake.transaction("labels") as txn:
        txn.merge(
            LABELS,
            bars.select(
                "symbol",
                "session",
                horizon=pl.lit(1),
                fwd_return=pl.lit(0.0),
                label_session=pl.col("session"),
            ),
        )
    wrote_labels = txn.snapshot_id
    with lake.transaction("bars again") as txn:
        txn.merge(CURATED_BARS, bars)  # identical rows: no commit
    assert txn.snapshot_id is None

    now = lake.current_snapshot()
    assert last_change(lake, CURATED_BARS, as_of=now) == wrote_bars
    assert last_change(lake, CURATED_BARS, LABELS, as_of=now) == wrote_labels
    assert last_change(lake, CURATED_BARS, LABELS, as_of=wrote_bars) == wrote_bars


def test_rows_keep_their_snapshot_while_their_values_do_not_change() -> None:
    day = dt.date(2024, 1, 2)
    values = {c: [1.0, None] for c in FEATURE_COLUMNS}
    stored = pl.DataFrame(
        {"symbol": ["A", "B"], "session": [day, day], **values, "curated_snapshot": [3, 3]}
    )
    fresh = pl.DataFrame(
        {"symbol": ["A", "B", "C"], "session": [day] * 3}
        | {c: [1.0, None, 2.0] for c in FEATURE_COLUMNS}
    ).with_columns(ret_1=pl.Series([1.5, None, 2.0]))
    got = with_curated_snapshot(fresh, stored, curated_snapshot=9)
    # A changed (new snapshot), B unchanged including its nulls (kept), C is new.
    assert got.get_column("curated_snapshot").to_list() == [9, 3, 9]
    assert got.columns == [*fresh.columns, "curated_snapshot"]
