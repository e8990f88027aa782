"""Alpaca minute and crypto bars with the real alpaca-py clients against a local Alpaca server.

The server serves the real intraday files (../shared/data/intraday) as Alpaca would: stocks at
/v2/stocks/bars, crypto at /v1beta3/crypto/us/bars, paged with next_page_token.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from pydantic import SecretStr

from flows.sources.alpaca import AlpacaMinuteSource, RateLimited
from flows.sources.base import SourceError
from flows.sources.minute_bars import MINUTE_BAR_COLUMNS
from quantlake.settings import AlpacaSettings
from tests.support.alpaca_data_server import CRYPTO_ROUTE, ROUTE, AlpacaDataServer, intraday_bars

KEY = "PKTESTKEY0000000001"
SECRET = "test-secret-9f8e7d6c5b4a"
# Spans the switch from EDT to EST (2023-11-05).
START = dt.datetime(2023, 11, 1, tzinfo=dt.UTC)
END = dt.datetime(2023, 11, 9, tzinfo=dt.UTC)
PAGE = 700
OHLCV = ["symbol", "ts", "open", "high", "low", "close", "volume"]


@pytest.fixture(scope="module")
def equities(shared_data: Path) -> pl.DataFrame:
    frame = intraday_bars(shared_data / "intraday/us_etf_1m_2023-2025")
    return frame.filter(pl.col("ts").is_between(START - dt.timedelta(days=7), END))


@pytest.fixture(scope="module")
def crypto(shared_data: Path) -> pl.DataFrame:
    frame = intraday_bars(shared_data / "intraday/crypto_binanceus_1m_2023-03")
    return frame.filter(
        pl.col("ts").dt.date().is_between(dt.date(2023, 3, 10), dt.date(2023, 3, 11))
    )


@pytest.fixture
def server(equities: pl.DataFrame, crypto: pl.DataFrame) -> Iterator[AlpacaDataServer]:
    with AlpacaDataServer(
        api_key=KEY, secret_key=SECRET, minute_bars=equities, crypto_bars=crypto, page_size=PAGE
    ) as srv:
        yield srv


def settings(url: str, *, keys: bool = True) -> AlpacaSettings:
    if not keys:
        return AlpacaSettings(data_url=url)
    return AlpacaSettings(api_key=SecretStr(KEY), secret_key=SecretStr(SECRET), data_url=url)


def served(frame: pl.DataFrame, symbols: list[str], start: dt.datetime, end: dt.datetime):
    return frame.filter(pl.col("symbol").is_in(symbols), pl.col("ts") >= start, pl.col("ts") < end)


def test_minute_bars_of_several_symbols_come_back_whole_across_pages(
    server: AlpacaDataServer, equities: pl.DataFrame
) -> None:
    source = AlpacaMinuteSource(
        settings(server.url), symbols=("DBB", "FXY", "INDA"), chunk=END - START
    )
    batch = source.fetch(start=START, end=END)
    expected = served(equities, ["DBB", "FXY", "INDA"], START, END)
    assert batch.source == "alpaca_minute"
    assert batch.bars.schema == pl.Schema(MINUTE_BAR_COLUMNS)
    assert batch.bars.select(OHLCV).sort("symbol", "ts").equals(expected)
    assert set(batch.bars.get_column("asset_class")) == {"us_equity"}
    pages = [r for r in server.requests if r.path == ROUTE]
    assert len(pages) > expected.height // PAGE  # every page of the one chunk was asked for
    assert all(r.query.get("page_token") for r in pages[1:])
    query = pages[0].query
    assert (query["symbols"], query["timeframe"]) == ("DBB,FXY,INDA", "1Min")
    assert (query["adjustment"], query["feed"], pages[0].key_id) == ("raw", "iex", KEY)


def test_the_adjustment_and_feed_settings_reach_the_request(server: AlpacaDataServer) -> None:
    source = AlpacaMinuteSource(
        settings(server.url), symbols=("DBB",), adjustment="split", feed="sip"
    )
    source.fetch(start=START, end=START + dt.timedelta(hours=20))
    assert (server.requests[0].query["adjustment"], server.requests[0].query["feed"]) == (
        "split",
        "sip",
    )


def test_chunks_tile_the_window_without_gaps_or_overlap(
    server: AlpacaDataServer, equities: pl.DataFrame
) -> None:
    whole = AlpacaMinuteSource(settings(server.url), symbols=("FXY",)).fetch(start=START, end=END)
    chunked = AlpacaMinuteSource(
        settings(server.url), symbols=("FXY",), chunk=dt.timedelta(hours=7)
    ).fetch(start=START, end=END)
    assert chunked.bars.equals(whole.bars)
    assert not chunked.bars.select(pl.struct("symbol", "ts").is_duplicated().any()).item()


def test_dst_the_regular_open_is_0930_new_york_in_utc_on_both_sides(
    server: AlpacaDataServer,
) -> None:
    bars = AlpacaMinuteSource(settings(server.url), symbols=("DBB",)).fetch(start=START, end=END)
    opening = bars.bars.filter(
        pl.col("ts").dt.convert_time_zone("America/New_York").dt.time() == dt.time(9, 30)
    )
    by_day = dict(opening.select(pl.col("ts").dt.date(), clock=pl.col("ts").dt.time()).iter_rows())
    assert by_day[dt.date(2023, 11, 3)] == dt.time(13, 30)
    assert by_day[dt.date(2023, 11, 6)] == dt.time(14, 30)


def test_crypto_bars_need_no_keys_and_use_the_crypto_route(
    server: AlpacaDataServer, crypto: pl.DataFrame
) -> None:
    start, end = (
        dt.datetime(2023, 3, 10, 20, tzinfo=dt.UTC),
        dt.datetime(2023, 3, 11, 9, tzinfo=dt.UTC),
    )
    source = AlpacaMinuteSource(
        settings(server.url, keys=False), crypto_symbols=("BTC/USDC", "BTC/USD")
    )
    batch = source.fetch(start=start, end=end)
    assert (
        batch.bars.select(OHLCV)
        .sort("symbol", "ts")
        .equals(served(crypto, ["BTC/USD", "BTC/USDC"], start, end))
    )
    assert set(batch.bars.get_column("asset_class")) == {"crypto"}
    assert {r.path for r in server.requests} == {CRYPTO_ROUTE}
    assert {r.key_id for r in server.requests} == {None}
    assert len(server.requests) > 1  # 2 x 780 bars over pages of 700


def test_stock_bars_without_keys_are_refused_before_any_request(server: AlpacaDataServer) -> None:
    source = AlpacaMinuteSource(settings(server.url, keys=False), symbols=("DBB",))
    with pytest.raises(SourceError, match="QUANTLAKE_ALPACA__API_KEY"):
        source.fetch(start=START, end=END)
    assert server.requests == []


def test_a_rate_limit_past_alpaca_py_retries_backs_off_and_refetches_the_chunk(
    equities: pl.DataFrame,
) -> None:
    """alpaca-py retries a 429 three times (3 s apart); a fourth 429 on the second page reaches
    the source, which waits its first backoff step and fetches the chunk again."""
    waits: list[float] = []
    with AlpacaDataServer(
        api_key=KEY,
        secret_key=SECRET,
        minute_bars=equities,
        page_size=PAGE,
        faults=4,
        fault_after=1,
    ) as srv:
        source = AlpacaMinuteSource(
            settings(srv.url), symbols=("DBB", "FXY"), backoff=(7.0, 30.0), sleep=waits.append
        )
        batch = source.fetch(start=START, end=END)
    assert (
        batch.bars.select(OHLCV)
        .sort("symbol", "ts")
        .equals(served(equities, ["DBB", "FXY"], START, END))
    )
    statuses = [r.status for r in srv.requests]
    assert statuses[:5] == [200, 429, 429, 429, 429]
    assert statuses[5:] == [200] * (len(statuses) - 5)
    assert waits == [7.0]
    assert "page_token" not in srv.requests[5].query  # the chunk starts over


def test_a_lasting_rate_limit_is_a_transient_error_after_every_backoff(
    equities: pl.DataFrame,
) -> None:
    waits: list[float] = []
    srv = AlpacaDataServer(api_key=KEY, secret_key=SECRET, minute_bars=equities, faults=100)
    source = AlpacaMinuteSource(settings(srv.url), symbols=("DBB",), backoff=(), sleep=waits.append)
    with srv, pytest.raises(RateLimited, match="HTTP 429") as error:
        source.fetch(start=START, end=END)
    assert error.value.transient
    assert len(srv.requests) == 4 and waits == []
