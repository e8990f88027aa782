"""The model asset's gate through Dagster: no champion when nothing is stable, and a person's
rollback survives the next run."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
import pytest

from assets import keys
from assets.models.registry import change_champion, current_champion
from assets.run import materialize_daily
from quantlake.settings import ModelSettings, Settings
from tests.unit.assets.signal_bars import reversal_bars
from warehouse.calendar import next_session
from warehouse.lake import Lakehouse
from warehouse.schemas import CURATED_BARS, MODELS, PREDICTIONS, PROMOTIONS

N_SYMBOLS, N_SESSIONS = 15, 560
MODEL = ModelSettings(horizon=5, train_sessions=120, test_sessions=40, seed=0)


def _metadata(result: dg.ExecuteInProcessResult) -> dict[dg.AssetKey, dict[str, Any]]:
    return {
        event.asset_key: {k: v.value for k, v in event.materialization.metadata.items()}
        for event in result.get_asset_materialization_events()
    }


def _settings(lake: Lakehouse, tmp_path: Path, bars: pl.DataFrame) -> Settings:
    assert lake.root == tmp_path / "lake"
    with lake.transaction("test bars") as txn:
        txn.merge(CURATED_BARS, bars)
    return Settings(data_dir=tmp_path, model=MODEL)


def test_no_stable_model_means_no_champion_no_predictions_and_a_clear_reason(
    lake: Lakehouse, tmp_path: Path
) -> None:
    # The reversal flips to a continuation before the test folds: every fold scores IC < 0.
    bars = reversal_bars(
        n_symbols=N_SYMBOLS, n_sessions=N_SESSIONS, seed=8, reversal=0.5, flip_at=N_SESSIONS - 130
    )
    result = materialize_daily(
        instance=dg.DagsterInstance.ephemeral(), settings=_settings(lake, tmp_path, bars)
    )
    meta = _metadata(result)

    assert current_champion(lake) is None
    registry = lake.read(MODELS)
    assert sorted(registry.get_column("status")) == ["challenger", "challenger"]
    assert all(r.startswith("refused: ") for r in registry.get_column("status_reason"))
    assert meta[keys.MODELS]["model_version"] is None
    assert meta[keys.MODELS]["decision"].startswith("no champion: no candidate passed")
    assert lake.count(PREDICTIONS) == 0 and lake.count(PROMOTIONS) == 0
    assert meta[keys.PREDICTIONS]["rows_written"] == 0
    assert "holds the book" in meta[keys.PREDICTIONS]["no_champion"]
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    assert not checks["model_champion_ready"].passed
    assert not checks["predictions_cover_latest_session"].passed
    assert checks["features_null_share"].passed


def test_a_rollback_is_not_undone_by_the_next_run(lake: Lakehouse, tmp_path: Path) -> None:
    bars = reversal_bars(n_symbols=N_SYMBOLS, n_sessions=N_SESSIONS, seed=8, reversal=0.5)
    settings = _settings(lake, tmp_path, bars)
    instance = dg.DagsterInstance.ephemeral()
    first = _metadata(materialize_daily(instance=instance, settings=settings))[keys.MODELS]
    last = bars.get_column("session").max()
    new_day = next_session(last)
    with lake.transaction("next session") as txn:
        txn.merge(
            CURATED_BARS,
            bars.filter(pl.col("session") == last).with_columns(
                session=pl.lit(new_day),
                knowledge_time=pl.lit(dt.datetime.combine(new_day, dt.time(22), dt.UTC)),
            ),
        )
    second = _metadata(materialize_daily(instance=instance, settings=settings, retrain=True))[
        keys.MODELS
    ]
    assert second["model_version"] != first["model_version"]

    now = dt.datetime.now(dt.UTC)
    change_champion(
        lake, first["model_version"], action="rollback", actor="ops", reason="test", now=now
    )
    third = _metadata(materialize_daily(instance=instance, settings=settings, retrain=True))
    assert third[keys.MODELS]["trained"] is False
    assert third[keys.MODELS]["model_version"] == first["model_version"]
    assert current_champion(lake)["model_version"] == first["model_version"]
    # The rolled-back champion scored the latest session too, so the trade flow can use it.
    scored = lake.read(
        PREDICTIONS,
        where="session = ? AND model_version = ?",
        params=[new_day, first["model_version"]],
    )
    assert scored.height == N_SYMBOLS


def test_a_settings_alpha_is_refused_with_where_it_lives_now() -> None:
    with pytest.raises(ValueError, match=r"\[algorithms.ridge\] alpha"):
        ModelSettings(alpha=7.0)
