"""What one trade run reports: the summary the CLI and `quantlake run` show."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

from flows.trade.cancel import Cancel
from warehouse import schemas
from warehouse.lake import Lakehouse


@dataclass
class TradeSummary:
    """What one trade run did.

    ``status`` is traded (orders sent now), no_orders, or halted (the book is HALTED: nothing
    was planned or sent, working orders were cancelled; ``state_reasons`` say why).
    ``orders`` are the session's orders that stand after the run (sent by it or an earlier run,
    not cancelled), ``planned`` their count; both are empty when halted. ``cancelled`` are the
    orders this run cancelled (stale ones before a plan, unsent ones failing their re-check,
    every working one on a halt), each with why.
    """

    session: dt.date | None
    status: str  # traded | no_orders | halted
    reason: str = ""
    model_version: str | None = None
    orders_sent: int = 0
    reconciliation: str | None = None
    state: str | None = None
    turnover: float | None = None
    notes: list[str] = field(default_factory=list)
    orders: list[dict[str, object]] = field(default_factory=list)
    positions: list[dict[str, object]] = field(default_factory=list)
    cash: float | None = None
    equity: float | None = None
    snapshot_id: int | None = None
    planned: int = 0
    cancelled: list[dict[str, object]] = field(default_factory=list)
    state_reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def standing_orders(
    lake: Lakehouse, *, strategy: str, broker: str, session: dt.date
) -> list[dict[str, object]]:
    """Return the session's orders that were not cancelled, with their fill price, sells first."""
    rows = lake.query(
        f"SELECT o.client_order_id, o.symbol, o.side, o.qty, o.status, f.price "
        f"FROM {schemas.ORDERS.table} o LEFT JOIN {schemas.FILLS.table} f "
        "ON f.client_order_id = o.client_order_id "
        "WHERE o.strategy = ? AND o.broker = ? AND o.session = ? AND o.status <> 'canceled' "
        "ORDER BY o.side = 'buy', o.symbol",
        [strategy, broker, session],
    )
    return rows.to_dicts()


def cancel_rows(cancels: list[Cancel]) -> list[dict[str, object]]:
    """Return the cancels as the summary lists them."""
    return [
        {
            "client_order_id": c.order.client_order_id,
            "symbol": c.order.symbol,
            "side": c.order.side,
            "qty": c.order.qty,
            "filled_qty": c.order.filled_qty,
            "status": c.order.status,
            "reason": c.reason,
        }
        for c in cancels
    ]


def reconciliation_line(run_id: str, *, clean: bool, unchanged_since: str | None) -> str:
    """Return the reconciliation in one line: its run, verdict, and whether it was recorded."""
    if unchanged_since:
        verdict = "clean" if clean else "the same differences"
        return f"{unchanged_since}: {verdict}; unchanged, not recorded again"
    return f"{run_id}: {'clean' if clean else 'differences recorded'}"
