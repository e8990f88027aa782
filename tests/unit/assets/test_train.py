"""Walk-forward training of a spec: fold metrics, determinism, versions and artifacts."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from assets.features.compute import FEATURE_LOOKBACK, compute_features, labels
from assets.models.artifact import (
    ArtifactError,
    ModelArtifact,
    feature_set_hash,
    load_artifact,
    model_identity,
    model_version,
    save_artifact,
)
from assets.models.estimators import Spec
from assets.models.metrics import session_metrics, summarize
from assets.models.train import (
    ModelParams,
    fit,
    model_frame,
    plan_walk_forward,
    predict,
    train_model,
)
from assets.models.walk_forward import fold_rows
from tests.unit.assets.signal_bars import reversal_bars
from warehouse.schemas import FEATURE_COLUMNS

NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
PARAMS = ModelParams(horizon=5, train_sessions=120, test_sessions=20, seed=0)
RIDGE = Spec.of("ridge", {"alpha": 1.0})


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    bars = reversal_bars(n_symbols=20, n_sessions=450, seed=11, reversal=0.5)
    features = compute_features(bars, known_at=NOW)
    return model_frame(features, labels(bars, horizon=5), horizon=5)


def test_fold_metrics_are_those_of_a_fit_on_the_fold_and_overall_pools_the_sessions(
    frame: pl.DataFrame,
) -> None:
    plan = plan_walk_forward(frame, params=PARAMS, folds=3, window="rolling")
    model = train_model(frame, plan=plan, spec=RIDGE, seed=0)
    pooled, rows = [], 0
    for result, fold in zip(model.evaluation.folds, plan.folds, strict=True):
        train, test = fold_rows(frame, fold)
        scored = test.select("session", "symbol", "fwd_return").with_columns(
            score=pl.Series(predict(fit(train, spec=RIDGE, seed=0), test))
        )
        pooled.append(session_metrics(scored))
        assert result.metrics == summarize(pooled[-1], lag=4, rows=test.height)
        assert result.n_train == train.height
        rows += test.height
    assert model.evaluation.overall == summarize(pl.concat(pooled), lag=4, rows=rows)
    assert model.evaluation.overall.sessions == 3 * PARAMS.test_sessions
    # The reversal in the bars is learnable: every fold scores a positive IC.
    assert model.evaluation.positive_fold_share == 1.0
    assert model.evaluation.overall.ic > 0 and model.evaluation.overall.decile_spread > 0


def test_fold_metrics_json_holds_every_fold(frame: pl.DataFrame) -> None:
    plan = plan_walk_forward(frame, params=PARAMS, folds=2, window="expanding")
    model = train_model(frame, plan=plan, spec=RIDGE, seed=0)
    folds = pl.read_json(model.evaluation.folds_json().encode())
    assert folds.get_column("test_start").to_list() == [
        f.test_start.isoformat() for f in plan.folds
    ]
    assert folds.get_column("ic").to_list() == [f.metrics.ic for f in model.evaluation.folds]


def test_training_twice_gives_identical_coefficients_metrics_and_bytes(
    frame: pl.DataFrame, tmp_path: Path
) -> None:
    plan = plan_walk_forward(frame, params=PARAMS, folds=3, window="rolling")
    shuffled = frame.sample(fraction=1.0, shuffle=True, seed=1).sort("session", "symbol")
    one = train_model(frame, plan=plan, spec=RIDGE, seed=0)
    two = train_model(shuffled, plan=plan, spec=RIDGE, seed=0)
    np.testing.assert_array_equal(one.pipeline[-1].coef_, two.pipeline[-1].coef_)
    assert one.evaluation == two.evaluation
    saved = [
        save_artifact(ModelArtifact("ridge-x", FEATURE_COLUMNS, 5, m.pipeline), models_dir=d)
        for m, d in ((one, tmp_path / "a"), (two, tmp_path / "b"))
    ]
    assert saved[0][1] == saved[1][1]


def test_version_names_the_algorithm_and_changes_with_what_determines_the_model(
    frame: pl.DataFrame,
) -> None:
    plan = plan_walk_forward(frame, params=PARAMS, folds=3, window="rolling")
    features = feature_set_hash(FEATURE_COLUMNS, FEATURE_LOOKBACK)
    base = {"spec": RIDGE, "params": PARAMS, "plan": plan, "feature_set": features}

    def version(**changes: object) -> str:
        identity = model_identity(**{**base, "data_snapshot": 7, **changes})  # type: ignore[arg-type]
        return model_version(algorithm="ridge", identity=identity)

    assert version() == version()
    assert version().startswith("ridge-") and len(version()) == len("ridge-") + 12
    assert version(data_snapshot=8) != version()
    assert version(spec=Spec.of("ridge", {"alpha": 2.0})) != version()
    assert version(params=dataclasses.replace(PARAMS, seed=1)) != version()
    assert version(feature_set="0" * 16) != version()
    expanding = plan_walk_forward(frame, params=PARAMS, folds=3, window="expanding")
    assert version(plan=expanding) != version()


def test_feature_set_hash_changes_with_a_lookback_or_the_order() -> None:
    base = feature_set_hash(FEATURE_COLUMNS, FEATURE_LOOKBACK)
    assert base == feature_set_hash(FEATURE_COLUMNS, dict(FEATURE_LOOKBACK))
    longer = {**FEATURE_LOOKBACK, FEATURE_COLUMNS[0]: FEATURE_LOOKBACK[FEATURE_COLUMNS[0]] + 1}
    assert feature_set_hash(FEATURE_COLUMNS, longer) != base
    assert feature_set_hash(FEATURE_COLUMNS[::-1], FEATURE_LOOKBACK) != base


def test_artifact_round_trip_and_checksum_mismatch(frame: pl.DataFrame, tmp_path: Path) -> None:
    plan = plan_walk_forward(frame, params=PARAMS, folds=1, window="rolling")
    pipeline = train_model(frame, plan=plan, spec=RIDGE, seed=0).pipeline
    path, sha = save_artifact(
        ModelArtifact("ridge-000000000000", FEATURE_COLUMNS, 5, pipeline), models_dir=tmp_path
    )
    assert path == tmp_path / "ridge-000000000000.pkl"
    loaded = load_artifact(path, sha256=sha)
    assert loaded.feature_names == FEATURE_COLUMNS
    np.testing.assert_array_equal(loaded.pipeline[-1].coef_, pipeline[-1].coef_)

    path.write_bytes(path.read_bytes() + b"\0")
    with pytest.raises(ArtifactError, match="sha256"):
        load_artifact(path, sha256=sha)
    with pytest.raises(ArtifactError, match="does not exist"):
        load_artifact(tmp_path / "missing.pkl", sha256=sha)


@pytest.mark.parametrize("changes", [{"horizon": 0}, {"train_sessions": 10}, {"test_sessions": 1}])
def test_invalid_params_are_refused(changes: dict[str, float]) -> None:
    values = {"horizon": 5, "train_sessions": 120, "test_sessions": 20, "seed": 0}
    with pytest.raises(ValueError):
        ModelParams(**{**values, **changes})
