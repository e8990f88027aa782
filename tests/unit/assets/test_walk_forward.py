"""Walk-forward folds: placement, embargo, purging, rolling vs expanding windows."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from assets.features.compute import compute_features, labels
from assets.models.train import ModelParams, model_frame, plan_walk_forward
from assets.models.walk_forward import final_rows, fold_rows
from tests.unit.assets.bars import random_walk_bars

NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
PARAMS = ModelParams(horizon=5, train_sessions=120, test_sessions=20, seed=0)


def _frame(bars: pl.DataFrame) -> pl.DataFrame:
    return model_frame(compute_features(bars, known_at=NOW), labels(bars, horizon=5), horizon=5)


@pytest.fixture(scope="module")
def frame() -> pl.DataFrame:
    return _frame(random_walk_bars(n_symbols=12, n_sessions=450, seed=11))


def _sessions(frame: pl.DataFrame) -> list[dt.date]:
    return frame.get_column("session").unique().sort().to_list()


def test_rolling_folds_are_consecutive_embargoed_and_end_at_the_last_label(
    frame: pl.DataFrame,
) -> None:
    plan = plan_walk_forward(frame, params=PARAMS, folds=3, window="rolling")
    days = _sessions(frame)
    # The last fold ends at the last session whose label is known: h sessions before the end.
    assert plan.test_end == days[-1 - PARAMS.horizon]
    assert plan.final_end == plan.test_end
    for k, fold in enumerate(plan.folds):
        # h sessions lie strictly between the train window and the test window (the embargo).
        assert days.index(fold.test_start) - days.index(fold.train_end) == PARAMS.horizon + 1
        assert days.index(fold.train_end) - days.index(fold.train_start) + 1 == 120
        assert days.index(fold.test_end) - days.index(fold.test_start) + 1 == 20
        if k:
            assert days.index(fold.test_start) == days.index(plan.folds[k - 1].test_end) + 1
    final = final_rows(frame, plan)
    assert final.get_column("session").n_unique() == PARAMS.train_sessions
    assert final.get_column("fwd_return").null_count() == 0


def test_expanding_folds_start_at_the_first_session_and_grow(frame: pl.DataFrame) -> None:
    plan = plan_walk_forward(frame, params=PARAMS, folds=3, window="expanding")
    rolling = plan_walk_forward(frame, params=PARAMS, folds=3, window="rolling")
    days = _sessions(frame)
    assert [f.train_start for f in plan.folds] == [days[0]] * 3
    assert [f.train_end for f in plan.folds] == [f.train_end for f in rolling.folds]
    assert [f.test_start for f in plan.folds] == [f.test_start for f in rolling.folds]
    assert plan.final_end == rolling.final_end
    assert plan.final_start < rolling.final_start


@pytest.mark.parametrize("window", ["rolling", "expanding"])
def test_no_training_label_window_overlaps_a_test_session(frame: pl.DataFrame, window: str) -> None:
    plan = plan_walk_forward(frame, params=PARAMS, folds=4, window=window)  # type: ignore[arg-type]
    for fold in plan.folds:
        train, test = fold_rows(frame, fold)
        test_days = set(test.get_column("session").to_list())
        # Every training row's label window [session, label_session] ends before the test.
        assert train.get_column("label_session").max() < fold.test_start
        assert not test_days & set(train.get_column("label_session").to_list())
        assert not test_days & set(train.get_column("session").to_list())
        assert test.get_column("session").n_unique() == PARAMS.test_sessions


def test_purging_drops_labels_that_reach_into_the_test_when_a_symbol_skips_sessions(
    frame: pl.DataFrame,
) -> None:
    plan = plan_walk_forward(frame, params=PARAMS, folds=1, window="rolling")
    fold = plan.folds[0]
    days = _sessions(frame)
    halt = days[days.index(fold.test_start) - 3 : days.index(fold.test_start) + 3]
    bars = random_walk_bars(n_symbols=12, n_sessions=450, seed=11).filter(
        ~((pl.col("symbol") == "S000") & pl.col("session").is_in(halt))
    )
    gapped = _frame(bars)
    assert plan_walk_forward(gapped, params=PARAMS, folds=1, window="rolling") == plan
    # S000's 5-bar-ahead labels now reach past the test start from inside the train window ...
    inside = gapped.filter(pl.col("session").is_between(fold.train_start, fold.train_end))
    assert inside.get_column("label_session").max() >= fold.test_start
    # ... and the split drops exactly those rows.
    train, _ = fold_rows(gapped, fold)
    reaching = inside.drop_nulls().filter(pl.col("label_session") >= fold.test_start)
    assert reaching.height > 0
    assert train.height == inside.drop_nulls().height - reaching.height


def test_too_little_history_is_refused_with_what_it_needs(frame: pl.DataFrame) -> None:
    # train 120 + embargo 5 + 3 folds x 20 + label horizon 5 = 190 sessions.
    enough = frame.filter(pl.col("session") >= _sessions(frame)[-190])
    assert len(plan_walk_forward(enough, params=PARAMS, folds=3, window="rolling").folds) == 3
    short = frame.filter(pl.col("session") >= _sessions(frame)[-189])
    with pytest.raises(ValueError, match=r"not enough history: .* needs at least 190 sessions"):
        plan_walk_forward(short, params=PARAMS, folds=3, window="rolling")
