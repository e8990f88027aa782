"""Walk-forward folds with purging and an embargo (pure: session lists in, windows out).

The out-of-sample span is the last ``folds * test_sessions`` sessions whose label is known,
cut into consecutive folds of ``test_sessions``. A fold's train window ends ``embargo``
(= horizon) sessions before its test starts: rolling, it holds ``train_sessions`` sessions;
expanding, everything from the first session (at least ``train_sessions``). Rows are then
purged: a training row is kept only if its label settled before the test starts, so no
training label's window overlaps a test session even where a symbol skipped sessions.
The production (final) model trains on the latest labelled sessions: the last
``train_sessions`` (rolling) or all of them (expanding).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import polars as pl

from warehouse.schemas import FEATURE_COLUMNS

Window = Literal["rolling", "expanding"]


@dataclass(frozen=True)
class Fold:
    """One walk-forward step: fit on [train_start, train_end], score [test_start, test_end]."""

    train_start: dt.date
    train_end: dt.date
    test_start: dt.date
    test_end: dt.date


@dataclass(frozen=True)
class WalkForward:
    """The evaluation folds and the production (final) train window."""

    folds: tuple[Fold, ...]
    final_start: dt.date
    final_end: dt.date
    embargo: int
    window: Window

    @property
    def test_start(self) -> dt.date:
        return self.folds[0].test_start

    @property
    def test_end(self) -> dt.date:
        return self.folds[-1].test_end


def plan_folds(
    frame: pl.DataFrame,
    *,
    horizon: int,
    train_sessions: int,
    test_sessions: int,
    folds: int,
    window: Window,
) -> WalkForward:
    """Place the folds and the final window on the sessions of a features + labels frame."""
    sessions = frame.get_column("session").unique().sort().to_list()
    known = frame.filter(pl.col("fwd_return").is_not_null())
    labelled = known.get_column("session").unique().sort().to_list()
    span = folds * test_sessions
    if len(labelled) < span:
        raise _short(horizon, train_sessions, test_sessions, folds, len(sessions))
    tests = [
        labelled[len(labelled) - span + k * test_sessions :][:test_sessions] for k in range(folds)
    ]
    planned = []
    for test in tests:
        train_end = sessions.index(test[0]) - horizon - 1
        train_start = 0 if window == "expanding" else train_end - train_sessions + 1
        if train_start < 0 or train_end - train_start + 1 < train_sessions:
            raise _short(horizon, train_sessions, test_sessions, folds, len(sessions))
        planned.append(Fold(sessions[train_start], sessions[train_end], test[0], test[-1]))
    final = labelled if window == "expanding" else labelled[-train_sessions:]
    return WalkForward(tuple(planned), final[0], final[-1], horizon, window)


def _short(horizon: int, train: int, test: int, folds: int, have: int) -> ValueError:
    need = train + horizon + folds * test + horizon
    return ValueError(
        f"not enough history: walk-forward needs at least {need} sessions (train {train} + "
        f"embargo {horizon} + {folds} folds x {test} test + label horizon {horizon}), the "
        f"features hold {have}; ingest more history, lower QUANTLAKE_MODEL__TRAIN_SESSIONS or "
        "__TEST_SESSIONS, or use fewer folds in assets/models/config.toml"
    )


def complete_rows(frame: pl.DataFrame, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Return the rows in [start, end] with every feature and the label present."""
    window = frame.filter(pl.col("session").is_between(start, end))
    return window.drop_nulls([*FEATURE_COLUMNS, "fwd_return"])


def fold_rows(frame: pl.DataFrame, fold: Fold) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Return the complete (train, test) rows of ``fold``; train labels settle before the test."""
    train = complete_rows(frame, fold.train_start, fold.train_end).filter(
        pl.col("label_session") < fold.test_start
    )
    return train, complete_rows(frame, fold.test_start, fold.test_end)


def final_rows(frame: pl.DataFrame, plan: WalkForward) -> pl.DataFrame:
    """Return the complete rows the production model is fit on."""
    return complete_rows(frame, plan.final_start, plan.final_end)
