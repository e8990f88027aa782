"""The whole daily cycle on real data: the Yahoo 100-symbol daily file (2010-2021, ../shared/data)
loaded by the file source, then features, model, predictions and orders, replayed at two times.

1. ``--now`` the evening of 2022-01-03, the session after the file's last (2021-12-31): the cycle
   loads the file and trades; a rerun at the same time writes no features, labels, models or
   predictions; and replaying 2016-06-15 on that lakehouse (whose bars were all ingested on
   2022-01-03) refuses and says why, instead of computing nothing and failing on a missing
   snapshot (the reported failure).
2. ``--now`` the evening of 2016-06-15, in the middle of the file, on a new lakehouse fed the file
   as it stood that day (its rows up to 2016-06-15): nothing after 2016-06-15 reaches a bar,
   feature, model, prediction or order. (Fed the whole file, the ingest quarantines the 47% of
   rows dated after the run's time as session_not_future and the batch fails validation.)

30 of the 100 symbols (28 listed throughout, PYPL listed in 2015 and MRNA in 2018) keep the
runtime modest. The promotion gate admits any model here: on 2019-2021 large caps no model earns
promotion under the shipped gate (tests/unit/assets/test_yahoo_100.py), and this test is about the
cycle, not the signal.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from assets.run import DailyAssetsFailed, materialize_daily
from quantlake.cycle import CycleResult, run_cycle
from tests.support.model_config import lenient_model_config
from warehouse import schemas
from warehouse.lake import Lakehouse, last_change

pytestmark = pytest.mark.integration

YAHOO_100 = Path("equities_daily/yahoo_us_equities_100_daily_2010-2021.csv.gz")
SYMBOLS = ("AAPL", "ABT", "ACN", "ADBE", "AMD", "AMGN", "AMZN", "BA", "BAC", "CAT", "CSCO",
           "CVX", "DIS", "F", "GE", "GOOGL", "GS", "HD", "IBM", "INTC", "JNJ", "JPM", "KO",
           "MSFT", "NFLX", "NVDA", "ORCL", "PFE", "MRNA", "PYPL")  # fmt: skip
AFTER_LAST = dt.datetime(2022, 1, 3, 22, tzinfo=dt.UTC)  # 17:00 New York, after the close
MIDDLE = dt.datetime(2016, 6, 15, 22, tzinfo=dt.UTC)


def _settings(data: Path, file: Path, *, monkeypatch: pytest.MonkeyPatch):
    """Return settings for the file source on ``file``, with the data folder ``data``."""
    from quantlake import runtime
    from quantlake.settings import load_settings

    monkeypatch.setenv("QUANTLAKE_DATA_DIR", str(data / "data"))
    monkeypatch.setenv("QUANTLAKE_SOURCE", "file")
    monkeypatch.setenv("QUANTLAKE_FILE_PATH", str(file))
    monkeypatch.setenv("QUANTLAKE_SYMBOLS", json.dumps(list(SYMBOLS)))
    monkeypatch.setenv("QUANTLAKE_MODEL__CONFIG", str(lenient_model_config(data)))
    loaded = load_settings()
    runtime.prepare(loaded)
    return loaded


def _assert_a_full_cycle(settings, result: CycleResult, *, now: dt.datetime, last: dt.date) -> None:
    """Features, a champion, predictions and orders for ``last``, and nothing after ``now``."""
    assert result.ingest.status == "loaded" and result.ingest.validation == "passed"
    assert result.ingest.last_session == last
    assert result.refused is None, result.refused
    assert result.trade.orders_sent > 0
    with Lakehouse(settings.lake_dir) as lake:
        bars = lake.read(schemas.CURATED_BARS)
        features = lake.read(schemas.FEATURES)
        labels = lake.read(schemas.LABELS).drop_nulls("label_session")
        champion = lake.read(schemas.MODELS, where="status = 'champion'")
        predictions = lake.read(schemas.PREDICTIONS)
        orders = lake.read(schemas.ORDERS)
    # Only what was known at ``now``: bars of closed sessions, known by then.
    assert bars.get_column("session").max() == last
    assert (bars.get_column("knowledge_time") <= now).all()
    assert set(bars.get_column("symbol")) <= set(SYMBOLS)
    assert features.get_column("session").max() == last
    assert labels.get_column("label_session").max() <= last
    # A champion trained and tested on sessions whose forward returns were known by ``last``.
    assert champion.height == 1
    model = champion.row(0, named=True)
    assert model["test_end"] < last and model["train_end"] < last
    # Predictions for the latest session, scored by the champion, for every symbol with all
    # its features (a symbol still in its 253-bar warm-up has none).
    complete = features.filter(pl.col("session") == last).drop_nulls(list(schemas.FEATURE_COLUMNS))
    assert predictions.get_column("session").unique().to_list() == [last]
    assert predictions.get_column("model_version").unique().to_list() == [model["model_version"]]
    assert sorted(predictions.get_column("symbol")) == sorted(complete.get_column("symbol"))
    assert complete.height >= 25
    # Orders for the trade's session, from the champion's predictions, none before ``now``.
    assert result.trade.session == last
    assert orders.get_column("session").unique().to_list() == [last]
    assert orders.get_column("model_version").unique().to_list() == [model["model_version"]]
    assert set(orders.get_column("symbol")) <= set(predictions.get_column("symbol"))


def _changed(settings) -> dict[str, int]:
    """Return the snapshot that last changed each derived table."""
    with Lakehouse(settings.lake_dir) as lake:
        at = lake.current_snapshot()
        derived = (schemas.FEATURES, schemas.LABELS, schemas.MODELS, schemas.PREDICTIONS)
        return {d.table: last_change(lake, d, as_of=at) for d in derived}


def test_the_session_after_the_files_last_a_rerun_and_an_earlier_replay(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefect_server: None
) -> None:
    settings = _settings(tmp_path, shared_data / YAHOO_100, monkeypatch=monkeypatch)
    first = run_cycle(settings, now=AFTER_LAST, on_stage=lambda _: None)
    _assert_a_full_cycle(settings, first, now=AFTER_LAST, last=dt.date(2021, 12, 31))
    # 2010-2021 is longer than the model's window plus the features' memory: the rerun reads
    # the latest session's history from a later bar than the first run did.
    changed = _changed(settings)

    again = run_cycle(settings, now=AFTER_LAST, on_stage=lambda _: None)

    assert again.ingest.status == "already_loaded"  # the same file: the batch is stored
    assert again.trade.orders_sent == 0
    assert _changed(settings) == changed  # no new snapshot of features, models or predictions

    instance = dg.DagsterInstance.from_config(str(settings.dagster_home))
    try:
        with pytest.raises(DailyAssetsFailed, match="ingested at 2022-01-03 22:00 UTC or later"):
            materialize_daily(instance=instance, settings=settings, as_of=MIDDLE)
    finally:
        instance.dispose()
    assert _changed(settings) == changed


def test_a_time_in_the_middle_of_the_file_uses_nothing_after_it(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefect_server: None
) -> None:
    as_it_stood = tmp_path / "yahoo_us_equities_100_daily_2010-2016-06-15.csv"
    rows = pl.read_csv(shared_data / YAHOO_100, try_parse_dates=True)
    rows.filter(pl.col("date") <= MIDDLE.date()).write_csv(as_it_stood)
    settings = _settings(tmp_path, as_it_stood, monkeypatch=monkeypatch)

    result = run_cycle(settings, now=MIDDLE, on_stage=lambda _: None)

    _assert_a_full_cycle(settings, result, now=MIDDLE, last=MIDDLE.date())
    with Lakehouse(settings.lake_dir) as lake:
        symbols = set(lake.read(schemas.CURATED_BARS).get_column("symbol"))
    assert "PYPL" in symbols and "MRNA" not in symbols  # listed 2015 and 2018
