"""The FRED-format source: every real file, each header layout, missing values, non-data files."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
from pathlib import Path

import polars as pl
import pytest

from flows.sources.base import SourceError
from flows.sources.fred import OBS_COLUMNS, FredSource

D = dt.date


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def test_every_real_file_parses_completely(shared_data: Path) -> None:
    folder = shared_data / "macro/fred"
    batch = FredSource([folder]).fetch()
    obs = batch.observations
    assert batch.rejections == ()  # the two "_" catalogues are skipped, not rejected
    assert obs.schema == pl.Schema(OBS_COLUMNS)
    files = sorted(p for p in folder.glob("*.csv") if not p.name.startswith("_"))
    assert len(files) == 49
    for file in files:
        with file.open(newline="") as handle:
            rows = list(csv.reader(handle))[1:]
        got = obs.filter(pl.col("series_id") == file.stem)
        assert got.height == len(rows), file.name
        assert got.get_column("value_text").to_list() == [r[1] for r in rows], file.name
        expected_dates = [dt.date.fromisoformat(r[0]) for r in rows]
        assert got.get_column("observation_date").to_list() == expected_dates, file.name
    assert obs.get_column("frequency").null_count() == 0
    assert obs.get_column("realtime_start").null_count() == obs.height


def test_real_missing_values_stay_null_never_zero(shared_data: Path) -> None:
    obs = (
        FredSource([shared_data / "macro/fred"], series=["DGS10", "CPIAUCSL"]).fetch().observations
    )
    blank = obs.filter(pl.col("value_text") == "")
    assert blank.get_column("value").null_count() == blank.height
    assert blank.filter(pl.col("series_id") == "DGS10").height == 502  # holidays (SOURCES.md)
    oct25 = obs.filter(
        (pl.col("series_id") == "CPIAUCSL") & (pl.col("observation_date") == D(2025, 10, 1))
    )
    assert oct25.get_column("value").to_list() == [None]
    assert obs.filter(pl.col("value") == 0).is_empty()


def test_real_frequencies_are_inferred(shared_data: Path) -> None:
    obs = FredSource([shared_data / "macro/fred"]).fetch().observations
    freq = dict(obs.select("series_id", "frequency").unique().iter_rows())
    assert [freq[s] for s in ("DGS10", "ICSA", "CPIAUCSL", "GDP", "BUSLOANS")] == [
        "D",
        "W",
        "M",
        "Q",
        "M",
    ]


def test_fred_download_layouts(tmp_path: Path) -> None:
    write(tmp_path, "one.csv", "DATE,DGS10\n2024-01-02,3.95\n2024-01-03,.\n2024-01-04,3.99\n")
    write(
        tmp_path,
        "two.csv",
        "observation_date,UNRATE,PAYEMS\n2024-01-01,3.7,157000\n2024-02-01,3.9,157200\n",
    )
    obs = FredSource([tmp_path]).fetch().observations
    assert obs.filter(pl.col("series_id") == "DGS10").get_column("value").to_list() == [
        3.95,
        None,
        3.99,
    ]
    payems = obs.filter(pl.col("series_id") == "PAYEMS")
    assert payems.get_column("value").to_list() == [157000.0, 157200.0]
    assert set(obs.get_column("frequency")) == {"D", "M"}


def test_alfred_vintage_columns_and_api_rows(tmp_path: Path) -> None:
    write(
        tmp_path,
        "gdpc1_vintages.csv",
        "observation_date,GDPC1_20240125,GDPC1_20240228\n2023-07-01,22491.6,22490.7\n"
        "2023-10-01,22672.9,22679.3\n",
    )
    write(
        tmp_path,
        "api.csv",
        "realtime_start,realtime_end,date,value,series_id\n"
        "2024-02-02,2024-03-07,2024-01-01,3.7,UNRATE\n2024-03-08,9999-12-31,2024-01-01,3.8,UNRATE\n",
    )
    obs = (
        FredSource([tmp_path])
        .fetch()
        .observations.sort("series_id", "observation_date", "realtime_start")
    )
    gdp = obs.filter(pl.col("series_id") == "GDPC1")
    assert gdp.select("observation_date", "realtime_start", "value").rows() == [
        (D(2023, 7, 1), D(2024, 1, 25), 22491.6),
        (D(2023, 7, 1), D(2024, 2, 28), 22490.7),
        (D(2023, 10, 1), D(2024, 1, 25), 22672.9),
        (D(2023, 10, 1), D(2024, 2, 28), 22679.3),
    ]
    assert gdp.get_column("frequency").to_list() == ["Q"] * 4
    unrate = obs.filter(pl.col("series_id") == "UNRATE")
    assert unrate.select("realtime_start", "value").rows() == [
        (D(2024, 2, 2), 3.7),
        (D(2024, 3, 8), 3.8),
    ]


def test_unreadable_values_and_dates_are_delivered_for_validation(tmp_path: Path) -> None:
    write(
        tmp_path,
        "X.csv",
        "date,value\n2024-01-01,1.5\n2024-02-01,abc\nnot-a-date,2\n2024-03-01,inf\n",
    )
    obs = FredSource([tmp_path]).fetch().observations
    assert obs.get_column("value_text").to_list() == ["1.5", "abc", "2", "inf"]
    assert obs.get_column("value").to_list()[:3] == [1.5, None, 2.0]
    assert obs.get_column("value").to_list()[3] == float("inf")
    assert obs.get_column("observation_date").null_count() == 1
    assert obs.get_column("line").to_list() == [2, 3, 4, 5]


def test_files_that_are_not_data_are_rejected_by_name_and_the_rest_loads(tmp_path: Path) -> None:
    write(tmp_path, "DGS2.csv", "date,value\n2024-01-02,4.33\n")
    write(
        tmp_path, "error.csv", "<!DOCTYPE html>\n<html><body>Series does not exist.</body></html>\n"
    )
    write(tmp_path, "empty.csv", "")
    write(tmp_path, "binary.csv", b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe")
    write(tmp_path, "notes.csv", "name,comment\nDGS10,ten year\n")
    write(tmp_path, "broken.csv.gz", gzip.compress(b"date,value\n2024-01-02,1\n")[:-8])
    write(tmp_path, "_catalogue.csv", "series_id,freq\nDGS2,D\n")
    batch = FredSource([tmp_path]).fetch()
    assert batch.observations.get_column("series_id").to_list() == ["DGS2"]
    reasons = {Path(r.origin).name: r.reason for r in batch.rejections}
    assert set(reasons) == {"error.csv", "empty.csv", "binary.csv", "notes.csv", "broken.csv.gz"}
    assert "error.csv is not FRED data" in reasons["error.csv"]
    assert "<!DOCTYPE html>" in reasons["error.csv"]
    assert "empty" in reasons["empty.csv"]
    assert "not text" in reasons["binary.csv"]
    assert "name,comment" in reasons["notes.csv"]
    assert "truncated" in reasons["broken.csv.gz"]


def test_series_filter_reports_series_it_cannot_find(tmp_path: Path) -> None:
    write(tmp_path, "DGS2.csv", "date,value\n2024-01-02,4.33\n")
    write(tmp_path, "DGS10.csv", "date,value\n2024-01-02,3.95\n")
    batch = FredSource([tmp_path], series=["dgs10", "NOPE"]).fetch()
    assert batch.observations.get_column("series_id").to_list() == ["DGS10"]
    assert [r.reason for r in batch.rejections] == ["series NOPE is in none of the files"]


def test_a_missing_path_says_what_to_set(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="QUANTLAKE_MACRO__DIRECTORY"):
        FredSource([tmp_path / "nowhere"]).fetch()
    with pytest.raises(SourceError, match="no"):
        FredSource([tmp_path]).fetch()
