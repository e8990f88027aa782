"""The macro and news ingest flows on real files: loads, reruns, increments, revisions, bad files.

Each test has its own data folder; every flow runs against the session's Prefect test server.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from flows.ingest.daily import DataQualityError
from flows.ingest.macro import ingest_macro_flow
from flows.ingest.macro_reads import macro_as_of
from flows.ingest.news import ingest_news_flow
from quantlake import runtime
from quantlake.settings import load_settings
from warehouse import schemas
from warehouse.lake import Lakehouse

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 1, 5, 12, tzinfo=dt.UTC)
LATER = dt.datetime(2026, 2, 5, 12, tzinfo=dt.UTC)
SERIES = ("DGS10", "CPIAUCSL", "GDP", "ICSA")
HEADLINES = ("cnbc_headlines.csv", "guardian_headlines.csv", "reuters_headlines.csv")
BATCH_COLUMNS = ("batch_id", "ingested_at", "row_number", "origin", "line")


@pytest.fixture
def use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefect_server: None):
    """Return a function pointing quantlake at the data folder ``name`` (created on demand)."""

    def point(name: str, **env: str) -> Path:
        monkeypatch.setenv("QUANTLAKE_DATA_DIR", str(tmp_path / name))
        for key in ("QUANTLAKE_NEWS__FILES", "QUANTLAKE_NEWS__DIRECTORY"):
            monkeypatch.delenv(key, raising=False)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        runtime.prepare(load_settings())
        return tmp_path / name / "lake"

    return point


def macro(directory: Path, now: dt.datetime = NOW):
    return ingest_macro_flow(directory=str(directory), now=now, report_to_dagster=False)


def news(files: list[Path], use, name: str, now: dt.datetime = NOW):
    use(name, QUANTLAKE_NEWS__FILES=json.dumps([str(f) for f in files]))
    return ingest_news_flow(now=now, report_to_dagster=False)


def table(lake_dir: Path, dataset: schemas.Dataset, *drop: str) -> pl.DataFrame:
    with Lakehouse(lake_dir) as lake:
        frame = lake.read(dataset)
    keep = [c for c in frame.columns if c not in drop]
    return frame.select(keep).sort(keep, nulls_last=True)


def copy_series(folder: Path, shared_data: Path, *, before: str | None = None) -> Path:
    """Copy SERIES into ``folder``, keeping only rows dated before ``before`` when given."""
    folder.mkdir()
    for name in SERIES:
        lines = (shared_data / f"macro/fred/{name}.csv").read_text().splitlines()
        kept = [lines[0]] + [x for x in lines[1:] if before is None or x[:10] < before]
        (folder / f"{name}.csv").write_text("\n".join(kept) + "\n")
    return folder


def test_fred_files_load_point_in_time_and_a_rerun_writes_nothing(use, shared_data: Path) -> None:
    lake_dir = use("data")
    first = macro(shared_data / "macro/fred")
    assert (first.status, first.validation) == ("loaded", "passed")
    assert (first.rows_in, first.rows_new, first.rows_passed, first.rows_quarantined) == (
        146_755,
        146_755,
        146_755,
        0,
    )
    assert first.rejections == [] and first.conflicts == []
    with Lakehouse(lake_dir) as lake:
        snapshot = lake.current_snapshot()
        assert lake.count(schemas.CURATED_MACRO) == 146_755
        curated = lake.read(schemas.CURATED_MACRO, where="series_id = ?", params=["DGS10"])
        assert curated.get_column("value").null_count() == 502  # holidays stay missing
        assert curated.filter(pl.col("value") == 0).is_empty()
        rules = lake.read(schemas.VALIDATION_RESULTS)
        assert set(rules.get_column("suite")) == {"macro_series"}
        batch = lake.read(schemas.BATCHES).row(0, named=True)
        assert (batch["dataset"], batch["source"], batch["status"]) == ("macro", "fred", "passed")
        assert (batch["first_session"], batch["last_session"]) == (
            dt.date(1980, 1, 1),
            dt.date(2025, 12, 31),
        )
        # CPI for September 2025: September ends 09-30, +15 days, at 22:00 UTC.
        known = dt.datetime(2025, 10, 15, 22, tzinfo=dt.UTC)
        for at, expected in ((known - dt.timedelta(seconds=1), []), (known, [324.368])):
            cpi = macro_as_of(lake, series=["CPIAUCSL"], known_at=at, start=dt.date(2025, 9, 1))
            assert cpi.get_column("value").to_list() == expected
        oct25 = macro_as_of(lake, series=["CPIAUCSL"], known_at=NOW, start=dt.date(2025, 10, 1))
        assert oct25.get_column("value").to_list()[:1] == [None]  # the shutdown month

    again = macro(shared_data / "macro/fred", now=LATER)
    assert again.status == "already_loaded"
    with Lakehouse(lake_dir) as lake:
        assert lake.current_snapshot() == snapshot


def test_two_incremental_macro_runs_equal_one_full_run(
    use, shared_data: Path, tmp_path: Path
) -> None:
    early = copy_series(tmp_path / "early", shared_data, before="2010-01-01")
    full = copy_series(tmp_path / "full", shared_data)
    incremental = use("incremental")
    one = macro(early)
    two = macro(full)
    assert one.rows_new + two.rows_new == two.rows_in
    # The first run's latest knowledge: GDP for 2009 Q4, known 30 days after 12-31.
    assert two.watermark == dt.datetime(2010, 1, 30, 22, tzinfo=dt.UTC)
    # Known by then, yet only in the second run: DGS10 for the 21 weekdays 2010-01-01..29
    # (+1 day) and ICSA for the weeks ending 01-02..01-23 (+5 days).
    assert two.rows_late == 21 + 4
    assert two.conflicts == []
    with Lakehouse(incremental) as lake:
        snapshot = lake.current_snapshot()
    # The same files again, or a subset of what is loaded: nothing is written.
    assert macro(full).status == "already_loaded"
    subset = tmp_path / "subset"
    subset.mkdir()
    shutil.copy(full / "DGS10.csv", subset)
    assert macro(subset).status == "up_to_date"
    with Lakehouse(incremental) as lake:
        assert lake.current_snapshot() == snapshot

    whole = use("whole")
    assert macro(full).rows_new == two.rows_in
    for dataset in (schemas.CURATED_MACRO, schemas.CURATED_MACRO_VINTAGES, schemas.RAW_MACRO):
        assert table(incremental, dataset, *BATCH_COLUMNS).equals(
            table(whole, dataset, *BATCH_COLUMNS)
        ), dataset.table


def test_a_revision_is_kept_in_raw_wins_in_curated_and_is_reported(use, tmp_path: Path) -> None:
    lake_dir = use("data")
    folder = tmp_path / "drop"
    folder.mkdir()
    cpi = folder / "CPIAUCSL.csv"
    cpi.write_text("date,value\n2025-08-01,323.364\n2025-09-01,324.368\n2025-10-01,\n")
    macro(folder)
    cpi.write_text(
        "date,value\n2025-08-01,323.364\n2025-09-01,324.5\n2025-10-01,\n2025-11-01,325.0\n"
    )
    second = macro(folder, now=LATER)
    assert second.rows_new == 2
    assert second.conflicts == [
        "CPIAUCSL 2025-09-01: 324.368 -> 324.5 (revision known 2026-02-05 12:00 UTC)"
    ]
    sept = dt.date(2025, 9, 1)
    with Lakehouse(lake_dir) as lake:
        raw = lake.read(schemas.RAW_MACRO, where="observation_date = ?", params=[sept])
        assert sorted(raw.get_column("value").to_list()) == [324.368, 324.5]
        cur = lake.read(schemas.CURATED_MACRO, where="observation_date = ?", params=[sept])
        assert cur.select("value", "knowledge_time", "revisions").rows() == [(324.5, LATER, 1)]
        before = macro_as_of(lake, series=["CPIAUCSL"], known_at=LATER - dt.timedelta(seconds=1))
        after = macro_as_of(lake, series=["CPIAUCSL"], known_at=LATER)
        assert before.filter(pl.col("observation_date") == sept)["value"].to_list() == [324.368]
        assert after.filter(pl.col("observation_date") == sept)["value"].to_list() == [324.5]
        message = lake.read(schemas.BATCHES, order_by="ingested_at").get_column("message")[-1]
        assert "1 revision(s)" in message


def test_a_file_that_is_not_data_is_named_and_the_others_load(use, tmp_path: Path) -> None:
    lake_dir = use("data")
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "DGS2.csv").write_text("date,value\n2025-12-29,3.45\n2025-12-30,3.47\n")
    (folder / "T10Y3M.csv").write_text("<html><body>Rate limit exceeded</body></html>\n")
    loaded = macro(folder)
    assert (loaded.status, loaded.validation, loaded.rows_passed) == ("loaded", "passed", 2)
    (rejection,) = loaded.rejections
    assert "T10Y3M.csv is not FRED data" in rejection and "Rate limit exceeded" in rejection
    assert table(lake_dir, schemas.CURATED_MACRO).get_column("series_id").to_list() == ["DGS2"] * 2

    bad = tmp_path / "bad"
    bad.mkdir()
    shutil.copy(folder / "T10Y3M.csv", bad)
    with pytest.raises(DataQualityError, match="T10Y3M.csv"):
        macro(bad)
    with Lakehouse(lake_dir) as lake:
        statuses = lake.read(schemas.BATCHES, order_by="ingested_at").get_column("status")
        assert statuses.to_list() == ["passed", "failed"]


def test_news_and_tweets_load_and_a_rerun_writes_nothing(use, shared_data: Path) -> None:
    files = [shared_data / "news" / f for f in HEADLINES]
    files.append(shared_data / "sentiment/stocknet_tweets_preprocessed_2014-2015.csv.gz")
    first = news(files, use, "data")
    assert (first.status, first.validation, first.rows_in) == ("loaded", "passed", 107_789)
    assert first.quarantined_by_rule == {"unique_item": first.rows_quarantined}
    lake_dir = use("data", QUANTLAKE_NEWS__FILES=json.dumps([str(f) for f in files]))
    with Lakehouse(lake_dir) as lake:
        snapshot = lake.current_snapshot()
        curated = lake.read(schemas.CURATED_NEWS)
        passed = first.rows_passed
        raw = lake.read(schemas.RAW_NEWS)
        ids = raw.filter(
            ~pl.col("row_number").is_in(lake.read(schemas.QUARANTINE_NEWS)["row_number"].implode())
        )
        assert ids.height == passed
        assert curated.height == ids.get_column("content_id").n_unique()
        assert curated.get_column("sentiment").is_between(-1, 1).all()
        tags = lake.read(schemas.CURATED_NEWS_SYMBOLS)
        assert tags.height == ids.filter(pl.col("symbol").is_not_null()).height
        by_publisher = dict(curated.group_by("publisher").len().iter_rows())
        assert {k: by_publisher[k] for k in ("cnbc", "guardian", "reuters")} == {
            "cnbc": 453,
            "guardian": 499,
            "reuters": 499,
        }
    again = ingest_news_flow(now=LATER, report_to_dagster=False)
    assert again.status == "already_loaded"
    with Lakehouse(lake_dir) as lake:
        assert lake.current_snapshot() == snapshot


def test_two_incremental_news_runs_equal_one_full_run(use, shared_data: Path) -> None:
    files = [shared_data / "news" / f for f in HEADLINES]
    one = news(files[:2], use, "incremental")
    two = news(files, use, "incremental")
    assert (one.rows_new, two.rows_new) == (453 + 499, 499)
    first = table(use("incremental"), schemas.RAW_NEWS).filter(pl.col("batch_id") == one.batch_id)
    assert two.watermark == first.get_column("knowledge_time").max()
    # Reuters' items of 07-09..07-17 are known before the Guardian's last day ends: backfill.
    assert 0 < two.rows_late < 499
    whole = news(files, use, "whole")
    assert whole.rows_new == 453 + 499 + 499
    for dataset in (schemas.CURATED_NEWS, schemas.CURATED_NEWS_SYMBOLS, schemas.RAW_NEWS):
        incremental = table(use("incremental"), dataset, *BATCH_COLUMNS)
        assert incremental.equals(table(use("whole"), dataset, *BATCH_COLUMNS)), dataset.table
