"""The daily assets on real data: 100 US large caps, 2010-2021 (../shared/data)."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from assets import keys
from assets.features.compute import compute_features, null_share_after_warmup
from assets.models.config import load_config
from assets.models.promotion import Candidate, stability_problem
from assets.models.registry import change_champion, current_champion
from assets.run import materialize_daily
from quantlake.settings import Settings
from tests.unit.assets.bars import yahoo_100_bars
from warehouse.lake import Lakehouse
from warehouse.schemas import CURATED_BARS, FEATURE_COLUMNS, MODELS, PREDICTIONS

LAST_SESSION = dt.date(2021, 12, 31)


@pytest.fixture(scope="module")
def bars(shared_data: Path) -> pl.DataFrame:
    return yahoo_100_bars(shared_data)


def test_features_are_complete_past_the_warm_up(bars: pl.DataFrame) -> None:
    features = compute_features(bars, known_at=dt.datetime(2022, 1, 3, tzinfo=dt.UTC))
    assert features.height == bars.height == 293_296
    assert max(null_share_after_warmup(features).values()) == 0.0
    last = features.filter(pl.col("session") == LAST_SESSION)
    assert last.height == 100
    assert last.select(pl.col(FEATURE_COLUMNS).null_count()).sum_horizontal().item() == 0


def test_train_evaluate_and_predict_every_symbol_for_the_last_session(
    bars: pl.DataFrame, lake: Lakehouse, tmp_path: Path, record_property
) -> None:
    with lake.transaction("yahoo 100") as txn:
        txn.merge(CURATED_BARS, bars)
    result = materialize_daily(
        instance=dg.DagsterInstance.ephemeral(), settings=Settings(data_dir=tmp_path)
    )
    meta = {
        e.asset_key: {k: v.value for k, v in e.materialization.metadata.items()}
        for e in result.get_asset_materialization_events()
    }
    model = meta[keys.MODELS]
    for name in ("candidate", "model_version", "decision", "versions"):
        record_property(name, model[name])
    for name in ("oos_ic", "oos_rank_ic", "oos_ic_tstat", "oos_hit_rate", "oos_decile_spread"):
        record_property(name, model[name])
    record_property("feature_compute_seconds", meta[keys.FEATURES]["compute_seconds"])

    # Defaults: 5-session horizon, 504 train sessions, 3 folds of 63 test sessions, 100 symbols.
    assert model["n_test"] == 3 * 63 * 100
    assert model["test_window"] == "2021-03-29 .. 2021-12-23"
    # DOW listed on 2019-03-20: its first 57 sessions of the window lack the 252-bar features.
    assert model["n_train"] == 504 * 100 - 57
    # Daily cross-sectional return prediction is weak: metrics must be defined and modest.
    assert math.isfinite(model["oos_ic"]) and abs(model["oos_ic"]) < 0.2
    assert 0.35 < model["oos_hit_rate"] < 0.65
    assert math.isfinite(model["oos_ic_tstat"]) and math.isfinite(model["oos_decile_spread"])

    # The gate's decision follows from the recorded metrics and the shipped config.
    registry = lake.read(MODELS)
    policy = load_config().promotion
    stable = [
        r["model_version"]
        for r in registry.iter_rows(named=True)
        if stability_problem(_candidate(r, policy.metric), policy) is None
    ]
    champion = current_champion(lake)
    assert (champion is None) == (not stable)
    if champion is None:
        # 2019-2021 large caps give no stable out-of-sample IC: nothing is promoted, nothing
        # is scored, and a person may still promote a model on purpose.
        assert model["decision"].startswith("no champion: no candidate passed")
        assert lake.count(PREDICTIONS) == 0
        change_champion(
            lake,
            model["candidate"],
            action="promote",
            actor="test",
            reason="score the real data",
            now=dt.datetime.now(dt.UTC),
        )
        result = materialize_daily(
            instance=dg.DagsterInstance.ephemeral(), settings=Settings(data_dir=tmp_path)
        )
    predictions = lake.read(PREDICTIONS)
    assert predictions.get_column("session").unique().to_list() == [LAST_SESSION]
    assert predictions.get_column("symbol").n_unique() == 100
    assert predictions.get_column("score").is_finite().all()
    assert all(check.passed for check in result.get_asset_check_evaluations())


def _candidate(row: dict, metric: str) -> Candidate:
    return Candidate(
        row["model_version"],
        spec_key=row["params"],
        metric=row[metric],
        ic_tstat=row["oos_ic_tstat"],
        positive_fold_share=row["oos_positive_fold_share"],
    )
