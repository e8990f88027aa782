"""The Alpaca source with the real alpaca-py client against a local Alpaca-speaking server."""

from __future__ import annotations

import datetime as dt
import math
import socket
from collections.abc import Iterator
from pathlib import Path

import alpaca.common.rest
import polars as pl
import pytest
from alpaca.data.historical import StockHistoricalDataClient
from alpaca.data.requests import StockBarsRequest
from alpaca.data.timeframe import TimeFrame
from pydantic import SecretStr

from flows.sources.alpaca import AlpacaBarSource
from flows.sources.base import BAR_COLUMNS, SourceError
from quantlake.settings import AlpacaSettings
from tests.support.alpaca_data_server import AlpacaDataServer

KEY = "PKTESTKEY0000000001"
SECRET = "test-secret-9f8e7d6c5b4a"
SYMBOLS = ("AAPL", "MSFT", "NVDA")
# Spans the switch from EST to EDT (2021-03-14), so bars are stamped 05:00Z, then 04:00Z.
START, END = dt.date(2021, 2, 1), dt.date(2021, 4, 30)


@pytest.fixture(scope="module")
def daily_bars(shared_data: Path) -> pl.DataFrame:
    """Real daily bars of three symbols over the window, as the server should serve them."""
    path = shared_data / "equities_daily" / "yahoo_us_equities_100_daily_2010-2021.csv.gz"
    frame = pl.read_csv(path, try_parse_dates=True).rename({"date": "session"})
    return (
        frame.filter(pl.col("symbol").is_in(SYMBOLS), pl.col("session").is_between(START, END))
        .select(list(BAR_COLUMNS))
        .cast(BAR_COLUMNS)
        .sort("symbol", "session")
    )


@pytest.fixture
def no_retry_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make alpaca-py retry a 429 at once instead of after its default 3 s (read at client init)."""
    monkeypatch.setattr(alpaca.common.rest, "DEFAULT_RETRY_WAIT_SECONDS", 0)


@pytest.fixture
def server(daily_bars: pl.DataFrame) -> Iterator[AlpacaDataServer]:
    with AlpacaDataServer(daily_bars, api_key=KEY, secret_key=SECRET, page_size=50) as srv:
        yield srv


def source(url: str, *, key: str = KEY, secret: str = SECRET, **options: object) -> AlpacaBarSource:
    settings = AlpacaSettings(api_key=SecretStr(key), secret_key=SecretStr(secret), data_url=url)
    return AlpacaBarSource(settings, **options)


def test_every_page_of_a_multi_symbol_request_is_collected(
    server: AlpacaDataServer, daily_bars: pl.DataFrame
) -> None:
    batch = source(server.url, symbols=SYMBOLS).fetch(start=START, end=END)
    assert batch.source == "alpaca"
    assert batch.bars.schema == pl.Schema(BAR_COLUMNS)
    assert batch.bars.equals(daily_bars)
    pages = math.ceil(daily_bars.height / 50)
    assert pages >= 3
    assert len(server.requests) == pages
    assert [r.status for r in server.requests] == [200] * pages
    assert "page_token" not in server.requests[0].query
    assert all("page_token" in r.query for r in server.requests[1:])


def test_the_request_asks_for_adjusted_daily_bars_of_the_feed(server: AlpacaDataServer) -> None:
    source(server.url).fetch(start=START, end=END, symbols=("MSFT", "AAPL"))
    query = server.requests[0].query
    assert server.requests[0].path == "/v2/stocks/bars"
    assert server.requests[0].key_id == KEY
    assert query["symbols"] == "MSFT,AAPL"
    assert (query["timeframe"], query["adjustment"], query["feed"]) == ("1Day", "all", "iex")


def test_sessions_are_new_york_dates_across_daylight_saving(server: AlpacaDataServer) -> None:
    batch = source(server.url).fetch(
        start=dt.date(2021, 3, 12), end=dt.date(2021, 3, 15), symbols=("AAPL",)
    )
    assert batch.bars.get_column("session").to_list() == [
        dt.date(2021, 3, 12),
        dt.date(2021, 3, 15),
    ]
    # The server stamped them at midnight New York: 05:00Z before the switch, 04:00Z after.
    client = StockHistoricalDataClient(KEY, SECRET, url_override=server.url)
    request = StockBarsRequest(
        symbol_or_symbols="AAPL",
        timeframe=TimeFrame.Day,
        start=dt.datetime(2021, 3, 12, tzinfo=dt.UTC),
        end=dt.datetime(2021, 3, 16, tzinfo=dt.UTC),
    )
    stamps = [bar.timestamp for bar in client.get_stock_bars(request).data["AAPL"]]
    assert stamps == [
        dt.datetime(2021, 3, 12, 5, tzinfo=dt.UTC),
        dt.datetime(2021, 3, 15, 4, tzinfo=dt.UTC),
    ]


def test_window_edges_are_inclusive(server: AlpacaDataServer, daily_bars: pl.DataFrame) -> None:
    start, end = dt.date(2021, 3, 1), dt.date(2021, 3, 31)
    batch = source(server.url).fetch(start=start, end=end, symbols=SYMBOLS)
    assert batch.bars.equals(daily_bars.filter(pl.col("session").is_between(start, end)))
    assert batch.bars.get_column("session").min() == start
    assert batch.bars.get_column("session").max() == end


@pytest.mark.parametrize(
    ("key", "secret", "status"),
    [("PKWRONGKEY00000000", SECRET, 401), (KEY, "wrong-secret-123456", 403)],
)
def test_refused_keys_raise_a_clear_error_without_secrets(
    server: AlpacaDataServer, key: str, secret: str, status: int
) -> None:
    with pytest.raises(SourceError) as error:
        source(server.url, key=key, secret=secret).fetch(start=START, end=END, symbols=SYMBOLS)
    message = str(error.value)
    assert f"HTTP {status}" in message
    assert "QUANTLAKE_ALPACA__API_KEY" in message
    assert secret not in message and key not in message


def test_a_rate_limit_is_retried_then_the_fetch_succeeds(
    no_retry_wait: None, daily_bars: pl.DataFrame
) -> None:
    with AlpacaDataServer(daily_bars, api_key=KEY, secret_key=SECRET, faults=2) as srv:
        batch = source(srv.url).fetch(start=START, end=END, symbols=SYMBOLS)
    assert batch.bars.equals(daily_bars)
    assert [r.status for r in srv.requests] == [429, 429, 200]


def test_a_lasting_rate_limit_becomes_a_source_error(
    no_retry_wait: None, daily_bars: pl.DataFrame
) -> None:
    srv = AlpacaDataServer(daily_bars, api_key=KEY, secret_key=SECRET, faults=100)
    with srv, pytest.raises(SourceError, match=r"HTTP 429.*wait"):
        source(srv.url).fetch(start=START, end=END, symbols=SYMBOLS)
    assert len(srv.requests) == 4  # the first try and alpaca-py's three retries


def test_an_unreachable_server_is_a_source_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    with pytest.raises(SourceError, match="cannot reach Alpaca market data"):
        source(url).fetch(start=START, end=END, symbols=SYMBOLS)


def test_a_wrong_data_url_is_a_source_error_naming_the_setting(server: AlpacaDataServer) -> None:
    with pytest.raises(SourceError, match=r"HTTP 404.*QUANTLAKE_ALPACA__DATA_URL"):
        source(f"{server.url}/elsewhere").fetch(start=START, end=END, symbols=SYMBOLS)


def test_symbols_are_required(server: AlpacaDataServer) -> None:
    with pytest.raises(SourceError, match="QUANTLAKE_SYMBOLS"):
        source(server.url).fetch(start=START, end=END)
    assert server.requests == []


def test_keys_are_required() -> None:
    with pytest.raises(SourceError, match="QUANTLAKE_ALPACA__API_KEY"):
        AlpacaBarSource(AlpacaSettings(), symbols=SYMBOLS)


def test_a_symbol_without_data_is_simply_absent(server: AlpacaDataServer) -> None:
    batch = source(server.url).fetch(start=START, end=END, symbols=("AAPL", "NOPE"))
    assert set(batch.bars.get_column("symbol")) == {"AAPL"}
