"""The daily assets materialized with Dagster on a temporary lakehouse of synthetic curated bars
(with a learnable reversal, so the promotion gate has a model worth promoting)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
import pytest

from assets import keys
from assets.run import materialize_daily
from quantlake.settings import ModelSettings, Settings
from tests.unit.assets.signal_bars import reversal_bars
from warehouse.calendar import next_session, sessions
from warehouse.lake import Lakehouse
from warehouse.schemas import CURATED_BARS, FEATURES, LABELS, MODELS, PREDICTIONS, PROMOTIONS

N_SYMBOLS, N_SESSIONS = 30, 800
MODEL = ModelSettings(horizon=5, train_sessions=252, test_sessions=63, seed=0)


def _metadata(result: dg.ExecuteInProcessResult) -> dict[dg.AssetKey, dict[str, Any]]:
    return {
        event.asset_key: {k: v.value for k, v in event.materialization.metadata.items()}
        for event in result.get_asset_materialization_events()
    }


@pytest.fixture
def settings(tmp_path: Path, lake: Lakehouse) -> Settings:
    """Settings whose lakehouse (data_dir/lake) is the ``lake`` fixture, filled with bars."""
    assert lake.root == tmp_path / "lake"
    with lake.transaction("test bars") as txn:
        txn.merge(CURATED_BARS, reversal_bars(n_symbols=N_SYMBOLS, n_sessions=N_SESSIONS, seed=3))
    return Settings(data_dir=tmp_path, model=MODEL)


def test_materializing_twice_writes_nothing_the_second_time(
    settings: Settings, lake: Lakehouse
) -> None:
    instance = dg.DagsterInstance.ephemeral()
    first_result = materialize_daily(instance=instance, settings=settings)
    first = _metadata(first_result)
    after_first = lake.current_snapshot()
    # A first run computes the model's walk-forward window (252 + 3 x 63 sessions, the label
    # lag and the drift month), not all 800 sessions: older history is a backfill.
    window = len(sessions(first_result.first_session, first_result.last_session))
    assert window == 252 + 3 * 63 + 2 * 5 + 21 + 1
    second_result = materialize_daily(instance=instance, settings=settings)
    second = _metadata(second_result)

    assert first[keys.FEATURES]["rows_written"] == N_SYMBOLS * window
    # Labels also for the horizon's sessions before the window (their forward returns end in it).
    assert first[keys.FEATURES]["label_rows_written"] == N_SYMBOLS * (window + 5)
    assert first[keys.MODELS]["trained"] is True
    # Every materialization records the snapshot it read and the one it wrote, in order.
    written = [first[k]["snapshot_written"] for k in (keys.FEATURES, keys.MODELS, keys.PREDICTIONS)]
    assert written == sorted(written) and len(set(written)) == 3
    assert first[keys.MODELS]["snapshot_read"] >= first[keys.FEATURES]["snapshot_written"]
    assert first[keys.PREDICTIONS]["snapshot_read"] >= first[keys.MODELS]["snapshot_written"]
    assert first[keys.PREDICTIONS]["rows_written"] == N_SYMBOLS
    assert second[keys.FEATURES]["rows_written"] == 0
    assert second[keys.FEATURES]["label_rows_written"] == 0
    assert second[keys.FEATURES]["features_snapshot"] == first[keys.FEATURES]["features_snapshot"]
    # The model is not retrained: no new session since it was trained (retrain_every_sessions).
    assert keys.MODELS not in second and second_result.retrain is None
    assert second[keys.PREDICTIONS]["rows_written"] == 0
    assert second[keys.FEATURES]["snapshot_written"] is None  # nothing written, no snapshot
    assert lake.current_snapshot() == after_first
    evaluations = second_result.get_asset_check_evaluations()
    assert all(e.passed for e in evaluations)
    assert {"features_null_share", "predictions_cover_latest_session"} <= {
        e.check_name for e in evaluations
    }


def test_lakehouse_holds_features_model_and_predictions(
    settings: Settings, lake: Lakehouse
) -> None:
    result = materialize_daily(instance=dg.DagsterInstance.ephemeral(), settings=settings)
    version = _metadata(result)[keys.MODELS]["model_version"]

    window = len(sessions(result.first_session, result.last_session))
    assert lake.count(FEATURES) == N_SYMBOLS * window
    assert lake.count(LABELS) == N_SYMBOLS * (window + 5)
    registry = lake.read(MODELS, order_by="algorithm")
    # Both configured algorithms are registered; the gate made exactly one the champion.
    assert registry.get_column("algorithm").to_list() == ["gbt", "ridge"]
    champions = registry.filter(pl.col("status") == "champion")
    assert champions.get_column("model_version").to_list() == [version]
    assert registry.get_column("status").sort().to_list() == ["challenger", "champion"]
    assert all(Path(path).is_file() for path in registry.get_column("artifact_path"))
    predictions = lake.read(PREDICTIONS)
    last = lake.query("SELECT max(session) FROM curated.bars").item()
    assert predictions.get_column("session").unique().to_list() == [last]
    assert predictions.get_column("symbol").n_unique() == N_SYMBOLS
    assert predictions.get_column("model_version").unique().to_list() == [version]
    assert predictions.get_column("score").is_finite().all()


def test_a_new_session_adds_its_rows_and_a_refit_champion(
    settings: Settings, lake: Lakehouse
) -> None:
    instance = dg.DagsterInstance.ephemeral()
    first = _metadata(materialize_daily(instance=instance, settings=settings))
    bars = lake.read(CURATED_BARS)
    last = bars.get_column("session").max()
    new_day = next_session(last)
    fresh = bars.filter(pl.col("session") == last).with_columns(
        session=pl.lit(new_day),
        close=pl.col("close") * 1.01,
        knowledge_time=pl.lit(dt.datetime.combine(new_day, dt.time(22), dt.UTC)),
    )
    with lake.transaction("next session") as txn:
        txn.merge(CURATED_BARS, fresh)
    second = _metadata(materialize_daily(instance=instance, settings=settings, retrain=True))

    # Earlier features never change when later bars arrive: only the new session is written.
    assert second[keys.FEATURES]["rows_written"] == N_SYMBOLS
    # New session's labels (null) plus the labels at t-5 that just became known.
    assert second[keys.FEATURES]["label_rows_written"] == 2 * N_SYMBOLS
    # A stable refit of the champion's spec on newer data replaces it (promote_refits).
    old, new = first[keys.MODELS]["model_version"], second[keys.MODELS]["model_version"]
    assert new != old and new.split("-")[0] == old.split("-")[0]
    registry = lake.read(MODELS)
    statuses = dict(registry.select("model_version", "status").rows())
    assert (statuses.pop(old), statuses.pop(new)) == ("retired", "champion")
    assert sorted(statuses.values()) == ["challenger", "challenger"]
    reason = registry.filter(pl.col("model_version") == new).item(0, "status_reason")
    assert reason.startswith(f"promoted: refit of champion {old}'s specification")
    assert lake.read(PROMOTIONS).select("from_version", "to_version").rows()[-1] == (old, new)
    assert second[keys.PREDICTIONS]["session"] == str(new_day)
    assert lake.read(PREDICTIONS, where="session = ?", params=[new_day]).height == N_SYMBOLS
