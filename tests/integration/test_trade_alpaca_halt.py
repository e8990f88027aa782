"""A halt cancels the working orders at Alpaca (the local trading server), each cancel recorded:
a GTC limit order left working would keep filling in real time while trading is halted."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from flows.ingest.daily import ingest_flow
from flows.trade.controls import record_control
from flows.trade.flow import trade_flow
from quantlake.cycle import _materialize
from tests.support.alpaca_trading_server import AlpacaTradingServer, broker_env
from warehouse import schemas
from warehouse.lake import Lakehouse

pytestmark = pytest.mark.integration

FRIDAY = dt.date(2026, 11, 20)
FRIDAY_NIGHT = dt.datetime(2026, 11, 21, 1, tzinfo=dt.UTC)
DELETE = "DELETE /v2/orders/{id}"


def test_a_halt_cancels_working_orders_at_alpaca(simulator_settings) -> None:
    strategy = {
        "QUANTLAKE_STRATEGY__TOP_K": "4",
        "QUANTLAKE_STRATEGY__ORDER_TYPE": "limit",
        "QUANTLAKE_STRATEGY__TIME_IN_FORCE": "gtc",
    }
    settings = simulator_settings(n_symbols=8, **strategy)
    ingest_flow(now=FRIDAY_NIGHT)
    _materialize(settings, as_of=FRIDAY_NIGHT)
    with Lakehouse(settings.lake_dir) as lake:
        closes = lake.read(schemas.CURATED_BARS, where="session = ?", params=[FRIDAY])
    # The market trades 5% above Friday's close: buy limits 0.5% above it stay working.
    prices = {s: c * 1.05 for s, c in closes.select("symbol", "close").iter_rows()}
    with AlpacaTradingServer(prices=prices, cash=1_000_000.0) as server:
        settings = simulator_settings(n_symbols=8, **strategy, **broker_env(server))
        first = trade_flow(now=FRIDAY_NIGHT, report_to_dagster=False)
        working = sorted(o["client_order_id"] for o in first.orders)
        assert working and {o["status"] for o in first.orders} == {"new"}
        with Lakehouse(settings.lake_dir) as lake:
            record_control(
                lake, action="halt", actor="ops", reason="venue incident", now=FRIDAY_NIGHT
            )

        halted = trade_flow(now=FRIDAY_NIGHT + dt.timedelta(minutes=1), report_to_dagster=False)
        assert (halted.status, halted.orders, halted.orders_sent) == ("halted", [], 0)
        assert sorted(c["client_order_id"] for c in halted.cancelled) == working
        assert server.calls(DELETE) == len(working)
        with server.lock:
            book = {o["client_order_id"]: o["status"] for o in server.orders.values()}
        assert book == dict.fromkeys(working, "canceled")

    with Lakehouse(settings.lake_dir) as lake:
        orders = lake.read(schemas.ORDERS).filter(pl.col("broker") == "alpaca")
        assert dict(orders.select("client_order_id", "status").iter_rows()) == book
        cancels = lake.read(schemas.RISK_DECISIONS, where="decision = 'cancel'")
        assert set(cancels.get_column("subject")) == {f"cancel:{c}" for c in working}
        assert all("trading is HALTED" in r for r in cancels.get_column("reason"))
