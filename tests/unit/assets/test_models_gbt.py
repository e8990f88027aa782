"""The gradient-boosted model and the config file that configures both algorithms."""

from __future__ import annotations

import datetime as dt
import json
import pickle
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor

from assets.features.compute import compute_features, labels
from assets.models.config import CONFIG_PATH, ConfigError, load_config
from assets.models.estimators import Spec, spec_from_registry
from assets.models.train import ModelParams, model_frame, plan_walk_forward, predict, train_model
from tests.unit.assets.signal_bars import reversal_bars
from warehouse.schemas import FEATURE_COLUMNS

PARAMS = ModelParams(horizon=5, train_sessions=120, test_sessions=20, seed=0)
GBT = Spec.of(
    "gbt",
    {
        "max_iter": 40,
        "learning_rate": 0.1,
        "max_leaf_nodes": 7,
        "min_samples_leaf": 40,
        "l2_regularization": 1.0,
    },
)


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    bars = reversal_bars(n_symbols=15, n_sessions=420, seed=4, reversal=0.5)
    features = compute_features(bars, known_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    return model_frame(features, labels(bars, horizon=5), horizon=5)


def test_gbt_trains_evaluates_and_predicts_a_small_frame(frame: pl.DataFrame) -> None:
    plan = plan_walk_forward(frame, params=PARAMS, folds=2, window="rolling")
    model = train_model(frame, plan=plan, spec=GBT, seed=0)
    booster = model.pipeline[-1]
    assert isinstance(booster, HistGradientBoostingRegressor)
    assert booster.n_iter_ == 40  # no early stopping: every configured iteration is fit
    assert booster.random_state == 0
    last = frame.filter(pl.col("session") == frame.get_column("session").max())
    scores = predict(model.pipeline, last.drop_nulls(FEATURE_COLUMNS))
    assert scores.shape == (15,) and np.isfinite(scores).all() and np.unique(scores).size > 1
    assert model.evaluation.overall.sessions == 2 * PARAMS.test_sessions
    assert model.evaluation.overall.ic > 0  # the reversal is learnable by trees too


def test_gbt_is_deterministic_for_a_seed_and_the_seed_matters(frame: pl.DataFrame) -> None:
    plan = plan_walk_forward(frame, params=PARAMS, folds=1, window="rolling")
    with_subsample = Spec.of("gbt", {**dict(GBT.hyperparams), "max_features": 0.5})
    one, two, other = (
        train_model(frame, plan=plan, spec=with_subsample, seed=seed) for seed in (3, 3, 4)
    )
    assert pickle.dumps(one.pipeline) == pickle.dumps(two.pipeline)
    assert one.evaluation == two.evaluation
    rows = frame.drop_nulls(FEATURE_COLUMNS).tail(200)
    assert not np.array_equal(predict(one.pipeline, rows), predict(other.pipeline, rows))


def test_the_shipped_config_trains_ridge_and_gbt() -> None:
    config = load_config()
    assert [s.algorithm for s in config.specs()] == ["ridge", "gbt"]
    assert config.config_version
    assert config.walk_forward.window in ("rolling", "expanding")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace('config_version = "2"\n', ""), "config_version"),
        (lambda t: t.replace("folds = 3", "folds = 3\nfold = 2"), "fold"),
        (lambda t: t.replace('window = "rolling"', 'window = "sliding"'), "window"),
        (lambda t: t.replace("margin = 0.005", ""), "margin"),
        (lambda t: t.replace("alpha = 1.0", "alpha = 0"), "alpha"),
        (lambda t: t.replace("[algorithms.gbt]", "[algorithms.xgb]"), "xgb"),
        (lambda t: t + "\n[[broken", "not valid TOML"),
    ],
)
def test_an_invalid_config_is_refused_with_the_offending_key(
    tmp_path: Path, edit, message: str
) -> None:
    text = CONFIG_PATH.read_text()
    assert 'config_version = "2"\n' in text and "margin = 0.005" in text
    with pytest.raises(ConfigError, match=message):
        load_config(_write(tmp_path, edit(text)))


def test_a_config_without_algorithms_or_file_is_refused(tmp_path: Path) -> None:
    text = CONFIG_PATH.read_text()
    start, end = text.index("[algorithms.ridge]"), text.index("[promotion]")
    with pytest.raises(ConfigError, match="lists none"):
        load_config(_write(tmp_path, text[:start] + "[algorithms]\n" + text[end:]))
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.toml")


def test_registry_params_give_back_the_spec_including_rows_before_the_config_file() -> None:
    new = json.dumps({"algorithm": "gbt", "hyperparams": dict(GBT.hyperparams), "seed": 0})
    assert spec_from_registry("gbt", new) == GBT
    old = json.dumps({"alpha": 2.0, "horizon": 5, "seed": 0, "train_sessions": 504})
    assert spec_from_registry("ridge", old) == Spec.of("ridge", {"alpha": 2.0})
    with pytest.raises(ValueError, match="no hyperparameters"):
        spec_from_registry("gbt", old)
    with pytest.raises(ValueError, match="unknown algorithm"):
        Spec.of("lasso", {})
