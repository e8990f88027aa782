"""The minute-bar ingest flow on real intraday files and against a local Alpaca server.

Two incremental runs equal one full run, a rerun writes nothing (no snapshot), bad rows are
quarantined with their rule, and where two sources disagree on a bar both stay in raw while
curated keeps the one known later, counted as a conflict.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import polars as pl
import pytest

from flows.ingest.minute import MinuteDataQualityError, ingest_minute_flow
from tests.support.alpaca_data_server import AlpacaDataServer, intraday_bars
from warehouse import schemas
from warehouse.lake import Lakehouse

pytestmark = pytest.mark.integration

ETF = Path("intraday/us_etf_1m_2023-2025")
CRYPTO = Path("intraday/crypto_binanceus_1m_2023-03")
DBB = "DBB_1min_2023-07-10_to_2025-07-08.csv.gz"
NOW = dt.datetime(2025, 8, 1, tzinfo=dt.UTC)
BAR_COLUMNS = [c for c in schemas.CURATED_MINUTE_BARS.column_names if c not in ("batch_id",)]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefect_server: None):
    """Return a function pointing the settings at a data folder and minute-file folders."""

    def point(data: str, *folders: Path, **extra: str) -> Path:
        monkeypatch.setenv("QUANTLAKE_DATA_DIR", str(tmp_path / data))
        monkeypatch.setenv("QUANTLAKE_MINUTE__SOURCE", "file")
        monkeypatch.setenv("QUANTLAKE_MINUTE__DIRECTORIES", json.dumps([str(f) for f in folders]))
        monkeypatch.setenv("QUANTLAKE_MINUTE__NAIVE_TIMEZONE", "UTC")
        for name, value in extra.items():
            monkeypatch.setenv(name, value)
        return tmp_path / data / "lake"

    return point


def write_lines(folder: Path, name: str, lines: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(gzip.compress("\n".join(lines).encode() + b"\n"))


def curated(lake_dir: Path) -> pl.DataFrame:
    with Lakehouse(lake_dir) as lake:
        frame = lake.read(schemas.CURATED_MINUTE_BARS, order_by="symbol, ts")
    return frame.drop("batch_id", "knowledge_time")


def test_two_incremental_runs_equal_one_full_run_and_a_rerun_writes_nothing(
    env, shared_data: Path, tmp_path: Path
) -> None:
    lines = gzip.decompress((shared_data / ETF / DBB).read_bytes()).decode().splitlines()
    cut = 20_000
    growing = tmp_path / "drop"
    write_lines(growing, DBB, lines[:cut])
    lake_dir = env("incremental", growing)
    first = ingest_minute_flow(now=NOW)
    assert (first.status, first.validation, first.rows_in) == ("loaded", "passed", cut - 1)
    write_lines(growing, DBB, lines)  # the vendor's file grew
    second = ingest_minute_flow(now=NOW)
    assert second.status == "loaded"
    assert second.rows_fetched == len(lines) - 1
    assert second.rows_in == len(lines) - cut  # only the bars after DBB's watermark
    assert second.first_ts > first.last_ts
    with Lakehouse(lake_dir) as lake:
        before = lake.current_snapshot()
    again = ingest_minute_flow(now=NOW)
    assert again.status == "up_to_date"
    with Lakehouse(lake_dir) as lake:
        assert lake.current_snapshot() == before
        assert lake.count(schemas.BATCHES) == 2

    full_dir = env("full", shared_data / ETF / DBB)
    full = ingest_minute_flow(now=NOW)
    assert full.rows_in == len(lines) - 1
    assert curated(lake_dir).equals(curated(full_dir))


def test_a_batch_records_raw_quarantine_results_and_the_batch(
    env, shared_data: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "bad"
    write_lines(
        folder,
        "ZZZ_1min.csv.gz",
        [
            "timestamp,open,high,low,close,volume",
            "2023-11-24 14:30:00,10.0,10.5,9.9,10.2,100",  # 09:30 New York, a half-day
            "2023-11-24 17:59:00,10.2,10.3,10.1,10.2,100",  # last regular minute (close 13:00)
            "2023-11-24 18:00:00,10.2,10.15,10.1,10.2,100",  # post-market, high too low
            "2023-11-24 18:01:00,10.2,10.2,10.2,10.2,-5",  # negative volume
        ],
    )
    lake_dir = env("bad", folder, QUANTLAKE_GATES__MAX_QUARANTINE_FRACTION="0.5")
    summary = ingest_minute_flow(now=NOW)
    assert summary.rows_in == 4 and summary.rows_quarantined == 2
    assert summary.quarantined_by_rule == {"ohlc_consistent": 1, "volume_nonnegative": 1}
    assert summary.validation == "passed"  # 50% quarantined is within the 50% allowed here
    with Lakehouse(lake_dir) as lake:
        kept = lake.read(schemas.CURATED_MINUTE_BARS, order_by="ts")
        quarantined = lake.read(schemas.QUARANTINE_MINUTE_BARS, order_by="row_number")
        results = lake.read(schemas.VALIDATION_RESULTS)
        (batch,) = lake.read(schemas.BATCHES).iter_rows(named=True)
        assert lake.count(schemas.RAW_MINUTE_BARS) == 4
    assert kept.get_column("market_phase").to_list() == ["regular", "regular"]
    assert quarantined.get_column("market_phase").to_list() == ["post", "post"]
    assert quarantined.get_column("detail").to_list() == [
        "open 10.2 > high 10.15, close 10.2 > high 10.15",
        "volume -5.0 < 0",
    ]
    assert set(results.get_column("suite")) == {"minute_bars"}
    assert (
        results.filter(pl.col("rule") == "ohlc_consistent").get_column("unexpected_count").item()
        == 1
    )
    assert (batch["dataset"], batch["status"], batch["rows_quarantined"]) == (
        "minute_bars",
        "passed",
        2,
    )
    assert batch["first_session"] == batch["last_session"] == dt.date(2023, 11, 24)


def test_crypto_and_equity_files_load_together(env, shared_data: Path) -> None:
    lake_dir = env("both", shared_data / CRYPTO, shared_data / ETF / DBB)
    summary = ingest_minute_flow(now=NOW)
    assert summary.validation == "passed"
    assert summary.rows_in == 3 * 30_240 + 38_964
    assert summary.warnings["volume_positive"] == 12_971 + 658 + 72
    frame = curated(lake_dir)
    phases = frame.group_by("asset_class").agg(pl.col("market_phase").unique().sort())
    # DBB trades only in the extended session (no bar on a holiday or at night).
    assert dict(phases.iter_rows()) == {"crypto": ["24h"], "us_equity": ["post", "pre", "regular"]}
    assert summary.warnings["in_trading_hours"] == 0
    btc = frame.filter(pl.col("symbol") == "BTC/USD")
    assert btc.get_column("session").min() == dt.date(2023, 3, 1)
    assert btc.get_column("session").max() == dt.date(2023, 3, 21)


def test_a_batch_over_the_quarantine_limit_fails_the_run_and_keeps_its_watermark(
    env, tmp_path: Path
) -> None:
    folder = tmp_path / "bad"
    write_lines(
        folder,
        "ZZZ_1min.csv.gz",
        ["timestamp,open,high,low,close,volume", "2023-11-24 18:00:00,10.2,10.1,10.3,10.2,100"],
    )
    lake_dir = env("limit", folder)
    with pytest.raises(MinuteDataQualityError, match="1 ohlc_consistent") as failed:
        ingest_minute_flow(now=NOW)
    # Its one row was quarantined: the error must not say good rows landed.
    assert "none of its rows passed: nothing reached curated" in str(failed.value)
    with Lakehouse(lake_dir) as lake:
        assert lake.read(schemas.BATCHES).get_column("status").to_list() == ["failed"]
        assert lake.count(schemas.CURATED_MINUTE_BARS) == 0
        before = lake.current_snapshot()
    # The same bad data again is the same batch: it fails again and writes nothing.
    with pytest.raises(MinuteDataQualityError):
        ingest_minute_flow(now=NOW)
    with Lakehouse(lake_dir) as lake:
        assert lake.current_snapshot() == before


def test_a_headerless_epoch_file_loads_with_its_layout_from_settings(env, tmp_path: Path) -> None:
    # As exchanges publish them: no header, open time in epoch seconds, a pair in the name.
    lines = [
        "1677628800,23143.82,23152.65,23140.02,23152.65,0.26395",
        "1677628860,23152.65,23152.65,23152.65,23152.65,0.0",
    ]
    write_lines(tmp_path / "exchange", "BTCUSD_1m_20230301.csv.gz", lines)
    layout = {
        "QUANTLAKE_MINUTE__COLUMNS": '["open_time","open","high","low","close","volume"]',
        "QUANTLAKE_MINUTE__EPOCH_UNIT": "s",
        "QUANTLAKE_MINUTE__ASSET_CLASS": "crypto",
    }
    lake_dir = env("epoch", tmp_path / "exchange", **layout)
    summary = ingest_minute_flow(now=NOW)
    assert (summary.validation, summary.rows_in, summary.rows_passed) == ("passed", 2, 2)
    frame = curated(lake_dir)
    assert frame.get_column("symbol").to_list() == ["BTC/USD", "BTC/USD"]
    assert frame.get_column("ts").to_list() == [
        dt.datetime(2023, 3, 1, 0, 0, tzinfo=dt.UTC),
        dt.datetime(2023, 3, 1, 0, 1, tzinfo=dt.UTC),
    ]


KEY = "PKTESTKEY0000000001"
SECRET = "test-secret-9f8e7d6c5b4a"


def alpaca_env(url: str, start: str) -> dict[str, str]:
    return {
        "QUANTLAKE_MINUTE__SOURCE": "alpaca",
        "QUANTLAKE_MINUTE__SYMBOLS": '["DBB", "FXY"]',
        "QUANTLAKE_MINUTE__CRYPTO_SYMBOLS": '["BTC/USD"]',
        "QUANTLAKE_MINUTE__HISTORY_START": start,
        "QUANTLAKE_MINUTE__CHUNK_DAYS": "2",
        "QUANTLAKE_ALPACA__API_KEY": KEY,
        "QUANTLAKE_ALPACA__SECRET_KEY": SECRET,
        "QUANTLAKE_ALPACA__DATA_URL": url,
    }


@pytest.fixture(scope="module")
def served(shared_data: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Real minute bars as the local Alpaca server serves them: equities, crypto."""
    return intraday_bars(shared_data / ETF), intraday_bars(shared_data / CRYPTO)


def test_alpaca_runs_in_steps_equal_one_run(env, served, tmp_path: Path) -> None:
    equities, crypto = served
    with AlpacaDataServer(
        api_key=KEY, secret_key=SECRET, minute_bars=equities, crypto_bars=crypto, page_size=1500
    ) as server:
        settings = alpaca_env(server.url, "2023-03-08T00:00:00Z")
        stepped = env("stepped", **settings)
        t1, t2 = (
            dt.datetime(2023, 3, 13, 15, 7, 30, tzinfo=dt.UTC),
            dt.datetime(2023, 3, 16, tzinfo=dt.UTC),
        )
        one = ingest_minute_flow(now=t1)
        two = ingest_minute_flow(now=t2)
        assert (one.status, two.status) == ("loaded", "loaded")
        assert one.last_ts == dt.datetime(2023, 3, 13, 15, 6, tzinfo=dt.UTC)  # whole minutes only
        assert ingest_minute_flow(now=t2).status == "up_to_date"
        paged = [r for r in server.requests if "page_token" in r.query and r.query["page_token"]]
        assert paged, "the window needs several pages"
        whole = env("whole", **settings)
        ingest_minute_flow(now=t2)
    assert curated(stepped).equals(curated(whole))
    assert set(curated(whole).get_column("symbol")) == {"BTC/USD"}  # no ETF bars before July


def test_sources_that_disagree_keep_both_in_raw_and_the_later_in_curated(
    env, served, shared_data: Path
) -> None:
    equities, _ = served
    start, end = dt.datetime(2023, 11, 1, tzinfo=dt.UTC), dt.datetime(2023, 11, 8, tzinfo=dt.UTC)
    lake_dir = env("conflicts", shared_data / ETF / DBB)
    ingest_minute_flow(now=NOW)
    dbb = equities.filter(pl.col("symbol") == "DBB", pl.col("ts") >= start, pl.col("ts") < end)
    changed = dbb.with_columns(
        volume=pl.when(pl.int_range(pl.len()) < 5).then(pl.col("volume") + 1).otherwise("volume")
    )
    with AlpacaDataServer(api_key=KEY, secret_key=SECRET, minute_bars=changed) as server:
        settings = alpaca_env(server.url, start.isoformat()) | {
            "QUANTLAKE_MINUTE__SYMBOLS": '["DBB"]',
            "QUANTLAKE_MINUTE__CRYPTO_SYMBOLS": "[]",
            "QUANTLAKE_MINUTE__CHUNK_DAYS": "366",
        }
        env("conflicts", **settings)
        # Known a day after the files were loaded: Alpaca's bars are the later word.
        later = ingest_minute_flow(now=NOW + dt.timedelta(days=1))
    assert later.rows_in == dbb.height and later.conflicts == 5
    with Lakehouse(lake_dir) as lake:
        raw = lake.query(
            "SELECT source, count(*) AS n FROM raw.minute_bars WHERE symbol = 'DBB' AND ts >= ? "
            "AND ts < ? GROUP BY source ORDER BY source",
            [start, end],
        )
        stored = lake.read(
            schemas.CURATED_MINUTE_BARS,
            where="ts >= ? AND ts < ?",
            params=[start, end],
            order_by="ts",
        )
    assert raw.rows() == [("alpaca_minute", dbb.height), ("minute_files", dbb.height)]
    assert stored.get_column("source").unique().to_list() == ["alpaca_minute"]
    assert stored.get_column("volume").to_list() == changed.get_column("volume").to_list()
