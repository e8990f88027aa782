"""How one order executes in one session: fill quantity, price, costs and the resulting status.

The same pure model serves the paper broker and the backtest (no I/O). Two ways to execute:

- :func:`execute_on_bar` works the order over one whole session bar from its open ("next
  open"): a market order trades at the open; a limit buy at ``min(open, limit)`` when the open
  is at or below the limit, else at the limit when the low reaches it, else not at all (sells
  mirror this with the high). The session is then over: a DAY order's unfilled rest expires.
- :func:`execute_at_reference` trades at a reference ("last") price during a session that goes
  on: nothing expires, the caller decides what happens to the rest.

Costs, always against us (buys pay more, sells receive less)::

    cost_bps   = slippage_bps + impact_coefficient_bps * (fill_qty / volume) ** impact_exponent
    price      = base * (1 + cost_bps / 1e4) for a buy, base * (1 - cost_bps / 1e4) for a sell
    commission = commission_bps / 1e4 * fill_qty * price

With ``impact_exponent = 0.5`` the impact term is the square-root law of market impact: trading
1% of the session's volume costs a tenth of ``impact_coefficient_bps``, trading 10% about a third.
A limit order's price is clamped to its limit after slippage, so it never fills at a price worse
than the limit (the clamp means the limit absorbs the cost, as a resting order would).

Participation cap: at most ``max_participation * volume`` fills in one session; an order for a
whole number of shares fills whole shares only (the cap is rounded down). Missing, non-finite or
non-positive prices or volume give no fill and a reason, never a guessed default.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Side = Literal["buy", "sell"]
OrderType = Literal["market", "limit"]
TimeInForce = Literal["day", "gtc"]
# "open": nothing has filled yet and the order keeps working.
FillStatus = Literal["filled", "partially_filled", "open", "expired"]

# Quantities closer than this count as equal (float drift of fractional shares).
QTY_EPSILON = 1e-9


@dataclass(frozen=True)
class CostModel:
    """Slippage, market impact, participation cap and commission (see the module docstring)."""

    slippage_bps: float
    impact_coefficient_bps: float
    impact_exponent: float
    max_participation: float
    commission_bps: float


@dataclass(frozen=True)
class WorkingOrder:
    """An order still working: its total ``qty`` and what earlier sessions already filled."""

    side: Side
    qty: float
    order_type: OrderType = "market"
    limit_price: float | None = None
    time_in_force: TimeInForce = "day"
    filled_qty: float = 0.0

    @property
    def remaining(self) -> float:
        return max(self.qty - self.filled_qty, 0.0)


@dataclass(frozen=True)
class Bar:
    """One session's prices and traded volume; None where the data is missing."""

    open: float | None
    high: float | None
    low: float | None
    volume: float | None


@dataclass(frozen=True)
class Execution:
    """What one session did to an order: this session's fill and the status after it."""

    filled_qty: float
    avg_price: float | None
    commission: float
    status: FillStatus
    reason: str | None


def cost_bps(qty: float, volume: float | None, *, costs: CostModel) -> float:
    """Return the slippage in bps of trading ``qty`` against ``volume`` (None: the fixed part)."""
    if volume is None or qty <= 0:
        return costs.slippage_bps
    participation = qty / volume
    return costs.slippage_bps + costs.impact_coefficient_bps * participation**costs.impact_exponent


def data_problem(label: str, value: float | None) -> str | None:
    """Return why ``value`` (a price or volume) cannot be traded on, or None when it can."""
    if value is None or not math.isfinite(value):
        return f"no {label} ({value})"
    if value <= 0:
        return f"{label} is {value:g}, not positive"
    return None


def execute_on_bar(order: WorkingOrder, bar: Bar, *, costs: CostModel) -> Execution:
    """Work ``order`` over one whole session ``bar`` from its open; the session ends after it."""
    problems = [data_problem(n, v) for n, v in (("open", bar.open), ("volume", bar.volume))]
    touch = bar.low if order.side == "buy" else bar.high
    if order.order_type == "limit":
        problems.append(data_problem("low" if order.side == "buy" else "high", touch))
    found = [p for p in problems if p]
    if found:
        return _no_fill(order, "; ".join(found), session_over=True)
    assert bar.open is not None and touch is not None
    base = _limit_base(order, bar.open, touch) if order.order_type == "limit" else bar.open
    if base is None:
        side = "low" if order.side == "buy" else "high"
        reason = f"limit {order.limit_price:g} not reached (open {bar.open:g}, {side} {touch:g})"
        return _no_fill(order, reason, session_over=True)
    return _fill(order, base, bar.volume, costs=costs, session_over=True)


def execute_at_reference(
    order: WorkingOrder, *, price: float | None, volume: float | None, costs: CostModel
) -> Execution:
    """Trade ``order`` at the reference ``price`` during a session that goes on.

    ``volume`` is the session's traded volume; None means the caller models no volume (no
    impact, no participation cap), while a zero, negative or non-finite volume gives no fill.
    A limit order trades only when ``price`` is at or through its limit.
    """
    found = [data_problem("reference price", price)]
    if volume is not None:
        found.append(data_problem("reference volume", volume))
    problems = [p for p in found if p]
    if problems:
        return _no_fill(order, "; ".join(problems), session_over=False)
    assert price is not None
    if order.order_type == "limit" and _worse_than_limit(order, price):
        reason = f"limit {order.limit_price:g} not reached (reference price {price:g})"
        return _no_fill(order, reason, session_over=False)
    return _fill(order, price, volume, costs=costs, session_over=False)


def _limit_base(order: WorkingOrder, open_: float, touch: float) -> float | None:
    """Return the price a limit order trades at before costs, or None when not reached."""
    if not _worse_than_limit(order, open_):
        return open_
    if not _worse_than_limit(order, touch):
        assert order.limit_price is not None
        return order.limit_price
    return None


def _worse_than_limit(order: WorkingOrder, price: float) -> bool:
    assert order.limit_price is not None, "a limit order needs a limit_price"
    return price > order.limit_price if order.side == "buy" else price < order.limit_price


def _fill(
    order: WorkingOrder,
    base: float,
    volume: float | None,
    *,
    costs: CostModel,
    session_over: bool,
) -> Execution:
    qty, capped = _fill_qty(order, volume, costs=costs)
    if qty <= 0:
        return _no_fill(order, capped or "nothing left to fill", session_over=session_over)
    sign = 1.0 if order.side == "buy" else -1.0
    price = base * (1.0 + sign * cost_bps(qty, volume, costs=costs) / 1e4)
    if order.order_type == "limit":
        assert order.limit_price is not None
        price = min(price, order.limit_price) if sign > 0 else max(price, order.limit_price)
    commission = qty * price * costs.commission_bps / 1e4
    status = _status(order, qty, session_over=session_over)
    reason = capped
    if status == "expired":
        reason = f"{capped}; day order expired with {order.filled_qty + qty:g} filled"
    return Execution(qty, price, commission, status, reason)


def _fill_qty(
    order: WorkingOrder, volume: float | None, *, costs: CostModel
) -> tuple[float, str | None]:
    """Return the quantity this session fills and, when the cap bound it, why."""
    remaining = order.remaining
    if volume is None:
        return remaining, None
    cap = costs.max_participation * volume
    if float(order.qty).is_integer():
        cap = math.floor(cap + QTY_EPSILON)
    if cap + QTY_EPSILON >= remaining:
        return remaining, None
    reason = (
        f"participation cap: {cap:g} of {remaining:g} filled "
        f"({costs.max_participation:g} x volume {volume:g})"
    )
    return max(cap, 0.0), reason


def _status(order: WorkingOrder, qty: float, *, session_over: bool) -> FillStatus:
    if order.remaining - qty <= QTY_EPSILON:
        return "filled"
    if session_over and order.time_in_force == "day":
        return "expired"
    return "partially_filled" if order.filled_qty + qty > 0 else "open"


def _no_fill(order: WorkingOrder, reason: str, *, session_over: bool) -> Execution:
    status = _status(order, 0.0, session_over=session_over)
    if status == "expired":
        reason = f"{reason}; day order expired with {order.filled_qty:g} filled"
    return Execution(0.0, None, 0.0, status, reason)
