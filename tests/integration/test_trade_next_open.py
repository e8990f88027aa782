"""The paper broker filling at the next open: orders sent after Friday's close wait, fill at
Monday's open (never past their limit, at most the participation cap of the volume), and what
is still working when Monday's plan is made is cancelled first, so nothing is bought twice."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from flows.brokers.select import build_broker
from flows.ingest.daily import ingest_flow
from flows.trade.flow import trade_flow
from flows.trade.reconcile import reconcile
from quantlake.cycle import _materialize, run_cycle
from warehouse import schemas
from warehouse.lake import Lakehouse

pytestmark = pytest.mark.integration

FRIDAY = dt.date(2026, 11, 20)
MONDAY = dt.date(2026, 11, 23)
FRIDAY_NIGHT = dt.datetime(2026, 11, 21, 1, tzinfo=dt.UTC)
MONDAY_NIGHT = dt.datetime(2026, 11, 24, 1, tzinfo=dt.UTC)


def test_gtc_limit_orders_fill_at_the_next_open_and_leftovers_are_cancelled(
    simulator_settings,
) -> None:
    settings = simulator_settings(
        QUANTLAKE_PAPER__FILL_AT="next_open",
        QUANTLAKE_STRATEGY__ORDER_TYPE="limit",
        QUANTLAKE_STRATEGY__LIMIT_OFFSET_BPS="30",
        QUANTLAKE_STRATEGY__TIME_IN_FORCE="gtc",
        QUANTLAKE_PAPER__MAX_PARTICIPATION="0.002",  # small enough that some orders only part-fill
    )
    friday = run_cycle(settings, now=FRIDAY_NIGHT, on_stage=lambda _: None)
    assert friday.trade.orders_sent > 0
    assert {o["status"] for o in friday.trade.orders} == {"accepted"}  # waiting for the open
    assert friday.trade.positions == []

    ingest_flow(now=MONDAY_NIGHT)
    _materialize(settings, as_of=MONDAY_NIGHT)
    trade_flow(now=MONDAY_NIGHT, report_to_dagster=False)

    with Lakehouse(settings.lake_dir) as lake:
        orders = lake.read(schemas.ORDERS, where="session = ?", params=[FRIDAY])
        fills = lake.read(schemas.FILLS).join(
            orders.select("client_order_id", "limit_price", pl.col("qty").alias("ordered")),
            on="client_order_id",
        )
        monday_bars = lake.read(schemas.CURATED_BARS, where="session = ?", params=[MONDAY])
        # Friday's orders were worked at Monday's open, then whatever was left was cancelled.
        assert set(orders.get_column("status")) <= {"filled", "canceled"}
        assert not fills.is_empty()
        assert (fills["price"] <= fills["limit_price"] + 1e-9).all()  # buys: never past the limit
        volume = dict(monday_bars.select("symbol", "volume").iter_rows())
        for symbol, qty in fills.select("symbol", "qty").iter_rows():
            assert qty <= 0.002 * volume[symbol] + 1, symbol  # participation cap
        partial = fills.filter(pl.col("qty") < pl.col("ordered"))
        assert not partial.is_empty(), "the cap must bind for this test to mean anything"
        cancels = lake.read(schemas.RISK_DECISIONS, where="decision = 'cancel'")
        assert set(cancels.get_column("subject")) == {
            f"cancel:{c}" for c in orders.filter(pl.col("status") == "canceled")["client_order_id"]
        }
        held = {s: q for s, q in lake.read(schemas.PAPER_POSITIONS).select("symbol", "qty").rows()}
        filled = fills.group_by("symbol").agg(pl.col("qty").sum())
        assert held == dict(filled.iter_rows())  # Monday's own orders are still waiting
        report = reconcile(
            lake, build_broker(settings, lake=lake), now=MONDAY_NIGHT, exchange="XNYS"
        )
        assert report.clean, report.differences
