"""The file source on the real shared data, the messy appended Yahoo files and broken files."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
from pathlib import Path

import polars as pl
import pytest

from flows.sources.base import BAR_COLUMNS, SourceBatch, SourceError
from flows.sources.files import FileSource

EVER = (dt.date(1900, 1, 1), dt.date(2100, 1, 1))
MAIN = "equities_daily/yahoo_us_equities_100_daily_2010-2021.csv.gz"
MESSY = "messy/yahoo_appended_daily_kcjpop_2024-08-09"


def fetch_all(path: Path, **options: object) -> SourceBatch:
    return FileSource(path).fetch(start=EVER[0], end=EVER[1], **options)


def csv_oracle(path: Path) -> pl.DataFrame:
    """Read the long-format file with the csv module, the slow obvious way."""
    with gzip.open(path, "rt", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return pl.DataFrame(
        {
            "symbol": [r["symbol"] for r in rows],
            "session": [dt.date.fromisoformat(r["date"]) for r in rows],
            **{c: [float(r[c]) for r in rows] for c in ("open", "high", "low", "close", "volume")},
        },
        schema=BAR_COLUMNS,
    )


@pytest.fixture(scope="module")
def main_batch(shared_data: Path) -> SourceBatch:
    return fetch_all(shared_data / MAIN)


def test_long_format_file_loads_every_row_exactly(
    main_batch: SourceBatch, shared_data: Path
) -> None:
    bars = main_batch.bars
    assert bars.schema == pl.Schema(BAR_COLUMNS)
    assert bars.height == 293_296
    assert bars.get_column("symbol").n_unique() == 100
    assert main_batch.rejections == ()
    assert bars.equals(csv_oracle(shared_data / MAIN))


def test_start_end_and_symbol_filters(main_batch: SourceBatch, shared_data: Path) -> None:
    start, end, symbols = dt.date(2015, 3, 2), dt.date(2015, 6, 30), ("MSFT", "AAPL", "ZZZZ")
    part = FileSource(shared_data / MAIN).fetch(start=start, end=end, symbols=symbols)
    expected = main_batch.bars.filter(
        pl.col("session").is_between(start, end), pl.col("symbol").is_in(symbols)
    )
    assert part.bars.equals(expected)
    assert set(part.bars.get_column("symbol")) == {"AAPL", "MSFT"}
    assert part.bars.get_column("session").min() == dt.date(2015, 3, 2)
    assert part.bars.get_column("session").max() == dt.date(2015, 6, 30)


def test_per_symbol_file_keeps_null_row_and_duplicates_in_arrival_order(shared_data: Path) -> None:
    batch = fetch_all(shared_data / MESSY / "AAPL.csv.gz")
    bars = batch.bars
    with gzip.open(shared_data / MESSY / "AAPL.csv.gz", "rt") as handle:
        lines = handle.read().splitlines()
    assert bars.height == len(lines) - 1
    assert set(bars.get_column("symbol")) == {"AAPL"}
    null_row = bars.filter(pl.col("session") == dt.date(2022, 1, 27))
    assert null_row.height == 1
    assert null_row.select(pl.all().exclude("symbol", "session").is_null().all()).row(0) == (
        (True,) * 5
    )
    twice = bars.filter(pl.col("session") == dt.date(2022, 1, 31))
    assert twice.get_column("volume").to_list() == [115307800.0, 115541590.0]
    assert batch.rejections == ()


def test_headerless_file_salvages_dated_rows_and_reports_the_rest(shared_data: Path) -> None:
    path = shared_data / MESSY / "TSLA.csv.gz"
    batch = fetch_all(path)
    with gzip.open(path, "rt") as handle:
        lines = [line for line in handle.read().splitlines() if line.strip()]
    assert batch.bars.height == 550
    first = next(line for line in lines if line.startswith("2022-04-06")).split(",")
    expected = [float(first[i]) for i in (1, 2, 3, 4, 6)]
    assert batch.bars.row(0) == ("TSLA", dt.date(2022, 4, 6), *expected)
    (note,) = batch.rejections
    assert note.origin == str(path)
    assert f"skipped {len(lines) - 550} non-data lines" in note.reason
    assert "Invalid cookie" in note.reason
    assert "TSLA.csv.gz" in note.reason


def test_file_that_is_not_csv_is_rejected_with_what_it_holds(shared_data: Path) -> None:
    path = shared_data / MESSY / "BRK.B.csv.gz"
    batch = fetch_all(path)
    assert batch.bars.is_empty()
    (rejection,) = batch.rejections
    assert rejection.origin == str(path)
    assert "BRK.B.csv.gz" in rejection.reason
    assert "404 Not Found" in rejection.reason


def test_folder_reads_every_file_and_one_bad_file_stops_nothing(shared_data: Path) -> None:
    batch = fetch_all(shared_data / MESSY)
    counts = dict(batch.bars.group_by("symbol").len().iter_rows())
    assert set(counts) == {"AAPL", "AMZN", "GOOGL", "TSLA"}
    assert counts["TSLA"] == 550
    assert {Path(r.origin).name for r in batch.rejections} == {"BRK.B.csv.gz", "TSLA.csv.gz"}
    assert batch.bars.get_column("symbol").to_list()[0] == "AAPL"  # files in name order


def test_corrupt_and_truncated_files_become_rejections(tmp_path: Path) -> None:
    good = "Date,Open,High,Low,Close,Adj Close,Volume\n2021-01-04,10,11,9,10.5,10.5,1000\n"
    (tmp_path / "GOOD.csv").write_text(good)
    (tmp_path / "CORRUPT.csv.gz").write_bytes(b"this is not gzip at all")
    (tmp_path / "CUT.csv.gz").write_bytes(gzip.compress(good.encode() * 50)[:40])
    (tmp_path / "BROKEN.parquet").write_bytes(b"PAR1 and then nothing of use")
    batch = fetch_all(tmp_path)
    assert batch.bars.get_column("symbol").to_list() == ["GOOD"]
    reasons = {Path(r.origin).name: r.reason for r in batch.rejections}
    assert set(reasons) == {"CORRUPT.csv.gz", "CUT.csv.gz", "BROKEN.parquet"}
    assert "CORRUPT.csv.gz" in reasons["CORRUPT.csv.gz"] and "gzip" in reasons["CORRUPT.csv.gz"]
    assert "truncated" in reasons["CUT.csv.gz"]
    assert "BROKEN.parquet" in reasons["BROKEN.parquet"]


def test_column_names_match_case_insensitively_and_bad_values_become_null(tmp_path: Path) -> None:
    (tmp_path / "BRK.B.csv").write_text(
        "TIMESTAMP,open,HIGH,Low,close,adj_close,Volume,extra\n"
        "2021-01-04 00:00:00,10,11,9,10.5,10.5,1000,x\n"
        "2021-01-05,null,11,NaN,,10.5,abc,y\n"
    )
    bars = fetch_all(tmp_path).bars
    assert bars.get_column("symbol").to_list() == ["BRK.B", "BRK.B"]
    assert bars.row(0) == ("BRK.B", dt.date(2021, 1, 4), 10.0, 11.0, 9.0, 10.5, 1000.0)
    assert bars.row(1) == ("BRK.B", dt.date(2021, 1, 5), None, 11.0, None, None, None)


def test_parquet_in_either_layout(tmp_path: Path) -> None:
    sub = tmp_path / "nested"
    sub.mkdir()
    pl.DataFrame(
        {
            "Date": [dt.date(2021, 1, 4)],
            "Open": [1.0],
            "High": [2],
            "Low": [0.5],
            "Close": [1.5],
            "Volume": [100],
        }
    ).write_parquet(sub / "XYZ.parquet")
    pl.DataFrame(
        {
            "ticker": ["A", "B"],
            "timestamp": [dt.datetime(2021, 1, 5), dt.datetime(2021, 1, 5)],
            "open": [1.0, 2.0],
            "high": [1.0, 2.0],
            "low": [1.0, 2.0],
            "close": [1.0, 2.0],
            "volume": [5.0, 6.0],
        }
    ).write_parquet(tmp_path / "long.parquet")
    bars = fetch_all(tmp_path).bars
    assert bars.schema == pl.Schema(BAR_COLUMNS)
    assert bars.rows() == [
        ("A", dt.date(2021, 1, 5), 1.0, 1.0, 1.0, 1.0, 5.0),
        ("B", dt.date(2021, 1, 5), 2.0, 2.0, 2.0, 2.0, 6.0),
        ("XYZ", dt.date(2021, 1, 4), 1.0, 2.0, 0.5, 1.5, 100.0),
    ]


def test_missing_columns_and_unreadable_dates_are_reported(tmp_path: Path) -> None:
    (tmp_path / "NOCLOSE.csv").write_text("date,open,high,low,volume\n2021-01-04,1,1,1,1\n")
    (tmp_path / "DATES.csv").write_text(
        "date,open,high,low,close,volume\n2021-01-04,1,1,1,1,1\n04/01/2021,1,1,1,1,1\n"
    )
    batch = fetch_all(tmp_path)
    assert batch.bars.get_column("symbol").to_list() == ["DATES"]
    reasons = {Path(r.origin).name: r.reason for r in batch.rejections}
    assert "close" in reasons["NOCLOSE.csv"]
    assert "skipped 1 rows" in reasons["DATES.csv"] and "04/01/2021" in reasons["DATES.csv"]


def test_missing_path_or_empty_folder_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="QUANTLAKE_FILE_PATH") as missing:
        fetch_all(tmp_path / "nowhere")
    assert str(tmp_path / "nowhere") in str(missing.value)
    (tmp_path / "notes.txt").write_text("no bars here")
    with pytest.raises(SourceError, match=r"\*\.csv"):
        fetch_all(tmp_path)


def test_empty_file_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "EMPTY.csv").write_bytes(b"\n\n")
    (rejection,) = fetch_all(tmp_path).rejections
    assert "EMPTY.csv" in rejection.reason and "empty" in rejection.reason


def test_rows_not_delivered_are_counted_with_their_reason(tmp_path: Path) -> None:
    (tmp_path / "ALL.csv").write_text(
        "symbol,date,open,high,low,close,volume\n"
        "AAA,2021-01-04,1,1,1,1,1\n"
        "AAA,2099-01-02,1,1,1,1,1\n"  # after the window
        "AAA,2020-12-31,1,1,1,1,1\n"  # before it
        "BBB,2021-01-05,1,1,1,1,1\n"  # not asked for
        "AAA,04/01/2021,1,1,1,1,1\n"  # unreadable date
    )
    (tmp_path / "YHOO.csv").write_text("2021-01-05,1,1,1,1,1,1\n<html>\n")
    batch = FileSource(tmp_path).fetch(
        start=dt.date(2021, 1, 1), end=dt.date(2021, 12, 31), symbols=("AAA", "YHOO")
    )
    skipped = {s.reason: s.rows for s in batch.skipped}
    assert skipped == {
        "date unreadable": 1,
        "not a dated data line": 1,
        "dated before 2021-01-01, the window's first session": 1,
        "dated after 2021-12-31, the window's last session": 1,
        "symbol not asked for": 1,
    }
    assert batch.bars.height + sum(skipped.values()) == 5 + 2
