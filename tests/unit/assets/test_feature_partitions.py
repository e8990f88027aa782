"""Features partitioned on exchange sessions: partitions computed alone or in arbitrary ranges
equal a backfill bit for bit, a new session computes only its partition, and changed history
marks its sessions dirty."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import dagster as dg
import numpy as np
import polars as pl
import pytest

from assets.features.assets import features
from assets.features.window import HISTORY_SESSIONS, dirty_sessions
from assets.partitions import key_of
from assets.resources import build_resources
from tests.unit.assets.signal_bars import reversal_bars
from warehouse.lake import Lakehouse
from warehouse.schemas import CURATED_BARS, FEATURE_COLUMNS, FEATURES, LABELS

MODEL = {"horizon": 5, "train_sessions": 252, "test_sessions": 63, "seed": 0}
N_SYMBOLS, N_SESSIONS = 6, HISTORY_SESSIONS + 150
HALTED, HALT = "R003", (800, 899)  # a symbol without bars for 100 sessions


def _materialize(root: Path, first: dt.date, last: dt.date) -> dict[str, Any]:
    """Materialize the features partitions [first, last] as one run; return its metadata."""
    result = dg.materialize(
        [features],
        instance=dg.DagsterInstance.ephemeral(),
        resources=build_resources(
            lake_root=str(root / "lake"), catalog="sqlite", models_dir=str(root), model=MODEL
        ),
        tags={
            "dagster/asset_partition_range_start": key_of(first),
            "dagster/asset_partition_range_end": key_of(last),
        },
    )
    events = result.get_asset_materialization_events()
    # One run, one materialization per partition of the range.
    assert len({e.partition for e in events}) == len(events)
    return {k: v.value for k, v in events[-1].materialization.metadata.items()} | {
        "partitions": len(events)
    }


@pytest.fixture
def bars() -> pl.DataFrame:
    bars = reversal_bars(n_symbols=N_SYMBOLS, n_sessions=N_SESSIONS, seed=11)
    index = pl.col("session").rank("dense").over("symbol") - 1
    return bars.filter(~((pl.col("symbol") == HALTED) & index.is_between(*HALT)))


def _load(root: Path, bars: pl.DataFrame) -> None:
    with Lakehouse(root / "lake") as lake, lake.transaction("bars") as txn:
        txn.merge(CURATED_BARS, bars)


def test_sessions_computed_alone_or_in_any_range_equal_a_backfill_bit_for_bit(
    tmp_path: Path, bars: pl.DataFrame
) -> None:
    days = bars.get_column("session").unique().sort().to_list()
    _load(tmp_path / "backfill", bars)
    _load(tmp_path / "daily", bars)

    whole = _materialize(tmp_path / "backfill", days[0], days[-1])
    cuts = [0, 400, 401, 900, len(days) - 3, len(days) - 2, len(days) - 1, len(days)]
    runs = [
        _materialize(tmp_path / "daily", days[a], days[b - 1])
        for a, b in zip(cuts, cuts[1:], strict=False)
    ]
    alone, last = runs[-2], runs[-1]

    n_rows = N_SYMBOLS * N_SESSIONS - (HALT[1] - HALT[0] + 1)
    assert whole["partitions"] == N_SESSIONS and whole["rows_written"] == n_rows
    assert (alone["partitions"], alone["rows"], alone["sessions"]) == (1, N_SYMBOLS, 1)
    assert last["rows_written"] == N_SYMBOLS
    # The lookback read: HISTORY_SESSIONS bars of every symbol before the session, and nothing
    # after it (the last session has no later bars for labels); the halted symbol's reach
    # further back in time than HISTORY_SESSIONS sessions.
    assert last["bars_read"] == N_SYMBOLS * (HISTORY_SESSIONS + 1)
    with (
        Lakehouse(tmp_path / "backfill" / "lake") as a,
        Lakehouse(tmp_path / "daily" / "lake") as b,
    ):
        left = a.read(FEATURES, order_by="symbol, session").select(FEATURE_COLUMNS)
        right = b.read(FEATURES, order_by="symbol, session").select(FEATURE_COLUMNS)
        assert a.read(LABELS, order_by="symbol, session").equals(
            b.read(LABELS, order_by="symbol, session")
        )
    x, y = left.to_numpy(), right.to_numpy()
    # Equal values, NaN (null) in the same places: no tolerance.
    assert np.array_equal(np.isnan(x), np.isnan(y))
    assert (x[~np.isnan(x)] == y[~np.isnan(y)]).all()


def test_a_new_session_and_a_rewritten_history_mark_exactly_their_sessions_dirty(
    lake: Lakehouse, tmp_path: Path
) -> None:
    bars = reversal_bars(n_symbols=4, n_sessions=80, seed=2)
    days = bars.get_column("session").unique().sort().to_list()
    with lake.transaction("bars") as txn:
        txn.merge(CURATED_BARS, bars.filter(pl.col("session") < days[-1]))
    assert dirty_sessions(lake, as_of=lake.current_snapshot()) == (days[0], days[-2])
    _materialize(tmp_path, days[0], days[-2])
    assert dirty_sessions(lake, as_of=lake.current_snapshot()) is None

    with lake.transaction("new session") as txn:
        txn.merge(CURATED_BARS, bars.filter(pl.col("session") == days[-1]))
    assert dirty_sessions(lake, as_of=lake.current_snapshot()) == (days[-1], days[-1])
    _materialize(tmp_path, days[-1], days[-1])

    # A split adjustment rewrites one symbol's prices before the split: from there on is dirty.
    adjusted = bars.filter((pl.col("symbol") == "R001") & (pl.col("session") < days[40]))
    with lake.transaction("split") as txn:
        txn.merge(CURATED_BARS, adjusted.with_columns(pl.col("close") / 2, split_factor=0.5))
    assert dirty_sessions(lake, as_of=lake.current_snapshot()) == (days[0], days[-1])


def test_a_partition_without_bars_fails_and_says_what_to_do(
    lake: Lakehouse, tmp_path: Path
) -> None:
    with lake.transaction("bars") as txn:
        txn.merge(CURATED_BARS, reversal_bars(n_symbols=2, n_sessions=10, seed=1))
    with pytest.raises(dg.Failure, match="ingest them first"):
        _materialize(tmp_path, dt.date(2024, 7, 1), dt.date(2024, 7, 2))
