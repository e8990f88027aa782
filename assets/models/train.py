"""Walk-forward training of one model specification (pure: polars in, sklearn out).

Features and the target are ranked within each session (normalize.py). Each fold fits the
spec's pipeline on its purged, embargoed train rows and scores its test rows (walk_forward.py);
metrics are summarized per fold and over every test session (metrics.py). The production
pipeline is then refit on the final window. Rows with a null feature or label are dropped.
Rows are kept sorted by (session, symbol) and every estimator is seeded, so the same rows,
spec and seed give the same pipeline, bit for bit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import polars as pl
from sklearn.pipeline import Pipeline

from assets.models.estimators import Spec, build_pipeline
from assets.models.metrics import Metrics, session_metrics, summarize
from assets.models.normalize import cross_sectional_ranks
from assets.models.walk_forward import (
    Fold,
    WalkForward,
    Window,
    final_rows,
    fold_rows,
    plan_folds,
)
from warehouse.schemas import FEATURE_COLUMNS


@dataclass(frozen=True)
class ModelParams:
    """Horizon, window lengths and seed; mirrors quantlake.settings.ModelSettings.

    Hyperparameters (the Ridge alpha among them) live in assets/models/config.toml.
    """

    horizon: int
    train_sessions: int
    test_sessions: int
    seed: int

    def __post_init__(self) -> None:
        if not 1 <= self.horizon <= 60:
            raise ValueError(f"horizon must be 1..60 sessions, got {self.horizon}")
        if self.train_sessions < 60 or self.test_sessions < 5:
            raise ValueError(
                f"need train_sessions >= 60 and test_sessions >= 5, got "
                f"{self.train_sessions} and {self.test_sessions}"
            )


@dataclass(frozen=True)
class FoldResult:
    """One fold's window, its out-of-sample metrics and how many rows it trained on."""

    fold: Fold
    metrics: Metrics
    n_train: int

    def as_dict(self) -> dict[str, object]:
        windows = {k: getattr(self.fold, k).isoformat() for k in self.fold.__dataclass_fields__}
        # JSON has no NaN: an undefined metric (a constant score) is written as null.
        metrics = {k: None if v != v else v for k, v in self.metrics.as_dict().items()}
        return {**windows, "n_train": self.n_train, **metrics}


@dataclass(frozen=True)
class Evaluation:
    """Per-fold and overall (all test sessions together) out-of-sample metrics."""

    folds: tuple[FoldResult, ...]
    overall: Metrics

    @property
    def positive_fold_share(self) -> float:
        """Return the share of folds whose mean IC is positive (an undefined IC is not)."""
        return sum(f.metrics.ic > 0 for f in self.folds) / len(self.folds)

    def folds_json(self) -> str:
        return json.dumps([f.as_dict() for f in self.folds], allow_nan=False)


@dataclass(frozen=True)
class TrainedModel:
    """The production pipeline, its walk-forward evaluation and the rows its fit used."""

    spec: Spec
    pipeline: Pipeline
    plan: WalkForward
    evaluation: Evaluation
    n_train: int


def model_frame(features: pl.DataFrame, labels: pl.DataFrame, *, horizon: int) -> pl.DataFrame:
    """Join features with their ``horizon`` labels; sorted by (session, symbol)."""
    wanted = labels.filter(pl.col("horizon") == horizon).select(
        "symbol", "session", "fwd_return", "label_session"
    )
    return (
        features.select("symbol", "session", *FEATURE_COLUMNS)
        .join(wanted, on=["symbol", "session"], how="left")
        .sort("session", "symbol")
    )


def plan_walk_forward(
    frame: pl.DataFrame, *, params: ModelParams, folds: int, window: Window
) -> WalkForward:
    """Place ``folds`` folds and the final window with the settings' horizon and lengths."""
    return plan_folds(
        frame,
        horizon=params.horizon,
        train_sessions=params.train_sessions,
        test_sessions=params.test_sessions,
        folds=folds,
        window=window,
    )


def fit(rows: pl.DataFrame, *, spec: Spec, seed: int) -> Pipeline:
    """Fit ``spec`` on session-ranked features against the session-ranked forward return."""
    if rows.is_empty():
        raise ValueError("no complete training rows (features and label) in the train window")
    ranked = cross_sectional_ranks(rows, [*FEATURE_COLUMNS, "fwd_return"])
    x = ranked.select(FEATURE_COLUMNS).to_numpy().astype(np.float64)
    y = ranked.get_column("fwd_return").to_numpy().astype(np.float64)
    return build_pipeline(spec, seed=seed).fit(x, y)


def predict(pipeline: Pipeline, rows: pl.DataFrame) -> np.ndarray:
    """Score complete feature rows (ranked per session first)."""
    ranked = cross_sectional_ranks(rows, FEATURE_COLUMNS)
    return pipeline.predict(ranked.select(FEATURE_COLUMNS).to_numpy().astype(np.float64))


def _fold(
    frame: pl.DataFrame, fold: Fold, *, spec: Spec, seed: int, lag: int
) -> tuple[FoldResult, pl.DataFrame]:
    train, test = fold_rows(frame, fold)
    scored = test.select("session", "symbol", "fwd_return").with_columns(
        score=pl.Series(predict(fit(train, spec=spec, seed=seed), test), dtype=pl.Float64)
    )
    per_session = session_metrics(scored)
    metrics = summarize(per_session, lag=lag, rows=test.height)
    return FoldResult(fold, metrics, train.height), per_session


def evaluate(frame: pl.DataFrame, plan: WalkForward, *, spec: Spec, seed: int) -> Evaluation:
    """Fit and score ``spec`` on every fold of ``plan``; summarize per fold and overall."""
    lag = plan.embargo - 1
    results = [_fold(frame, f, spec=spec, seed=seed, lag=lag) for f in plan.folds]
    folds = tuple(r for r, _ in results)
    pooled = pl.concat([s for _, s in results])
    overall = summarize(pooled, lag=lag, rows=sum(f.metrics.rows for f in folds))
    return Evaluation(folds, overall)


def train_model(frame: pl.DataFrame, *, plan: WalkForward, spec: Spec, seed: int) -> TrainedModel:
    """Evaluate ``spec`` walk-forward on ``plan``, then refit it on the final window."""
    evaluation = evaluate(frame, plan, spec=spec, seed=seed)
    final = final_rows(frame, plan)
    return TrainedModel(spec, fit(final, spec=spec, seed=seed), plan, evaluation, final.height)
