"""The whole cycle with Alpaca on both ends: real alpaca-py clients against local Alpaca servers.

Bars come from the real 100-symbol Yahoo file through a server speaking Alpaca's market-data
API; orders go to a server speaking Alpaca's trading API, priced at the file's last closes.
The pretend clock stands just after the file's last session, so the trade gate sees fresh data.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from flows.sources.base import BAR_COLUMNS, SourceError
from quantlake import runtime
from quantlake.cycle import run_cycle
from quantlake.settings import Settings, load_settings
from tests.support.alpaca_data_server import MAX_LIMIT, AlpacaDataServer
from tests.support.alpaca_trading_server import AlpacaTradingServer
from tests.support.model_config import lenient_model_config
from warehouse import schemas
from warehouse.lake import Lakehouse

pytestmark = pytest.mark.integration

YAHOO_100 = Path("equities_daily/yahoo_us_equities_100_daily_2010-2021.csv.gz")
SYMBOLS = (
    "AAPL", "AMZN", "CSCO", "CVX", "GOOGL", "HD", "INTC", "JNJ",
    "JPM", "KO", "MSFT", "NVDA", "ORCL", "PEP", "PG",
)  # fmt: skip
KEY = "PKTESTKEY0000000001"
SECRET = "test-secret-9f8e7d6c5b4a"
HISTORY_START = dt.date(2018, 1, 2)
LAST_SESSION = dt.date(2021, 12, 31)
# 18:00 in New York: two hours after the file's last session closed.
NOW = dt.datetime(2021, 12, 31, 23, tzinfo=dt.UTC)
POST = "POST /v2/orders"
LOOKUP = "GET /v2/orders:by_client_order_id"
CASH = 1_000_000.0


@pytest.fixture(scope="module")
def bars(shared_data: Path) -> pl.DataFrame:
    """Every bar of SYMBOLS in the file (2010-2021): the market-data server's whole history."""
    frame = pl.read_csv(shared_data / YAHOO_100, try_parse_dates=True)
    return (
        frame.filter(pl.col("symbol").is_in(SYMBOLS))
        .rename({"date": "session"})
        .select(list(BAR_COLUMNS))
        .cast(BAR_COLUMNS)
        .sort("symbol", "session")
    )


@pytest.fixture
def data_server(bars: pl.DataFrame) -> Iterator[AlpacaDataServer]:
    with AlpacaDataServer(bars, api_key=KEY, secret_key=SECRET) as server:
        yield server


@pytest.fixture
def trading_server(bars: pl.DataFrame) -> Iterator[AlpacaTradingServer]:
    last = bars.filter(pl.col("session") == LAST_SESSION)
    prices = dict(last.select("symbol", "close").iter_rows())
    assert sorted(prices) == sorted(SYMBOLS)
    with AlpacaTradingServer(prices=prices, cash=CASH, api_key=KEY, secret_key=SECRET) as server:
        yield server


def alpaca_settings(
    monkeypatch: pytest.MonkeyPatch,
    data_dir: Path,
    *,
    data_url: str,
    trading_url: str,
    key: str = KEY,
    secret: str = SECRET,
) -> Settings:
    """Configure quantlake through the environment, as a person would, and prepare its folders."""
    env = {
        "QUANTLAKE_DATA_DIR": str(data_dir),
        "QUANTLAKE_SOURCE": "auto",
        "QUANTLAKE_BROKER": "alpaca",
        "QUANTLAKE_ALPACA__API_KEY": key,
        "QUANTLAKE_ALPACA__SECRET_KEY": secret,
        "QUANTLAKE_ALPACA__DATA_URL": data_url,
        "QUANTLAKE_ALPACA__TRADING_URL": trading_url,
        "QUANTLAKE_SYMBOLS": "[" + ",".join(f'"{s}"' for s in SYMBOLS) + "]",
        "QUANTLAKE_HISTORY_START": HISTORY_START.isoformat(),
        # Real 2018-2021 prices hold no signal these features find (mean OOS IC ~0), so the
        # default promotion gate rightly leaves no champion and the book is held. This test is
        # about the broker path, so it trains under a config whose gate admits any model.
        "QUANTLAKE_MODEL__CONFIG": str(lenient_model_config(data_dir.parent)),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    # runtime.prepare sets DAGSTER_HOME itself; registering it here restores it afterwards.
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    settings = load_settings()
    runtime.prepare(settings)
    return settings


def server_orders(server: AlpacaTradingServer) -> pl.DataFrame:
    """Return the trading server's book, one row per order, by client_order_id."""
    with server.lock:
        orders = [dict(o) for o in server.orders.values()]
    return pl.DataFrame(
        {
            "client_order_id": [o["client_order_id"] for o in orders],
            "broker_order_id": [o["id"] for o in orders],
            "symbol": [o["symbol"] for o in orders],
            "side": [o["side"] for o in orders],
            "qty": [float(o["qty"]) for o in orders],
            "status": [o["status"] for o in orders],
            "filled_qty": [float(o["filled_qty"]) for o in orders],
            "filled_avg_price": [float(o["filled_avg_price"] or "nan") for o in orders],
        },
        schema={"client_order_id": pl.String, "broker_order_id": pl.String, "symbol": pl.String,
                "side": pl.String, "qty": pl.Float64, "status": pl.String,
                "filled_qty": pl.Float64, "filled_avg_price": pl.Float64},
    ).sort("client_order_id")  # fmt: skip


def server_positions(server: AlpacaTradingServer) -> pl.DataFrame:
    """Return the positions the trading server reports, as alpaca-py would parse them."""
    with server.lock:
        rows = server.positions_json()
    return pl.DataFrame(
        {
            "symbol": [p["symbol"] for p in rows],
            "qty": [float(p["qty"]) for p in rows],
            "avg_price": [float(p["avg_entry_price"]) for p in rows],
        },
        schema={"symbol": pl.String, "qty": pl.Float64, "avg_price": pl.Float64},
    ).sort("symbol")


def assert_lake_matches_server(settings: Settings, server: AlpacaTradingServer) -> pl.DataFrame:
    """Check orders, fills and positions in the lakehouse against the server; return its book."""
    book = server_orders(server)
    assert book.get_column("client_order_id").is_unique().all()
    assert set(book.get_column("status")) == {"filled"}
    with Lakehouse(settings.lake_dir, catalog=settings.catalog) as lake:
        orders = lake.read(schemas.ORDERS).sort("client_order_id")
        fills = lake.read(schemas.FILLS).sort("client_order_id")
        positions = lake.read(schemas.POSITIONS, where="broker = ?", params=["alpaca"])
    assert set(orders.get_column("broker")) == {"alpaca"}
    columns = ["client_order_id", "broker_order_id", "symbol", "side", "qty", "status"]
    assert orders.select(columns).equals(book.select(columns))
    assert fills.select("client_order_id", "qty", "price").equals(
        book.select("client_order_id", qty="filled_qty", price="filled_avg_price")
    )
    assert (
        positions.select("symbol", "qty", "avg_price")
        .sort("symbol")
        .equals(server_positions(server))
    )
    return book


def expected_rows(bars: pl.DataFrame) -> int:
    return bars.filter(pl.col("session").is_between(HISTORY_START, LAST_SESSION)).height


def test_alpaca_cycle_trades_once_and_a_rerun_changes_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    prefect_server: None,
    bars: pl.DataFrame,
    data_server: AlpacaDataServer,
    trading_server: AlpacaTradingServer,
) -> None:
    settings = alpaca_settings(
        monkeypatch, tmp_path / "data", data_url=data_server.url, trading_url=trading_server.url
    )
    assert settings.resolved_source == "alpaca"

    stages: list[str] = []
    first = run_cycle(settings, now=NOW, on_stage=stages.append)
    assert stages == ["ingest", "assets", "trade"]
    assert (first.ingest.source, first.ingest.status) == ("alpaca", "loaded")
    assert first.ingest.validation == "passed"
    assert first.ingest.rows_in == expected_rows(bars)
    assert (first.ingest.first_session, first.ingest.last_session) == (HISTORY_START, LAST_SESSION)
    # More bars than one page holds: alpaca-py followed next_page_token to the end.
    assert len(data_server.requests) == math.ceil(expected_rows(bars) / MAX_LIMIT) > 1
    assert {(r.status, r.key_id) for r in data_server.requests} == {(200, KEY)}
    assert first.refused is None, first.refused
    assert first.trade.session == LAST_SESSION
    assert first.trade.orders_sent > 0
    with Lakehouse(settings.lake_dir, catalog=settings.catalog) as lake:
        predicted = lake.query("SELECT DISTINCT session, symbol FROM predictions.daily")
    assert predicted.get_column("session").unique().to_list() == [LAST_SESSION]
    assert sorted(predicted.get_column("symbol")) == sorted(SYMBOLS)

    book = assert_lake_matches_server(settings, trading_server)
    assert book.height == first.trade.orders_sent == trading_server.calls(POST)
    assert set(book.get_column("side")) == {"buy"}
    assert {p["symbol"] for p in first.trade.positions} == set(book.get_column("symbol"))

    data_requests = len(data_server.requests)
    second = run_cycle(settings, now=NOW, on_stage=stages.append)
    assert stages == ["ingest", "assets", "trade"] * 2
    assert second.ingest.status == "up_to_date"
    assert len(data_server.requests) == data_requests
    assert second.refused is None, second.refused
    assert second.trade.orders_sent == 0
    assert trading_server.calls(POST) == book.height
    assert server_orders(trading_server).equals(book)
    assert assert_lake_matches_server(settings, trading_server).equals(book)
    with Lakehouse(settings.lake_dir, catalog=settings.catalog) as lake:
        assert lake.count(schemas.ORDERS) == book.height
        assert lake.count(schemas.RAW_BARS) == expected_rows(bars)


def test_an_order_accepted_without_a_reply_is_found_and_recorded(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    prefect_server: None,
    bars: pl.DataFrame,
    data_server: AlpacaDataServer,
    trading_server: AlpacaTradingServer,
) -> None:
    settings = alpaca_settings(
        monkeypatch, tmp_path / "data", data_url=data_server.url, trading_url=trading_server.url
    )
    trading_server.inject(POST, "timeout_after_accept")

    result = run_cycle(settings, now=NOW, on_stage=lambda stage: None)
    assert result.refused is None, result.refused
    book = assert_lake_matches_server(settings, trading_server)
    assert book.height == result.trade.orders_sent == trading_server.calls(POST)
    # The first order sent is the one whose reply never came: it was looked up, not sent again.
    first = next(r for r in trading_server.requests if r.route == POST).body["client_order_id"]
    about_first = [
        r.route
        for r in trading_server.requests
        if first in (r.query.get("client_order_id"), (r.body or {}).get("client_order_id"))
    ]
    assert about_first.count(POST) == 1
    assert about_first[-2:] == [POST, LOOKUP]
    assert book.filter(pl.col("client_order_id") == first).get_column("status").item() == "filled"


def test_a_market_the_broker_calls_closed_gets_no_order(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    prefect_server: None,
    data_server: AlpacaDataServer,
    trading_server: AlpacaTradingServer,
) -> None:
    settings = alpaca_settings(
        monkeypatch, tmp_path / "data", data_url=data_server.url, trading_url=trading_server.url
    )
    trading_server.market_open = False  # e.g. a closure the exchange calendar does not know

    result = run_cycle(settings, now=NOW, on_stage=lambda stage: None)
    assert result.refused is not None and "says the market is closed" in result.refused
    assert trading_server.calls(POST) == 0
    with Lakehouse(settings.lake_dir, catalog=settings.catalog) as lake:
        assert lake.count(schemas.ORDERS) == 0


def test_wrong_keys_fail_the_ingest_with_a_clear_error_and_no_secret(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    prefect_server: None,
    data_server: AlpacaDataServer,
    trading_server: AlpacaTradingServer,
) -> None:
    key, secret = "PKWRONGKEY00000000", "wrong-secret-0a1b2c3d"
    settings = alpaca_settings(
        monkeypatch,
        tmp_path / "data",
        data_url=data_server.url,
        trading_url=trading_server.url,
        key=key,
        secret=secret,
    )
    stages: list[str] = []
    with pytest.raises(SourceError) as error:
        run_cycle(settings, now=NOW, on_stage=stages.append)
    message = str(error.value)
    assert "HTTP 401" in message
    assert "QUANTLAKE_ALPACA__API_KEY" in message
    assert key not in message and secret not in message
    assert stages == ["ingest"]
    assert {(r.status, r.key_id) for r in data_server.requests} == {(401, key)}
    assert trading_server.requests == []
    with Lakehouse(settings.lake_dir, catalog=settings.catalog) as lake:
        assert lake.count(schemas.RAW_BARS) == 0
