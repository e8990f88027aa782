"""A trade run killed after recording its orders but before sending them: the next run sends
each recorded order exactly once, sells before buys, and plans nothing new."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from flows.brokers.select import build_broker
from flows.trade.flow import plan, trade_flow
from flows.trade.gate import check_gate
from flows.trade.records import order_rows
from quantlake.cycle import _materialize, run_cycle
from warehouse import schemas
from warehouse.lake import Lakehouse

pytestmark = pytest.mark.integration

FRIDAY_NIGHT = dt.datetime(2026, 11, 21, 1, tzinfo=dt.UTC)
MONDAY_NIGHT = dt.datetime(2026, 11, 24, 1, tzinfo=dt.UTC)


@pytest.fixture
def settings(simulator_settings):
    return simulator_settings(QUANTLAKE_STRATEGY__TOP_K="4")


def test_orders_recorded_by_a_killed_run_are_sent_once_sells_first(settings) -> None:
    first = run_cycle(settings, now=FRIDAY_NIGHT, on_stage=lambda _: None)
    assert first.trade.orders_sent > 0

    from flows.ingest.daily import ingest_flow

    ingest_flow(now=MONDAY_NIGHT)
    _materialize(settings, as_of=MONDAY_NIGHT)
    with Lakehouse(settings.lake_dir) as lake:
        gate = check_gate(lake, settings, now=MONDAY_NIGHT, run_id=uuid.uuid4().hex)
        broker = build_broker(settings, lake=lake)
        planned = plan(lake, broker, settings, gate)
        intents = order_rows(planned.orders, settings, gate, broker, MONDAY_NIGHT)
        assert not intents.is_empty()
        with lake.transaction("write-ahead, then the process dies") as txn:
            txn.insert_missing(schemas.ORDERS, intents)
        sent_before = lake.count(schemas.PAPER_ORDERS)

    resumed = trade_flow(now=MONDAY_NIGHT, report_to_dagster=False)
    assert resumed.orders_sent == len(intents)
    again = trade_flow(now=MONDAY_NIGHT, report_to_dagster=False)
    assert again.orders_sent == 0

    with Lakehouse(settings.lake_dir) as lake:
        paper = lake.read(
            schemas.PAPER_ORDERS,
            where="client_order_id IN (SELECT unnest(?))",
            params=[intents.get_column("client_order_id").to_list()],
            order_by="submitted_at",
        )
        assert lake.count(schemas.PAPER_ORDERS) == sent_before + len(intents)
        assert paper.get_column("status").to_list() == ["filled"] * len(intents)
        sides = paper.get_column("side").to_list()
        assert {"buy", "sell"} <= set(sides), sides  # the scenario must exercise the order
        assert sides == sorted(sides, key=lambda side: side == "buy")
        recorded = lake.read(schemas.ORDERS, where="session = ?", params=[gate.session])
        assert sorted(recorded.get_column("client_order_id")) == sorted(
            intents.get_column("client_order_id")
        )
        assert set(recorded.get_column("status")) == {"filled"}
