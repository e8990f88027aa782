"""PaperBroker.submit_many: one transaction that books exactly what one-by-one submits would,
in order (a sell frees the cash a later buy needs), and a rerun sends nothing."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

from flows.brokers.base import OrderRequest
from flows.brokers.paper import PaperBroker
from quantlake.settings import PaperBrokerSettings
from warehouse.lake import Lakehouse

SETTINGS = PaperBrokerSettings(initial_cash=10_000.0, commission_bps=1.0, slippage_bps=5.0)
SEED = [OrderRequest("seed", "AAA", "buy", 40.0, reference_price=200.0)]
BATCH = [
    OrderRequest("s-1", "AAA", "sell", 40.0, reference_price=210.0),  # frees ~8,400
    OrderRequest("b-1", "BBB", "buy", 50.0, reference_price=100.0),  # needs ~5,000
    OrderRequest("b-2", "CCC", "buy", 100.0, reference_price=100.0),  # beyond cash: rejected
    OrderRequest("b-3", "DDD", "buy", 3.0, reference_price=50.0, reference_volume=1_000.0),
]


def comparable(order):
    return dataclasses.replace(order, broker_order_id="", submitted_at=None, filled_at=None)


def book(broker: PaperBroker) -> tuple:
    positions = sorted(broker.positions(), key=lambda p: p.symbol)
    return broker.account(prices={"BBB": 100.0, "DDD": 50.0}), positions


def test_a_batch_books_what_one_by_one_submits_would(lake: Lakehouse) -> None:
    batch = PaperBroker(lake, settings=SETTINGS)
    batch.submit_many(SEED)
    snapshot = lake.current_snapshot()
    placed, new = batch.submit_many(BATCH)
    assert new == len(BATCH) and lake.current_snapshot() == snapshot + 1  # one transaction
    assert [o.status for o in placed] == ["filled", "filled", "rejected", "filled"]

    with tempfile.TemporaryDirectory() as tmp, Lakehouse(Path(tmp)) as other:
        single = PaperBroker(other, settings=SETTINGS)
        for order in SEED:
            single.submit(order)
        one_by_one = [single.submit(order) for order in BATCH]
        assert [comparable(o) for o in placed] == [comparable(o) for o in one_by_one]
        assert book(batch) == book(single)


def test_a_rerun_of_the_batch_sends_nothing(lake: Lakehouse) -> None:
    broker = PaperBroker(lake, settings=SETTINGS)
    broker.submit_many(SEED + BATCH)
    snapshot = lake.current_snapshot()
    again, new = broker.submit_many(SEED + BATCH)
    assert new == 0 and lake.current_snapshot() == snapshot
    assert [o.client_order_id for o in again] == [o.client_order_id for o in SEED + BATCH]
