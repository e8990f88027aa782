"""A replay (``quantlake run --now`` in the past) plans and uses only the bars known then.

The lakehouse holds 700 sessions of bars, each known the evening after its session. Replayed at
the evening of session 600, the daily assets compute that session, train on what was known by
then and score it: nothing after it reaches a feature, label, model or prediction. Replayed
before any bar was known, they refuse and say why (the features asset used to compute nothing,
then fail on a missing snapshot).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from assets.run import DailyAssetsFailed, materialize_daily
from quantlake.settings import ModelSettings, Settings
from tests.support.model_config import lenient_model_config
from tests.unit.assets.signal_bars import reversal_bars
from warehouse.lake import Lakehouse
from warehouse.schemas import CURATED_BARS, FEATURES, LABELS, MODELS, PREDICTIONS

MODEL = {"horizon": 5, "train_sessions": 252, "test_sessions": 63, "seed": 0}
REPLAYED = 600


@pytest.fixture
def days(lake: Lakehouse) -> list[dt.date]:
    bars = reversal_bars(n_symbols=10, n_sessions=700, seed=6)
    with lake.transaction("test bars") as txn:
        txn.merge(CURATED_BARS, bars)
    return bars.get_column("session").unique().sort().to_list()


@pytest.fixture
def settings(tmp_path: Path, lake: Lakehouse) -> Settings:
    config = lenient_model_config(tmp_path)  # a champion to score with, whatever its IC
    return Settings(data_dir=tmp_path, model=ModelSettings(**MODEL, config=str(config)))


def _evening(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(23), dt.UTC)  # after 22:00, when it became known


def test_a_replay_computes_trains_and_scores_nothing_after_its_time(
    days: list[dt.date], settings: Settings, lake: Lakehouse
) -> None:
    day = days[REPLAYED]
    result = materialize_daily(
        instance=dg.DagsterInstance.ephemeral(), settings=settings, as_of=_evening(day)
    )

    assert result.last_session == day and result.retrain == "no model is registered yet"
    assert lake.read(FEATURES).get_column("session").max() == day
    labels = lake.read(LABELS)
    assert labels.get_column("session").max() == day
    assert labels.get_column("label_session").max() == day
    models = lake.read(MODELS)
    assert models.height == 2 and (models.get_column("test_end") < day).all()
    assert models.filter(pl.col("status") == "champion").height == 1
    predictions = lake.read(PREDICTIONS)
    assert predictions.get_column("session").unique().to_list() == [day]
    assert predictions.height == 10


def test_a_replay_before_any_bar_was_known_refuses_and_says_why(
    days: list[dt.date], settings: Settings, lake: Lakehouse
) -> None:
    before = _evening(days[0]) - dt.timedelta(days=1)
    with pytest.raises(DailyAssetsFailed, match="no curated bar was known at"):
        materialize_daily(instance=dg.DagsterInstance.ephemeral(), settings=settings, as_of=before)
    assert lake.count(FEATURES) == 0
