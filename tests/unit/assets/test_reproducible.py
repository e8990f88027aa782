"""Same data snapshot, config and seed: bit-identical models and predictions.

Two separate lakehouses receive the same bars in the same commits; the daily assets run in
each. Every model must carry the same version and artifact sha256, every registry value that
is not a wall-clock time or a path must match, and the predictions must be equal exactly.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import polars as pl
from polars.testing import assert_frame_equal

from assets.run import materialize_daily
from quantlake.settings import ModelSettings, Settings
from tests.unit.assets.signal_bars import reversal_bars
from warehouse.lake import Lakehouse
from warehouse.schemas import CURATED_BARS, MODELS, PREDICTIONS

MODEL = ModelSettings(horizon=5, train_sessions=120, test_sessions=40, seed=0)
WALL_CLOCK = ("created_at", "status_changed_at", "artifact_path")


def _run(data_dir: Path, bars: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    with Lakehouse(data_dir / "lake") as lake:
        with lake.transaction("bars") as txn:
            txn.merge(CURATED_BARS, bars)
        materialize_daily(
            instance=dg.DagsterInstance.ephemeral(),
            settings=Settings(data_dir=data_dir, model=MODEL),
        )
        registry = lake.read(MODELS, order_by="model_version").drop(WALL_CLOCK)
        predictions = lake.read(PREDICTIONS, order_by="model_version, symbol").drop("created_at")
    return registry, predictions


def test_training_twice_gives_the_same_models_bytes_and_predictions(tmp_path: Path) -> None:
    bars = reversal_bars(n_symbols=15, n_sessions=560, seed=8, reversal=0.5)
    registry_a, predictions_a = _run(tmp_path / "a", bars)
    registry_b, predictions_b = _run(tmp_path / "b", bars)

    assert registry_a.height == 2 and predictions_a.height == 15
    assert registry_a.get_column("artifact_sha256").n_unique() == 2
    assert_frame_equal(registry_a, registry_b, check_exact=True)
    assert_frame_equal(predictions_a, predictions_b, check_exact=True)
