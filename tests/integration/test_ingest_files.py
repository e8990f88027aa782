"""The ingest flow on real files: the 100-symbol set, and every messy file.

Bad rows are quarantined with their rule, files that are not data are rejected with a message
naming them, what the lakehouse held before is intact, and loading the same batch twice changes
nothing.
"""

from __future__ import annotations

import datetime as dt
import gzip
import shutil
from pathlib import Path

import polars as pl
import pytest

from flows.ingest.daily import DataQualityError, ingest_flow
from quantlake import runtime
from quantlake.settings import load_settings
from warehouse import schemas
from warehouse.lake import Lakehouse

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 11, 22, 3, 0, tzinfo=dt.UTC)
MESSY = "messy/yahoo_appended_daily_kcjpop_2024-08-09"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefect_server: None) -> Path:
    monkeypatch.setenv("QUANTLAKE_DATA_DIR", str(tmp_path / "data"))
    runtime.prepare(load_settings())
    return tmp_path / "data"


def lake_for(data_dir: Path) -> Lakehouse:
    return Lakehouse(data_dir / "lake")


def test_hundred_symbols_load_clean_and_a_second_load_changes_nothing(
    data_dir: Path, shared_data: Path
) -> None:
    path = shared_data / "equities_daily/yahoo_us_equities_100_daily_2010-2021.csv.gz"
    first = ingest_flow(source="file", file_path=str(path), now=NOW, report_to_dagster=False)
    assert (first.status, first.validation) == ("loaded", "passed")
    assert (first.rows_in, first.rows_passed, first.rows_quarantined) == (293_296, 293_296, 0)
    with lake_for(data_dir) as lake:
        snapshot = lake.current_snapshot()
        assert lake.count(schemas.CURATED_BARS) == 293_296
        assert lake.query("SELECT count(DISTINCT symbol) FROM curated.bars").item() == 100
        rules = lake.read(schemas.VALIDATION_RESULTS)
        assert set(rules.get_column("rule")) >= {"prices_not_null", "unique_symbol_session"}

    again = ingest_flow(source="file", file_path=str(path), now=NOW, report_to_dagster=False)
    assert again.status == "already_loaded"
    with lake_for(data_dir) as lake:
        assert lake.current_snapshot() == snapshot


def test_messy_files_land_quarantine_or_reject_and_keep_what_was_there(
    data_dir: Path, shared_data: Path
) -> None:
    etfs = shared_data / "equities_daily/yahoo_us_etfs_12_daily_2010-2023.csv.gz"
    ingest_flow(source="file", file_path=str(etfs), now=NOW, report_to_dagster=False)
    with lake_for(data_dir) as lake:
        before = lake.read(schemas.CURATED_BARS).sort("symbol", "session")

    messy = ingest_flow(
        source="file", file_path=str(shared_data / MESSY), now=NOW, report_to_dagster=False
    )
    assert messy.status == "loaded"
    rejected = " ".join(messy.rejections)
    assert "BRK.B" in rejected and "404 Not Found" in rejected
    assert "TSLA" in rejected  # the JSON error bodies it skipped
    with lake_for(data_dir) as lake:
        after = lake.read(schemas.CURATED_BARS)
        kept = after.filter(pl.col("symbol").is_in(before.get_column("symbol").unique()))
        assert kept.sort("symbol", "session").equals(before)
        landed = dict(after.group_by("symbol").len().rows())
        assert {"AAPL", "AMZN", "GOOGL", "TSLA"} <= set(landed)
        assert "BRK.B" not in landed
        raw_tsla = lake.read(schemas.RAW_BARS, where="symbol = ?", params=["TSLA"])
        assert raw_tsla.height == 550  # every valid line salvaged from between the error bodies
        assert landed["TSLA"] == raw_tsla.get_column("session").n_unique()  # repeats collapse
        quarantined = lake.read(schemas.QUARANTINE_BARS)
        aapl_null = quarantined.filter(
            (pl.col("symbol") == "AAPL") & (pl.col("session") == dt.date(2022, 1, 27))
        )
        assert "prices_not_null" in aapl_null.get_column("rule").to_list()
        dupes = quarantined.filter(pl.col("rule") == "unique_symbol_session")
        assert dupes.filter(pl.col("symbol") == "AAPL").height == 45
        assert (dupes.get_column("detail").str.contains("superseded by row")).all()
        # Exactly one curated row per (symbol, session), and it is the later (final) one.
        assert after.select("symbol", "session").is_unique().all()
        jan31 = after.filter(
            (pl.col("symbol") == "AAPL") & (pl.col("session") == dt.date(2022, 1, 31))
        )
        assert jan31.get_column("volume").to_list() == [115541590.0]
        # The real, unreported splits in these files were detected and curated is adjusted.
        detected = lake.read(schemas.RAW_CORPORATE_ACTIONS, where="source = 'detected'")
        assert {"AMZN", "GOOGL", "TSLA"} <= set(detected.get_column("symbol"))
        for symbol, ex_session, ratio in detected.select(
            "symbol", "ex_session", "split_ratio"
        ).iter_rows():
            around = after.filter(pl.col("symbol") == symbol).sort("session")
            before_split = around.filter(pl.col("session") < ex_session).tail(1)
            on_split = around.filter(pl.col("session") == ex_session)
            jump = on_split.get_column("open").item() / before_split.get_column("close").item()
            assert 0.6 < jump < 1.6, (symbol, ex_session, ratio, jump)  # no split-sized gap left


def test_a_folder_with_only_non_data_fails_loudly_and_stores_nothing_but_the_record(
    data_dir: Path, shared_data: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    shutil.copy(shared_data / MESSY / "BRK.B.csv.gz", folder)
    (folder / "broken.csv.gz").write_bytes(gzip.compress(b"date,symbol,open\n")[:-8])
    with pytest.raises(DataQualityError, match="BRK.B"):
        ingest_flow(source="file", file_path=str(folder), now=NOW, report_to_dagster=False)
    with lake_for(data_dir) as lake:
        assert lake.count(schemas.CURATED_BARS) == 0
        status = lake.read(schemas.BATCHES).get_column("status").to_list()
        assert status == ["failed"]
    # The same bad batch again: still a failure, not a quiet "already loaded".
    with pytest.raises(DataQualityError, match="BRK.B"):
        ingest_flow(source="file", file_path=str(folder), now=NOW, report_to_dagster=False)


def test_a_missing_path_says_what_to_do(data_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(Exception, match="nowhere"):
        ingest_flow(
            source="file", file_path=str(tmp_path / "nowhere"), now=NOW, report_to_dagster=False
        )
