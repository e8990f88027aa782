"""A rerun on the same data writes nothing: no new snapshot of features, labels, models or
predictions, although the rerun reads a different range than the first run.

The history is longer than the model's window plus the features' memory, so the first run (the
model's window, one range read from ``HISTORY_SESSIONS`` before its first session) and the rerun
(the latest session alone, read from ``HISTORY_SESSIONS`` before it) start their reads at
different bars: the latest session's features must come out bit for bit the same anyway.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from assets import keys
from assets.features.window import HISTORY_SESSIONS
from assets.run import materialize_daily
from quantlake.settings import ModelSettings, Settings
from tests.support.model_config import lenient_model_config
from tests.unit.assets.signal_bars import reversal_bars
from warehouse.calendar import sessions
from warehouse.lake import Lakehouse, last_change
from warehouse.schemas import CURATED_BARS, FEATURES, LABELS, MODELS, PREDICTIONS

N_SYMBOLS, N_SESSIONS = 12, HISTORY_SESSIONS + 600
MODEL = {"horizon": 5, "train_sessions": 252, "test_sessions": 63, "seed": 0}
DERIVED = (FEATURES, LABELS, MODELS, PREDICTIONS)


@pytest.fixture
def settings(tmp_path: Path, lake: Lakehouse) -> Settings:
    """Settings whose lakehouse is the ``lake`` fixture, holding a long history of bars."""
    with lake.transaction("test bars") as txn:
        txn.merge(CURATED_BARS, reversal_bars(n_symbols=N_SYMBOLS, n_sessions=N_SESSIONS, seed=4))
    # The gate admits any model: this test is about writes, not about promotion.
    config = lenient_model_config(tmp_path)
    return Settings(data_dir=tmp_path, model=ModelSettings(**MODEL, config=str(config)))


def _changed(lake: Lakehouse) -> dict[str, int]:
    """Return the snapshot that last changed each derived table."""
    at = lake.current_snapshot()
    return {d.table: last_change(lake, d, as_of=at) for d in DERIVED}


def test_running_the_daily_assets_twice_on_the_same_data_writes_no_snapshot(
    settings: Settings, lake: Lakehouse
) -> None:
    instance = dg.DagsterInstance.ephemeral()
    first = materialize_daily(instance=instance, settings=settings)
    # The first run's read starts before the rerun's: the two cut the history differently.
    window = sessions(first.first_session, first.last_session)
    assert len(window) + HISTORY_SESSIONS < N_SESSIONS
    assert lake.count(PREDICTIONS) == N_SYMBOLS
    after_first, snapshot = _changed(lake), lake.current_snapshot()

    second = materialize_daily(instance=instance, settings=settings)

    assert (second.first_session, second.last_session) == (first.last_session,) * 2
    assert second.retrain is None
    assert lake.current_snapshot() == snapshot
    assert _changed(lake) == after_first
    written = {
        event.asset_key: event.materialization.metadata["rows_written"].value
        for event in second.get_asset_materialization_events()
    }
    assert written == {keys.FEATURES: 0, keys.PREDICTIONS: 0}
