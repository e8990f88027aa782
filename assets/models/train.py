"""Walk-forward training of one model specification (pure: polars in, sklearn out).

Features and the target are ranked within each session (normalize.py). Each fold fits the
spec's pipeline on its purged, embargoed train rows and scores its test rows (walk_forward.py);
metrics are summarized per fold and over every test session (metrics.py). The production
pipeline is then refit on the final window. Rows with a null feature or label are dropped.
Rows are kept sorted by (session, symbol) and every estimator is seeded, so the same rows,
spec and seed give the same pipeline, bit for bit.

Context features (config ``[features] extra``) are joined by ``model_frame``. Sentiment differs
across symbols, so it is ranked per session like the bar features. A macro column is one value
per session, identical for every symbol: its per-session rank is a constant and would carry
nothing, and even raw it cannot move one symbol against another in a linear model (it shifts
every score of the session alike, which a cross-sectional ranking ignores). It can only matter
through interactions: the gradient-boosted trees can split on the regime (e.g. high VIX) and
weigh the bar features differently in it. So macro columns pass through un-ranked, in their own
units. Rows missing a context value are dropped (missing stays missing, never imputed).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
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
from warehouse.schemas import FEATURE_COLUMNS, MACRO_FEATURE_COLUMNS, SENTIMENT_FEATURE_COLUMNS

# The context tables a model may opt into, their columns and the keys they join on.
CONTEXT_COLUMNS: dict[str, tuple[str, ...]] = {
    "macro": MACRO_FEATURE_COLUMNS,
    "sentiment": SENTIMENT_FEATURE_COLUMNS,
}
CONTEXT_KEYS: dict[str, tuple[str, ...]] = {
    "macro": ("session",),
    "sentiment": ("symbol", "session"),
}
# Per-session constants: fed to the model as they are, never ranked (see the module docstring).
UNRANKED = frozenset(MACRO_FEATURE_COLUMNS)


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


def feature_names(extra: Sequence[str] = ()) -> tuple[str, ...]:
    """Return the model inputs with the ``extra`` context tables: bar features, then theirs."""
    unknown = sorted(set(extra) - set(CONTEXT_COLUMNS))
    if unknown:
        raise ValueError(f"unknown context tables {unknown}: use {sorted(CONTEXT_COLUMNS)}")
    context = (c for name, cols in CONTEXT_COLUMNS.items() if name in extra for c in cols)
    return (*FEATURE_COLUMNS, *context)


def frame_features(frame: pl.DataFrame) -> tuple[str, ...]:
    """Return the model inputs a model frame holds: bar features, then its context columns."""
    return feature_names([n for n, cols in CONTEXT_COLUMNS.items() if cols[0] in frame.columns])


def _with_context(frame: pl.DataFrame, context: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """Join each context table, then drop the rows missing any of its values."""
    for name in (n for n in CONTEXT_COLUMNS if n in context):
        on, columns = list(CONTEXT_KEYS[name]), CONTEXT_COLUMNS[name]
        frame = frame.join(context[name].select(*on, *columns), on=on, how="left")
        complete = frame.drop_nulls(columns)
        if complete.is_empty() and not frame.is_empty():
            raise ValueError(
                f"no feature row has every {name} value ({', '.join(columns)}): materialize "
                f"the {name} features for these sessions or remove {name!r} from [features] "
                "extra in the model config"
            )
        frame = complete
    return frame


def model_frame(
    features: pl.DataFrame,
    labels: pl.DataFrame,
    *,
    horizon: int,
    context: Mapping[str, pl.DataFrame] | None = None,
) -> pl.DataFrame:
    """Join features with their ``horizon`` labels; sorted by (session, symbol).

    ``context`` maps a context table's name ("macro", "sentiment") to its rows; each is joined
    and the rows without its values are dropped.
    """
    wanted = labels.filter(pl.col("horizon") == horizon).select(
        "symbol", "session", "fwd_return", "label_session"
    )
    frame = _with_context(features.select("symbol", "session", *FEATURE_COLUMNS), context or {})
    return frame.join(wanted, on=["symbol", "session"], how="left").sort("session", "symbol")


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


def _inputs(rows: pl.DataFrame, names: Sequence[str], *, also: Sequence[str] = ()) -> pl.DataFrame:
    """Return ``rows`` with ``names`` ranked per session, except the UNRANKED ones."""
    return cross_sectional_ranks(rows, [*(c for c in names if c not in UNRANKED), *also])


def fit(rows: pl.DataFrame, *, spec: Spec, seed: int) -> Pipeline:
    """Fit ``spec`` on session-ranked features against the session-ranked forward return.

    The inputs are the bar features and the context columns ``rows`` holds (frame_features).
    """
    if rows.is_empty():
        raise ValueError("no complete training rows (features and label) in the train window")
    names = frame_features(rows)
    ranked = _inputs(rows, names, also=["fwd_return"])
    x = ranked.select(names).to_numpy().astype(np.float64)
    y = ranked.get_column("fwd_return").to_numpy().astype(np.float64)
    return build_pipeline(spec, seed=seed).fit(x, y)


def predict(
    pipeline: Pipeline, rows: pl.DataFrame, *, features: Sequence[str] | None = None
) -> np.ndarray:
    """Score complete feature rows (ranked per session first) on ``features``, by default
    the ones ``rows`` holds (frame_features); pass a model artifact's feature_names to score
    with exactly the inputs it was trained on."""
    names = list(frame_features(rows) if features is None else features)
    ranked = _inputs(rows, names)
    return pipeline.predict(ranked.select(names).to_numpy().astype(np.float64))


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
