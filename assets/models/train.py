"""Walk-forward training of the cross-sectional return model (pure: polars in, sklearn out).

The out-of-sample test window is the last ``test_sessions`` sessions whose labels are known. The
evaluation model trains on the ``train_sessions`` sessions ending ``horizon`` sessions before the
test window, and only on rows whose label was settled before the test starts (the embargo), so
no training label overlaps the test period. The production model is then refit on the latest
``train_sessions`` labelled sessions. Features and the target are ranked within each session
(see normalize.py), then scaled and fit by a Ridge regression; rows with a null are dropped.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import polars as pl
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from assets.models.normalize import cross_sectional_ranks
from warehouse.schemas import FEATURE_COLUMNS

ALGORITHM = "ridge"
MIN_ROWS_PER_SESSION = 3


@dataclass(frozen=True)
class ModelParams:
    """Walk-forward settings; mirrors quantlake.settings.ModelSettings."""

    horizon: int
    train_sessions: int
    test_sessions: int
    alpha: float
    seed: int

    def __post_init__(self) -> None:
        if not 1 <= self.horizon <= 60:
            raise ValueError(f"horizon must be 1..60 sessions, got {self.horizon}")
        if self.train_sessions < 60 or self.test_sessions < 5:
            raise ValueError(
                f"need train_sessions >= 60 and test_sessions >= 5, got "
                f"{self.train_sessions} and {self.test_sessions}"
            )
        if not self.alpha > 0:
            raise ValueError(f"alpha must be positive, got {self.alpha}")


@dataclass(frozen=True)
class WalkForward:
    """The evaluation train/test windows and the production (final) train window."""

    train_start: dt.date
    train_end: dt.date
    test_start: dt.date
    test_end: dt.date
    final_start: dt.date
    final_end: dt.date


@dataclass(frozen=True)
class OutOfSample:
    """Means over test sessions of the per-session Pearson IC, rank IC and hit rate."""

    ic: float
    rank_ic: float
    hit_rate: float
    sessions: int
    rows: int


@dataclass(frozen=True)
class TrainedModel:
    """The production pipeline, its evaluation and the rows each fit used."""

    pipeline: Pipeline
    plan: WalkForward
    oos: OutOfSample
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


def plan_walk_forward(frame: pl.DataFrame, *, params: ModelParams) -> WalkForward:
    """Place the test, embargoed train and final train windows on the frame's sessions."""
    sessions = frame.get_column("session").unique().sort().to_list()
    labelled = frame.filter(pl.col("fwd_return").is_not_null())
    known = labelled.get_column("session").unique().sort().to_list()
    test = known[-params.test_sessions :]
    train_end = sessions.index(test[0]) - params.horizon - 1 if test else -1
    train_start = train_end - params.train_sessions + 1
    if len(test) < params.test_sessions or train_start < 0:
        need = params.train_sessions + params.horizon + params.test_sessions + params.horizon
        raise ValueError(
            f"not enough history: walk-forward needs at least {need} sessions "
            f"(train + embargo + test + label horizon), the features hold {len(sessions)}; "
            "ingest more history or lower QUANTLAKE_MODEL__TRAIN_SESSIONS"
        )
    final = known[-params.train_sessions :]
    return WalkForward(
        sessions[train_start], sessions[train_end], test[0], test[-1], final[0], final[-1]
    )


def _rows(frame: pl.DataFrame, start: dt.date, end: dt.date) -> pl.DataFrame:
    window = frame.filter(pl.col("session").is_between(start, end))
    return window.drop_nulls([*FEATURE_COLUMNS, "fwd_return"])


def fit(rows: pl.DataFrame, *, params: ModelParams) -> Pipeline:
    """Fit scaler + Ridge on session-ranked features against the session-ranked forward return."""
    if rows.is_empty():
        raise ValueError("no complete training rows (features and label) in the train window")
    ranked = cross_sectional_ranks(rows, [*FEATURE_COLUMNS, "fwd_return"])
    x = ranked.select(FEATURE_COLUMNS).to_numpy().astype(np.float64)
    y = ranked.get_column("fwd_return").to_numpy().astype(np.float64)
    pipeline = Pipeline(
        [
            ("scale", StandardScaler()),
            ("ridge", Ridge(alpha=params.alpha, random_state=params.seed)),
        ]
    )
    return pipeline.fit(x, y)


def predict(pipeline: Pipeline, rows: pl.DataFrame) -> np.ndarray:
    """Score complete feature rows (ranked per session first)."""
    ranked = cross_sectional_ranks(rows, FEATURE_COLUMNS)
    return pipeline.predict(ranked.select(FEATURE_COLUMNS).to_numpy().astype(np.float64))


def _demeaned_sign(column: str) -> pl.Expr:
    return (pl.col(column) - pl.col(column).mean()).sign()


def evaluate(pipeline: Pipeline, rows: pl.DataFrame) -> OutOfSample:
    """Return per-session IC, rank IC and demeaned sign agreement, averaged over sessions."""
    scored = rows.select("session", "fwd_return").with_columns(
        pred=pl.Series(predict(pipeline, rows))
    )
    per_session = (
        scored.group_by("session", maintain_order=True)  # a fixed order keeps the means bitwise
        .agg(
            n=pl.len(),
            ic=pl.corr("pred", "fwd_return"),
            rank_ic=pl.corr("pred", "fwd_return", method="spearman"),
            hit=(_demeaned_sign("pred") == _demeaned_sign("fwd_return")).mean(),
        )
        .filter(pl.col("n") >= MIN_ROWS_PER_SESSION)
    )
    if per_session.is_empty():
        raise ValueError(f"no test session has {MIN_ROWS_PER_SESSION}+ complete rows to score")
    # A session with constant predictions or returns has an undefined (NaN) IC: skip it.
    means = per_session.select(pl.col("ic", "rank_ic", "hit").fill_nan(None).mean())
    ic, rank_ic, hit = (math.nan if v is None else float(v) for v in means.row(0))
    return OutOfSample(ic, rank_ic, hit, len(per_session), len(scored))


def split_rows(
    frame: pl.DataFrame, plan: WalkForward
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Return the complete (train, test, final) rows of ``plan``; train labels settle pre-test."""
    train = _rows(frame, plan.train_start, plan.train_end).filter(
        pl.col("label_session") < plan.test_start
    )
    test = _rows(frame, plan.test_start, plan.test_end)
    return train, test, _rows(frame, plan.final_start, plan.final_end)


def train_model(frame: pl.DataFrame, *, plan: WalkForward, params: ModelParams) -> TrainedModel:
    """Evaluate out of sample on ``plan``, then refit on the final window."""
    train, test, final = split_rows(frame, plan)
    oos = evaluate(fit(train, params=params), test)
    return TrainedModel(fit(final, params=params), plan, oos, len(final))
