"""Pre-trade risk checks: every planned order passes, is resized or is rejected, with a reason.

Orders are checked one at a time against a running book that already holds the orders approved
before them. Priority decides who goes first, and so who gets the room, the cash and the order
slots: pure reductions (sells of longs, buys covering shorts, never past flat) first, then all
other orders; within each group larger notional first, then symbol, then input row.

Each order meets these rules in turn; a rule may cut its quantity, and one that leaves nothing
rejects it (the rules after it are not consulted):

1. ``state``: HALTED rejects every order; REDUCING keeps only the part that shrinks |position|.
2. ``restricted``: a restricted symbol keeps only the part that shrinks |position|.
3. ``price_collar``: reject when the reference price is more than ``price_collar_bps`` from the
   last trusted price, or there is no trusted price (fail closed, reductions included).
4. ``max_order_notional``: cut to ``max_order_notional / price`` (reductions included).
5. ``max_position_weight``: cut so |position| after it stays within the limit.
6. ``max_gross_exposure``: cut so gross exposure after it stays within the limit.
7. ``max_net_exposure``: cut so |net exposure| after it stays within the limit.
8. ``buying_power``: cut buys to the cash plus the proceeds of approved sells of longs.
9. ``max_orders_per_run``: reject once that many orders are approved.

Rules 5-7 never block a pure reduction of what they measure (the position; the position, for
gross; the net exposure): an order that moves it toward zero without crossing zero passes them
even when the book is over a limit, so an exit is never blocked by a breach it shrinks. Any
other order is cut so the measure ends within its limit (so a flip cannot overshoot into a
breach on the other side). Cuts are whole shares unless the requested quantity is fractional.
Exposures use the ``prices`` marks; notional and cash use each order's reference price.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from strategies.limits import RiskLimits
from strategies.orders import FRACTION_DIGITS
from strategies.risk_book import (
    RESULT_SCHEMA,
    Book,
    Order,
    read_book,
    read_orders,
    read_trusted,
)
from strategies.states import State


def check_orders(
    orders: pl.DataFrame,
    *,
    positions: pl.DataFrame,
    prices: pl.DataFrame,
    last_trusted: pl.DataFrame,
    equity: float,
    cash: float,
    state: State,
    limits: RiskLimits,
) -> pl.DataFrame:
    """Return ``orders`` (same rows, same order) with ``decision``, ``approved_qty``, ``rule``
    and ``reason``.

    ``decision`` is "pass" (``approved_qty == qty``), "resize" (0 < approved < qty) or "reject"
    (approved 0). ``rule`` names the rule that rejected the order, or the rules that cut it,
    comma-separated (null on a pass); ``reason`` gives the limit and the numbers.
    ``positions`` is (symbol, signed qty), ``prices`` (marks) and ``last_trusted`` are
    (symbol, price). Malformed inputs raise ValueError rather than being guessed at.
    """
    state = State(state)  # a misspelt state must fail, not trade as ACTIVE
    parsed = read_orders(orders)
    book = read_book(positions, prices, equity=equity, cash=cash, orders=parsed)
    check = _Check(book=book, state=state, limits=limits, trusted=read_trusted(last_trusted))
    results: dict[int, tuple[str, float, str | None, str]] = {}
    for order in sorted(parsed, key=lambda o: _priority(o, book)):
        results[order.row] = check.decide(order)
    decided = pl.DataFrame([results[o.row] for o in parsed], schema=RESULT_SCHEMA, orient="row")
    return orders.with_columns(decided.get_columns())


def _priority(order: Order, book: Book) -> tuple[int, float, str, int]:
    held = book.held(order.symbol)
    reduces = held * order.sign < 0 and order.qty <= abs(held)
    return (0 if reduces else 1, -order.qty * order.price, order.symbol, order.row)


Rule = Callable[["_Check", Order, float], "tuple[float, str] | None"]


@dataclass
class _Check:
    book: Book
    state: State
    limits: RiskLimits
    trusted: dict[str, float]

    def decide(self, order: Order) -> tuple[str, float, str | None, str]:
        """Return (decision, approved qty, rule, reason) and add the approved part to the book."""
        qty, names, notes = order.qty, [], []
        for name, rule in _RULES:
            hit = rule(self, order, qty)
            if hit is None:
                continue
            cap, note = hit
            cut = _truncate(cap, fractional=order.qty != math.floor(order.qty))
            if cut >= qty:  # binding only by float noise
                continue
            notes.append(note)
            if cut <= 0:
                return "reject", 0.0, name, "; ".join(notes)
            names.append(name)
            qty = cut
        self.book.apply(order, qty)
        if not names:
            return "pass", qty, None, "within all limits"
        summary = f"approved {qty:.10g} of {order.qty:.10g}"
        return "resize", qty, ",".join(names), "; ".join([*notes, summary])

    def state_rule(self, o: Order, qty: float) -> tuple[float, str] | None:
        if self.state is State.HALTED:
            return 0.0, "trading is HALTED: no new orders until resumed by hand"
        if self.state is State.REDUCING:
            return self._reduce_only(o, qty, "trading is REDUCING")
        return None

    def restricted_rule(self, o: Order, qty: float) -> tuple[float, str] | None:
        if o.symbol in self.limits.restricted_symbols:
            return self._reduce_only(o, qty, f"{o.symbol} is a restricted symbol")
        return None

    def _reduce_only(self, o: Order, qty: float, why: str) -> tuple[float, str] | None:
        held = self.book.held(o.symbol)
        cap = abs(held) if held * o.sign < 0 else 0.0
        if cap >= qty:
            return None
        return cap, (
            f"{why}: only orders that shrink a position pass; {o.side} {qty:.10g} {o.symbol} "
            f"against a position of {held:.10g} may trade at most {cap:.10g}"
        )

    def collar_rule(self, o: Order, qty: float) -> tuple[float, str] | None:
        trusted = self.trusted.get(o.symbol)
        if trusted is None:
            return 0.0, (
                f"price_collar: no last trusted price for {o.symbol} to check the reference "
                f"price {o.price:.10g} against"
            )
        bps = abs(o.price - trusted) / trusted * 1e4
        if bps <= self.limits.price_collar_bps:
            return None
        return 0.0, (
            f"price_collar {self.limits.price_collar_bps:.10g} bps: reference price "
            f"{o.price:.10g} of {o.symbol} is {bps:,.1f} bps from the last trusted price "
            f"{trusted:.10g}"
        )

    def notional_rule(self, o: Order, qty: float) -> tuple[float, str] | None:
        cap = self.limits.max_order_notional
        if qty * o.price <= cap:
            return None
        return cap / o.price, (
            f"max_order_notional {cap:,.2f}: {o.side} {qty:.10g} {o.symbol} x {o.price:.10g} = "
            f"{qty * o.price:,.2f}"
        )

    def position_rule(self, o: Order, qty: float) -> tuple[float, str] | None:
        book, held = self.book, self.book.held(o.symbol)
        mark = book.mark[o.symbol]
        limit = self.limits.max_position_weight * book.equity
        cap = _room(held, o.sign, limit / mark, 1.0)
        if qty <= cap:
            return None
        after = abs(held + o.sign * qty) * mark
        return cap, (
            f"max_position_weight {self.limits.max_position_weight:.2%}: {o.side} {qty:.10g} "
            f"{o.symbol} makes the position {after:,.2f}, {after / book.equity:.2%} of equity "
            f"{book.equity:,.2f}"
        )

    def gross_rule(self, o: Order, qty: float) -> tuple[float, str] | None:
        book, held = self.book, self.book.held(o.symbol)
        mark, gross = book.mark[o.symbol], book.gross()
        limit = self.limits.max_gross_exposure * book.equity
        cap = _room(held, o.sign, (limit - (gross - abs(held) * mark)) / mark, 1.0)
        if qty <= cap:
            return None
        after = gross + (abs(held + o.sign * qty) - abs(held)) * mark
        return cap, (
            f"max_gross_exposure {self.limits.max_gross_exposure:.2%}: {o.side} {qty:.10g} "
            f"{o.symbol} takes gross exposure from {gross:,.2f} to {after:,.2f} "
            f"({after / book.equity:.2%} of equity {book.equity:,.2f})"
        )

    def net_rule(self, o: Order, qty: float) -> tuple[float, str] | None:
        book, net = self.book, self.book.net()
        mark = book.mark[o.symbol]
        cap = _room(net, o.sign, self.limits.max_net_exposure * book.equity, mark)
        if qty <= cap:
            return None
        after = net + o.sign * qty * mark
        return cap, (
            f"max_net_exposure {self.limits.max_net_exposure:.2%}: {o.side} {qty:.10g} "
            f"{o.symbol} takes net exposure from {net:,.2f} to {after:,.2f} "
            f"({abs(after) / book.equity:.2%} of equity {book.equity:,.2f})"
        )

    def cash_rule(self, o: Order, qty: float) -> tuple[float, str] | None:
        cash = self.book.cash
        if o.sign < 0 or qty * o.price <= cash:
            return None
        return cash / o.price, (
            f"buying_power: buy {qty:.10g} {o.symbol} x {o.price:.10g} = {qty * o.price:,.2f} "
            f"exceeds the cash available {cash:,.2f} (cash plus approved sells, less approved buys)"
        )

    def count_rule(self, o: Order, qty: float) -> tuple[float, str] | None:
        cap = self.limits.max_orders_per_run
        if self.book.approved < cap:
            return None
        return 0.0, (
            f"max_orders_per_run {cap}: {self.book.approved} orders already approved this run "
            "(reductions first, then larger notional first)"
        )


_RULES: tuple[tuple[str, Rule], ...] = (
    ("state", _Check.state_rule),
    ("restricted", _Check.restricted_rule),
    ("price_collar", _Check.collar_rule),
    ("max_order_notional", _Check.notional_rule),
    ("max_position_weight", _Check.position_rule),
    ("max_gross_exposure", _Check.gross_rule),
    ("max_net_exposure", _Check.net_rule),
    ("buying_power", _Check.cash_rule),
    ("max_orders_per_run", _Check.count_rule),
)


def _room(level: float, sign: int, limit: float, per_unit: float) -> float:
    """Return the most units an order may trade that moves ``level`` by ``sign * per_unit``
    each: up to ``|level| <= limit`` after it, or, whatever the limit, back toward zero
    without crossing it (a pure reduction is never blocked by a breach it shrinks)."""
    within = (limit - sign * level) / per_unit
    shrink = abs(level) / per_unit if sign * level < 0 else 0.0
    return max(within, shrink, 0.0)


def _truncate(qty: float, *, fractional: bool) -> float:
    """Round ``qty`` down to whole shares, or to FRACTION_DIGITS decimals when ``fractional``."""
    unit = 10.0**-FRACTION_DIGITS if fractional else 1.0
    steps = math.floor(round(qty / unit, 9))
    return float(steps) if not fractional else round(steps * unit, FRACTION_DIGITS)
