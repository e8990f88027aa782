"""Pure comparison of the platform's positions and orders with the broker's (no I/O)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from flows.brokers.base import BrokerOrder

Outcome = Literal[
    "match",
    "qty_mismatch",
    "missing_in_platform",
    "missing_at_broker",
    "status_mismatch",
    "never_sent",
    "unknown_order",
    "updated",
]
Decision = Literal["match", "mismatch", "unknown_order", "updated"]

# Platform statuses an order can still leave; "pending_submit" is written before sending.
OPEN_STATUSES = ("pending_submit", "new", "accepted", "partially_filled")
# Positions closer than this are the same (float drift of fractional shares), as in the broker.
QTY_TOLERANCE = 1e-9


def _decision(outcome: Outcome) -> Decision:
    if outcome in ("match", "updated", "unknown_order"):
        return outcome  # type: ignore[return-value]
    return "mismatch"


@dataclass(frozen=True)
class PositionCheck:
    """One symbol's position on both sides."""

    symbol: str
    platform_qty: float | None
    broker_qty: float | None
    outcome: Outcome
    reason: str

    @property
    def decision(self) -> Decision:
        return _decision(self.outcome)


@dataclass(frozen=True)
class OrderCheck:
    """One order as the platform and the broker know it (None: that side has no record)."""

    client_order_id: str
    symbol: str
    platform_status: str | None
    broker_status: str | None
    outcome: Outcome
    reason: str

    @property
    def decision(self) -> Decision:
        return _decision(self.outcome)


def compare_positions(
    platform: Mapping[str, float], broker: Mapping[str, float]
) -> tuple[PositionCheck, ...]:
    """Return one check per symbol held on either side, by symbol."""
    checks = []
    for symbol in sorted(set(platform) | set(broker)):
        ours, theirs = platform.get(symbol), broker.get(symbol)
        if ours is None:
            outcome: Outcome = "missing_in_platform"
            reason = f"broker holds {theirs:g}; trading.positions has no {symbol} position"
        elif theirs is None:
            outcome = "missing_at_broker"
            reason = f"trading.positions records {ours:g}; the broker holds no {symbol}"
        elif math.isclose(ours, theirs, rel_tol=QTY_TOLERANCE, abs_tol=QTY_TOLERANCE):
            outcome, reason = "match", f"{ours:g} on both sides"
        else:
            outcome = "qty_mismatch"
            reason = f"trading.positions records {ours:g}, the broker holds {theirs:g}"
        checks.append(PositionCheck(symbol, ours, theirs, outcome, reason))
    return tuple(checks)


def compare_orders(
    open_orders: Iterable[tuple[str, str, str]],
    *,
    known: Mapping[str, str],
    asked: Mapping[str, BrokerOrder | None],
    listed: Iterable[BrokerOrder],
) -> tuple[OrderCheck, ...]:
    """Return checks of the platform's open orders, then of broker orders it cannot account for.

    ``open_orders`` are (client_order_id, symbol, status) of the platform's non-final orders,
    ``known`` maps every platform order id to its status, ``asked`` holds the broker's answer
    for each open order, ``listed`` is the broker's own order list.
    """
    checks = [_open_check(cid, sym, status, asked[cid]) for cid, sym, status in sorted(open_orders)]
    seen = {c.client_order_id for c in checks}
    for order in sorted(listed, key=lambda o: o.client_order_id):
        cid = order.client_order_id
        if cid in seen:
            continue
        seen.add(cid)
        if cid not in known:
            reason = (
                f"broker order {order.broker_order_id} ({order.side} {order.qty:g} "
                f"{order.symbol}, {order.status}) is not in trading.orders; not adopted"
            )
            checks.append(
                OrderCheck(cid, order.symbol, None, order.status, "unknown_order", reason)
            )
        elif order.status in OPEN_STATUSES:
            reason = f"trading.orders says {known[cid]}, the broker still has it {order.status}"
            checks.append(
                OrderCheck(cid, order.symbol, known[cid], order.status, "status_mismatch", reason)
            )
    return tuple(checks)


def _open_check(cid: str, symbol: str, status: str, at_broker: BrokerOrder | None) -> OrderCheck:
    if at_broker is None:
        if status == "pending_submit":
            reason = (
                "recorded before sending, but the broker has no such order: never sent "
                "(a trade run for the same session sends it; a later session's run does not)"
            )
            return OrderCheck(cid, symbol, status, None, "never_sent", reason)
        reason = f"trading.orders says {status}, but the broker has no such order"
        return OrderCheck(cid, symbol, status, None, "missing_at_broker", reason)
    if at_broker.status == status:
        return OrderCheck(cid, symbol, status, status, "match", f"{status} on both sides")
    reason = f"{status} -> {at_broker.status} (the broker's status; fills recorded)"
    return OrderCheck(cid, symbol, status, at_broker.status, "updated", reason)
