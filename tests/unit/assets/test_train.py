"""Walk-forward split, metrics, determinism and artifacts of the model."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy import stats

from assets.features.compute import compute_features, labels
from assets.models.artifact import (
    ArtifactError,
    ModelArtifact,
    load_artifact,
    model_version,
    save_artifact,
)
from assets.models.train import (
    ModelParams,
    evaluate,
    model_frame,
    plan_walk_forward,
    split_rows,
    train_model,
)
from tests.unit.assets.bars import random_walk_bars
from warehouse.schemas import FEATURE_COLUMNS

NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
PARAMS = ModelParams(horizon=5, train_sessions=120, test_sessions=20, alpha=1.0, seed=0)


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    bars = random_walk_bars(n_symbols=12, n_sessions=450, seed=11)
    features = compute_features(bars, known_at=NOW)
    return model_frame(features, labels(bars, horizon=5), horizon=5)


def _sessions(frame: pl.DataFrame) -> list[dt.date]:
    return frame.get_column("session").unique().sort().to_list()


def test_walk_forward_windows_and_embargo(frame: pl.DataFrame) -> None:
    plan = plan_walk_forward(frame, params=PARAMS)
    days = _sessions(frame)
    train, test, final = split_rows(frame, plan)

    assert train.get_column("label_session").max() < plan.test_start
    assert train.get_column("session").n_unique() == PARAMS.train_sessions
    assert days.index(plan.test_start) - days.index(plan.train_end) == PARAMS.horizon + 1
    assert test.get_column("session").n_unique() == PARAMS.test_sessions
    # The test ends at the last session whose label is known: h sessions before the data ends.
    assert plan.test_end == days[-1 - PARAMS.horizon]
    assert plan.final_end == plan.test_end
    assert final.get_column("session").n_unique() == PARAMS.train_sessions
    assert final.get_column("fwd_return").null_count() == 0


def test_embargo_holds_when_a_symbol_skips_sessions(frame: pl.DataFrame) -> None:
    plan = plan_walk_forward(frame, params=PARAMS)
    days = _sessions(frame)
    halt = days[days.index(plan.test_start) - 3 : days.index(plan.test_start) + 3]
    bars = random_walk_bars(n_symbols=12, n_sessions=450, seed=11).filter(
        ~((pl.col("symbol") == "S000") & pl.col("session").is_in(halt))
    )
    gapped = model_frame(compute_features(bars, known_at=NOW), labels(bars, horizon=5), horizon=5)
    assert plan_walk_forward(gapped, params=PARAMS) == plan
    # S000's 5-bar-ahead labels now reach past the test start from inside the train window ...
    in_window = gapped.filter(pl.col("session").is_between(plan.train_start, plan.train_end))
    assert in_window.get_column("label_session").max() >= plan.test_start
    # ... and the split drops exactly those rows.
    train, _, _ = split_rows(gapped, plan)
    assert train.get_column("label_session").max() < plan.test_start


def test_too_little_history_is_refused(frame: pl.DataFrame) -> None:
    short = frame.filter(pl.col("session") >= _sessions(frame)[-149])
    with pytest.raises(ValueError, match="not enough history"):
        plan_walk_forward(short, params=PARAMS)


def test_training_twice_gives_identical_coefficients_version_and_bytes(
    frame: pl.DataFrame, tmp_path: Path
) -> None:
    plan = plan_walk_forward(frame, params=PARAMS)
    shuffled = frame.sample(fraction=1.0, shuffle=True, seed=1).sort("session", "symbol")
    one = train_model(frame, plan=plan, params=PARAMS)
    two = train_model(shuffled, plan=plan, params=PARAMS)
    np.testing.assert_array_equal(one.pipeline[-1].coef_, two.pipeline[-1].coef_)
    assert one.oos == two.oos

    def version() -> str:
        return model_version(
            params=PARAMS,
            feature_names=FEATURE_COLUMNS,
            data_snapshot=7,
            train_start=plan.final_start,
            train_end=plan.final_end,
        )

    assert version() == version()
    assert version().startswith("ridge-") and len(version()) == len("ridge-") + 12
    saved = [
        save_artifact(ModelArtifact(version(), FEATURE_COLUMNS, 5, m.pipeline), models_dir=d)
        for m, d in ((one, tmp_path / "a"), (two, tmp_path / "b"))
    ]
    assert saved[0][1] == saved[1][1]


def test_version_changes_with_data_snapshot_and_params() -> None:
    base = {
        "feature_names": FEATURE_COLUMNS,
        "train_start": dt.date(2020, 1, 2),
        "train_end": dt.date(2021, 1, 4),
    }
    v = model_version(params=PARAMS, data_snapshot=7, **base)
    assert model_version(params=PARAMS, data_snapshot=8, **base) != v
    other = ModelParams(horizon=5, train_sessions=120, test_sessions=20, alpha=2.0, seed=0)
    assert model_version(params=other, data_snapshot=7, **base) != v


class _ScoresFirstFeature:
    """Stub model: the score is the (ranked) first feature column."""

    def predict(self, x: np.ndarray) -> np.ndarray:
        return x[:, 0]


def test_metrics_match_scipy_per_session(frame: pl.DataFrame) -> None:
    plan = plan_walk_forward(frame, params=PARAMS)
    _, test, _ = split_rows(frame, plan)
    got = evaluate(_ScoresFirstFeature(), test)  # type: ignore[arg-type]

    ics, rank_ics, hits = [], [], []
    for (_,), rows in test.partition_by("session", as_dict=True).items():
        pred = stats.rankdata(rows.get_column(FEATURE_COLUMNS[0]).to_numpy())
        ret = rows.get_column("fwd_return").to_numpy()
        ics.append(stats.pearsonr(pred, ret).statistic)
        rank_ics.append(stats.spearmanr(pred, ret).statistic)
        hits.append(np.mean(np.sign(pred - pred.mean()) == np.sign(ret - ret.mean())))
    assert got.ic == pytest.approx(np.mean(ics))
    assert got.rank_ic == pytest.approx(np.mean(rank_ics))
    assert got.hit_rate == pytest.approx(np.mean(hits))
    assert (got.sessions, got.rows) == (PARAMS.test_sessions, test.height)


def test_artifact_round_trip_and_checksum_mismatch(frame: pl.DataFrame, tmp_path: Path) -> None:
    plan = plan_walk_forward(frame, params=PARAMS)
    pipeline = train_model(frame, plan=plan, params=PARAMS).pipeline
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


@pytest.mark.parametrize(
    "changes", [{"horizon": 0}, {"train_sessions": 10}, {"test_sessions": 1}, {"alpha": 0.0}]
)
def test_invalid_params_are_refused(changes: dict[str, float]) -> None:
    values = {"horizon": 5, "train_sessions": 120, "test_sessions": 20, "alpha": 1.0, "seed": 0}
    with pytest.raises(ValueError):
        ModelParams(**{**values, **changes})
