"""reconcile compares trading records with a real PaperBroker seeded into each mismatch case."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from rich.console import Console

from flows.brokers.base import OrderRequest
from flows.brokers.paper import PaperBroker
from flows.trade.reconcile import ReconcileError, reconcile
from flows.trade.reconcile_checks import compare_positions
from flows.trade.views import render_reconcile
from quantlake.settings import PaperBrokerSettings
from warehouse import schemas
from warehouse.lake import Lakehouse

NOW = dt.datetime(2026, 11, 23, 14, 45, tzinfo=dt.UTC)  # Monday 09:45 New York
SESSION = dt.date(2026, 11, 20)
SETTINGS = PaperBrokerSettings(initial_cash=100_000.0, commission_bps=1.0, slippage_bps=5.0)


@pytest.fixture
def broker(lake: Lakehouse) -> PaperBroker:
    return PaperBroker(lake, settings=SETTINGS)


def buy(broker: PaperBroker, cid: str, symbol: str, qty: float, **kw: object) -> None:
    broker.submit(OrderRequest(cid, symbol, "buy", qty, reference_price=100.0, **kw))  # type: ignore[arg-type]


def platform(
    lake: Lakehouse,
    *,
    orders: dict[str, tuple[str, str]] | None = None,
    positions: dict[str, float] | None = None,
) -> None:
    """Record orders ({id: (symbol, status)}) and positions ({symbol: qty}) as the platform's."""
    with lake.transaction("platform records") as txn:
        txn.merge(
            schemas.ORDERS,
            schemas.ORDERS.frame(
                [
                    {"client_order_id": cid, "broker": "paper", "session": SESSION}
                    | {"symbol": symbol, "side": "buy", "qty": 1.0, "status": status}
                    for cid, (symbol, status) in (orders or {}).items()
                ]
            ),
        )
        txn.merge(
            schemas.POSITIONS,
            schemas.POSITIONS.frame(
                [
                    {"broker": "paper", "symbol": s, "qty": q, "as_of": NOW}
                    for s, q in (positions or {}).items()
                ]
            ),
        )


def outcomes(report) -> dict[str, str]:  # noqa: ANN001
    return {
        **{c.symbol: c.outcome for c in report.positions},
        **{c.client_order_id: c.outcome for c in report.orders},
    }


def decisions(lake: Lakehouse, run_id: str) -> dict[str, str]:
    rows = lake.read(schemas.RISK_DECISIONS, where="run_id = ?", params=[run_id])
    return dict(rows.select("subject", "decision").iter_rows())


def test_agreeing_books_reconcile_cleanly_in_one_snapshot(
    lake: Lakehouse, broker: PaperBroker
) -> None:
    buy(broker, "o-1", "AAA", 10.0)
    platform(lake, orders={"o-1": ("AAA", "filled")}, positions={"AAA": 10.0})
    before = lake.current_snapshot()
    report = reconcile(lake, broker, now=NOW, exchange="XNYS")
    assert report.clean and report.differences == ()
    assert outcomes(report) == {"AAA": "match"}
    assert (report.read_snapshot, report.snapshot_id) == (before, before + 1)
    assert decisions(lake, report.run_id) == {
        "reconcile:position:AAA": "match",
        "reconcile": "match",
    }
    rows = lake.read(schemas.RISK_DECISIONS, where="run_id = ?", params=[report.run_id])
    assert set(rows.get_column("session")) == {dt.date(2026, 11, 23)}


def test_positions_differ_by_quantity_or_are_missing_on_either_side(
    lake: Lakehouse, broker: PaperBroker
) -> None:
    buy(broker, "o-1", "AAA", 10.0)
    buy(broker, "o-2", "BBB", 5.0)
    platform(
        lake,
        orders={"o-1": ("AAA", "filled"), "o-2": ("BBB", "filled")},
        positions={"AAA": 8.0, "CCC": 3.0},
    )
    report = reconcile(lake, broker, now=NOW, exchange="XNYS")
    assert not report.clean
    assert outcomes(report) == {
        "AAA": "qty_mismatch",
        "BBB": "missing_in_platform",
        "CCC": "missing_at_broker",
    }
    aaa = report.positions[0]
    assert (aaa.platform_qty, aaa.broker_qty) == (8.0, 10.0)
    assert set(decisions(lake, report.run_id).values()) == {"mismatch"}


def test_a_broker_order_the_platform_does_not_know_is_reported_not_adopted(
    lake: Lakehouse, broker: PaperBroker
) -> None:
    buy(broker, "manual-1", "AAA", 10.0)
    report = reconcile(lake, broker, now=NOW, exchange="XNYS")
    assert outcomes(report) == {"AAA": "missing_in_platform", "manual-1": "unknown_order"}
    assert lake.count(schemas.ORDERS) == 0
    assert decisions(lake, report.run_id)["reconcile:order:manual-1"] == "unknown_order"


def test_a_pending_order_the_broker_filled_is_updated_once_with_its_fill(
    lake: Lakehouse, broker: PaperBroker
) -> None:
    platform(lake, orders={"o-1": ("AAA", "pending_submit")})
    buy(broker, "o-1", "AAA", 10.0)  # sent, then the trade run died before recording it
    at_broker = broker.get_order("o-1")
    report = reconcile(lake, broker, now=NOW, exchange="XNYS")
    assert outcomes(report) == {"AAA": "missing_in_platform", "o-1": "updated"}
    assert [c.outcome for c in report.differences] == ["missing_in_platform"]
    [order] = lake.read(schemas.ORDERS).iter_rows(named=True)
    assert (order["status"], order["broker_order_id"]) == ("filled", at_broker.broker_order_id)
    [fill] = lake.read(schemas.FILLS).iter_rows(named=True)
    assert (fill["fill_id"], fill["qty"]) == ("o-1-fill", 10.0)
    assert fill["price"] == pytest.approx(at_broker.filled_avg_price)
    assert decisions(lake, report.run_id)["reconcile:order:o-1"] == "updated"

    again = reconcile(lake, broker, now=NOW, exchange="XNYS")
    assert again.orders == ()  # the order is final now: nothing left to compare or update
    assert lake.count(schemas.FILLS) == 1


def test_pending_orders_the_broker_lacks_were_never_sent_and_stay_pending(
    lake: Lakehouse, broker: PaperBroker
) -> None:
    platform(lake, orders={"o-1": ("AAA", "pending_submit"), "o-2": ("BBB", "new")})
    report = reconcile(lake, broker, now=NOW, exchange="XNYS")
    assert outcomes(report) == {"o-1": "never_sent", "o-2": "missing_at_broker"}
    assert "never sent" in report.orders[0].reason
    stored = dict(lake.read(schemas.ORDERS).select("client_order_id", "status").iter_rows())
    assert stored == {"o-1": "pending_submit", "o-2": "new"}
    assert decisions(lake, report.run_id)["reconcile"] == "mismatch"


def test_open_orders_match_or_disagree_with_the_broker(
    lake: Lakehouse, broker: PaperBroker
) -> None:
    # A limit below the fill price stays "new" at the paper broker.
    buy(broker, "o-1", "AAA", 1.0, order_type="limit", limit_price=50.0)
    buy(broker, "o-2", "BBB", 1.0, order_type="limit", limit_price=50.0)
    platform(lake, orders={"o-1": ("AAA", "new"), "o-2": ("BBB", "filled")})
    report = reconcile(lake, broker, now=NOW, exchange="XNYS")
    assert outcomes(report) == {"o-1": "match", "o-2": "status_mismatch"}
    assert report.orders[1].platform_status == "filled"
    assert report.orders[1].broker_status == "new"


class RacingBroker(PaperBroker):
    """A paper broker during whose order listing a trade run changes trading.orders."""

    def list_orders(self):  # noqa: ANN201
        stored = self._lake.read(schemas.ORDERS)
        with self._lake.transaction("a concurrent trade run") as txn:
            txn.merge(schemas.ORDERS, stored.with_columns(status=pl.lit("canceled")))
        return super().list_orders()


def test_orders_changed_meanwhile_abort_the_whole_report(lake: Lakehouse) -> None:
    broker = RacingBroker(lake, settings=SETTINGS)
    platform(lake, orders={"o-1": ("AAA", "pending_submit")})
    buy(broker, "o-1", "AAA", 10.0)
    with pytest.raises(ReconcileError, match="run reconcile again"):
        reconcile(lake, broker, now=NOW, exchange="XNYS")
    assert lake.count(schemas.RISK_DECISIONS) == 0
    assert lake.count(schemas.FILLS) == 0


def test_quantities_equal_up_to_float_drift_match() -> None:
    [check] = compare_positions({"AAA": 0.1 + 0.2}, {"AAA": 0.3})
    assert check.outcome == "match"
    [check] = compare_positions({"AAA": 0.3}, {"AAA": 0.3001})
    assert check.outcome == "qty_mismatch"


def test_the_rendered_report_shows_the_verdict_and_each_check(
    lake: Lakehouse, broker: PaperBroker
) -> None:
    buy(broker, "o-1", "AAA", 10.0)
    platform(lake, orders={"o-1": ("AAA", "filled")}, positions={"AAA": 8.0})
    console = Console(record=True, width=300)
    console.print(render_reconcile(reconcile(lake, broker, now=NOW, exchange="XNYS")))
    text = console.export_text()
    assert "Reconciliation with paper: 1 difference " in text
    assert "qty_mismatch" in text and "trading.positions records 8, the broker holds 10" in text
