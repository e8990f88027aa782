"""The minute-file source on the real intraday files and on small files written here."""

from __future__ import annotations

import datetime as dt
import gzip
from pathlib import Path

import polars as pl
import pytest

from flows.sources.base import SourceError
from flows.sources.minute_bars import MINUTE_BAR_COLUMNS
from flows.sources.minute_file_layout import MinuteFileLayout, slash_pair
from flows.sources.minute_files import MinuteFileSource

ETF = Path("intraday/us_etf_1m_2023-2025")
CRYPTO = Path("intraday/crypto_binanceus_1m_2023-03")
EVER = (dt.datetime(1970, 1, 1, tzinfo=dt.UTC), dt.datetime(2100, 1, 1, tzinfo=dt.UTC))
UTC_FILES = MinuteFileLayout(naive_timezone="UTC")
NY = "America/New_York"


def fetch_all(*folders: Path, layout: MinuteFileLayout = UTC_FILES, **kw: object):
    return MinuteFileSource(folders, layout=layout).fetch(start=EVER[0], end=EVER[1], **kw)


def write(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    return path


@pytest.fixture(scope="module")
def etf(shared_data: Path) -> pl.DataFrame:
    return fetch_all(shared_data / ETF).bars


def share_of_days(bars: pl.DataFrame, clock: dt.time) -> float:
    """Return the share of (symbol, New York day)s that have a bar at ``clock`` New York."""
    days = bars.select("symbol", pl.col("local").dt.date()).unique().height
    hits = bars.filter(pl.col("local").dt.time() == clock)
    return hits.select("symbol", pl.col("local").dt.date()).unique().height / days


@pytest.mark.parametrize(
    ("change", "before_utc", "after_utc"),
    [
        (dt.date(2023, 11, 5), dt.time(13, 30), dt.time(14, 30)),  # EDT -> EST
        (dt.date(2024, 3, 10), dt.time(14, 30), dt.time(13, 30)),  # EST -> EDT
    ],
)
def test_the_opening_print_is_at_0930_new_york_on_both_sides_of_a_dst_change(
    etf: pl.DataFrame, change: dt.date, before_utc: dt.time, after_utc: dt.time
) -> None:
    """Read as UTC, the files show the open auction at 09:30 New York on both sides of the
    change: most days have a bar at 09:30 and few at 09:29 (pre-market). Stamps read an hour
    off on either side would put 09:30 at a pre-market 08:30 (rare) or a regular 10:30 (with an
    equally busy 10:29)."""
    for side, utc_time in ((-1, before_utc), (1, after_utc)):
        days = [change + dt.timedelta(days=side * d) for d in range(1, 15)]
        near = etf.filter(
            pl.col("symbol").is_in(["DBB", "FXY"]), pl.col("ts").dt.date().is_in(days)
        ).with_columns(local=pl.col("ts").dt.convert_time_zone(NY))
        assert share_of_days(near, dt.time(9, 30)) >= 0.8
        assert share_of_days(near, dt.time(9, 29)) <= 0.2
        opens = near.filter(pl.col("local").dt.time() == dt.time(9, 30))
        assert opens.get_column("ts").dt.time().unique().to_list() == [utc_time]


def test_the_etf_files_load_with_their_row_counts_and_types(etf: pl.DataFrame) -> None:
    assert etf.schema == pl.Schema(MINUTE_BAR_COLUMNS)
    counts = dict(etf.group_by("symbol").len().iter_rows())
    assert counts == {"DBB": 38_964, "FXY": 78_974, "INDA": 66_269}
    assert set(etf.get_column("asset_class")) == {"us_equity"}
    first = etf.row(0, named=True)
    assert (first["symbol"], first["ts"]) == (
        "DBB",
        dt.datetime(2023, 7, 10, 13, 30, tzinfo=dt.UTC),
    )
    assert (first["open"], first["volume"], first["vwap"]) == (17.9, 3057.0, None)


def test_crypto_pairs_listed_in_the_metadata_are_crypto_named_as_alpaca_does(
    shared_data: Path,
) -> None:
    bars = fetch_all(shared_data / CRYPTO).bars
    summary = bars.group_by("symbol", "asset_class").agg(
        pl.len(), pl.col("ts").min().alias("first"), pl.col("ts").max().alias("last")
    )
    assert summary.sort("symbol").rows() == [
        (pair, "crypto", 30_240, dt.datetime(2023, 3, 1, tzinfo=dt.UTC),
         dt.datetime(2023, 3, 21, 23, 59, tzinfo=dt.UTC))
        for pair in ("BTC/USD", "BTC/USDC", "BTC/USDT")
    ]  # fmt: skip


def test_naive_stamps_without_a_declared_zone_are_refused_by_name(shared_data: Path) -> None:
    batch = fetch_all(shared_data / ETF, shared_data / CRYPTO, layout=MinuteFileLayout())
    assert batch.bars.height == 3 * 30_240  # the crypto files carry +00:00 and still load
    assert len(batch.rejections) == 3
    assert all("QUANTLAKE_MINUTE__NAIVE_TIMEZONE" in r.reason for r in batch.rejections)
    assert {Path(r.origin).name.split("_")[0] for r in batch.rejections} == {"DBB", "FXY", "INDA"}


def test_a_headerless_file_reads_with_declared_columns(tmp_path: Path) -> None:
    rows = ["1699018200000,5.0,5.5,4.9,5.2,300,5.1,7", "1699018260000,5.2,5.3,5.1,5.3,0,5.2,0"]
    write(tmp_path / "XYZ_1m.csv.gz", rows)
    layout = MinuteFileLayout(
        columns=("t", "o", "h", "l", "c", "v", "vw", "n"), epoch_unit="ms", asset_class="us_equity"
    )
    bars = fetch_all(tmp_path, layout=layout).bars
    assert bars.get_column("ts").to_list() == [
        dt.datetime(2023, 11, 3, 13, 30, tzinfo=dt.UTC),
        dt.datetime(2023, 11, 3, 13, 31, tzinfo=dt.UTC),
    ]
    assert bars.get_column("vwap").to_list() == [5.1, 5.2]
    assert bars.get_column("trade_count").to_list() == [7, 0]


def test_a_headerless_file_without_declared_columns_is_a_rejection(tmp_path: Path) -> None:
    write(tmp_path / "XYZ_1m.csv.gz", ["2023-11-03 13:30:00,5,5,5,5,1"])
    batch = fetch_all(tmp_path)
    assert batch.bars.is_empty()
    (rejection,) = batch.rejections
    assert "declare the columns" in rejection.reason


def test_long_files_with_other_column_names_and_offsets_map_onto_minute_bars(
    tmp_path: Path,
) -> None:
    write(
        tmp_path / "bars.csv.gz",
        [
            "Ticker,Date Time,Open,High,Low,Close,Volume,Trades",
            "AAA,2024-03-11T09:30:00-04:00,1,2,0.5,1.5,10,3",
            "BBB,2024-03-08T09:30:00-05:00,1,2,0.5,1.5,n/a,4",
        ],
    )
    layout = MinuteFileLayout(rename={"Date Time": "ts"})
    bars = fetch_all(tmp_path, layout=layout).bars
    assert bars.select("symbol", "ts", "volume", "trade_count").rows() == [
        ("AAA", dt.datetime(2024, 3, 11, 13, 30, tzinfo=dt.UTC), 10.0, 3),
        ("BBB", dt.datetime(2024, 3, 8, 14, 30, tzinfo=dt.UTC), None, 4),
    ]


def test_new_york_stamps_in_the_repeated_hour_are_skipped_not_guessed(tmp_path: Path) -> None:
    write(
        tmp_path / "AAA_1m.csv.gz",
        [
            "timestamp,open,high,low,close,volume",
            "2023-11-05 00:59:00,1,1,1,1,1",
            "2023-11-05 01:30:00,1,1,1,1,1",  # happens twice in New York that night
            "2023-11-05 02:00:00,1,1,1,1,1",
        ],
    )
    batch = fetch_all(tmp_path, layout=MinuteFileLayout(naive_timezone=NY))
    assert batch.bars.get_column("ts").to_list() == [
        dt.datetime(2023, 11, 5, 4, 59, tzinfo=dt.UTC),
        dt.datetime(2023, 11, 5, 7, 0, tzinfo=dt.UTC),
    ]
    (note,) = batch.rejections
    assert "skipped 1 rows" in note.reason and "ambiguous" in note.reason


def test_the_window_is_half_open_and_symbols_filter(etf: pl.DataFrame, shared_data: Path) -> None:
    start = dt.datetime(2023, 7, 10, 13, 34, tzinfo=dt.UTC)
    end = dt.datetime(2023, 7, 10, 14, 0, tzinfo=dt.UTC)
    batch = MinuteFileSource((shared_data / ETF,), layout=UTC_FILES).fetch(
        start=start, end=end, symbols=("DBB",)
    )
    expected = etf.filter(pl.col("symbol") == "DBB", pl.col("ts") >= start, pl.col("ts") < end)
    assert batch.bars.equals(expected)
    assert batch.bars.get_column("ts").min() == start


def test_a_missing_folder_and_a_bad_zone_are_source_errors(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="QUANTLAKE_MINUTE__DIRECTORIES"):
        fetch_all(tmp_path / "nowhere")
    with pytest.raises(SourceError, match="IANA zone"):
        MinuteFileSource((tmp_path,), layout=MinuteFileLayout(naive_timezone="New York"))


def test_pairs_are_spelled_with_a_slash() -> None:
    assert [slash_pair(p) for p in ("BTCUSDT", "ETHBTC", "BTC/USD", "SOLXYZ")] == [
        "BTC/USDT",
        "ETH/BTC",
        "BTC/USD",
        "SOLXYZ",
    ]


def test_the_settings_declare_a_headerless_layout_and_the_refusal_names_them(
    tmp_path: Path,
) -> None:
    from flows.sources.minute_select import build_minute_source
    from quantlake.settings import MinuteSettings, Settings

    write(tmp_path / "BTCUSD_1m.csv.gz", ["1677628800,23143.82,23152.65,23140.02,23152.65,0.26"])
    bare = MinuteSettings(directories=(tmp_path,))
    refused = build_minute_source(Settings(minute=bare)).fetch(start=EVER[0], end=EVER[1])
    (rejection,) = refused.rejections
    for name in ("COLUMNS", "EPOCH_UNIT", "ASSET_CLASS"):
        assert f"QUANTLAKE_MINUTE__{name}" in rejection.reason
    declared = bare.model_copy(
        update={
            "columns": ("open_time", "open", "high", "low", "close", "volume"),
            "epoch_unit": "s",
            "asset_class": "crypto",
        }
    )
    bars = build_minute_source(Settings(minute=declared)).fetch(start=EVER[0], end=EVER[1]).bars
    assert bars.select("symbol", "asset_class", "ts").row(0) == (
        "BTC/USD",
        "crypto",
        dt.datetime(2023, 3, 1, tzinfo=dt.UTC),
    )
