"""The paper broker's books: order rows, positions and cash in the lakehouse, and how a fill
from strategies/execution.py is booked into them."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import Any

import polars as pl
import pyarrow as pa

from flows.brokers.base import BrokerError, BrokerOrder, OrderRequest, OrderStatus, Side
from strategies.execution import QTY_EPSILON, Bar, Execution, WorkingOrder
from warehouse.lake import Transaction
from warehouse.schemas import PAPER_CASH, PAPER_ORDERS, PAPER_POSITIONS

# Statuses of orders the paper broker is still working (they can fill or be canceled).
OPEN_STATUSES = ("new", "accepted", "partially_filled")

Query = Callable[..., pl.DataFrame]
_ID_NAMESPACE = uuid.UUID("6f1d3c2a-3b0e-4c55-9a43-5d1f0e2b7c11")
_BAR_COLUMNS = ("symbol", "session", "open", "high", "low", "volume")
_ORDER_FIELDS = tuple(f.name for f in fields(BrokerOrder))


@dataclass(frozen=True)
class BookedOrder:
    """An order as the paper book stores it: the broker's view plus the sessions it lives in."""

    order: BrokerOrder
    session: dt.date  # the session it was placed in
    worked_session: dt.date | None  # the last session it was worked in (None: not yet)


def read_orders(query: Query, where: str | None, params: list[Any]) -> list[BookedOrder]:
    """Return the stored orders matching ``where`` (``?`` params), oldest first."""
    sql = f"SELECT * FROM {PAPER_ORDERS.table}"
    if where:
        sql += f" WHERE {where}"
    frame = query(sql + " ORDER BY submitted_at, client_order_id", params)
    return [
        BookedOrder(
            BrokerOrder(**{k: r[k] for k in _ORDER_FIELDS}), r["session"], r["worked_session"]
        )
        for r in frame.iter_rows(named=True)
    ]


def order_rows(orders: list[BookedOrder]) -> pa.Table:
    """Return ``orders`` as paper.orders rows."""
    rows = []
    for booked in orders:
        row = {c: getattr(booked.order, c, None) for c in PAPER_ORDERS.column_names}
        rows.append(row | {"session": booked.session, "worked_session": booked.worked_session})
    return pa.Table.from_pylist(rows, schema=PAPER_ORDERS.arrow_schema())


def read_position(query: Query, symbol: str) -> tuple[float, float]:
    """Return (qty, avg_price) held in ``symbol``, (0, 0) when flat."""
    rows = query(f"SELECT qty, avg_price FROM {PAPER_POSITIONS.table} WHERE symbol = ?", [symbol])
    return (rows["qty"][0], rows["avg_price"][0]) if rows.height else (0.0, 0.0)


def read_cash(query: Query, *, account: str, initial_cash: float) -> tuple[float, bool]:
    """Return (cash, first_use); refuse a lakehouse whose paper books are another account's."""
    rows = query(f"SELECT account, cash FROM {PAPER_CASH.table}").rows()
    others = sorted(a for a, _ in rows if a != account)
    if others:
        raise BrokerError(
            f"this lakehouse's paper books belong to account {others[0]!r}, not "
            f"{account!r}; paper positions are not kept per account, use another lake"
        )
    return (rows[0][1], False) if rows else (initial_cash, True)


@dataclass
class Holdings:
    """Cash and positions while fills are applied; ``write`` stores what changed."""

    cash: float
    positions: dict[str, tuple[float, float]]  # symbol -> (qty, avg_price)
    first_use: bool = False
    changed: set[str] = field(default_factory=set)
    cash_changed: bool = False

    @classmethod
    def read(cls, query: Query, *, account: str, initial_cash: float) -> Holdings:
        cash, first_use = read_cash(query, account=account, initial_cash=initial_cash)
        frame = query(f"SELECT symbol, qty, avg_price FROM {PAPER_POSITIONS.table}")
        positions = {s: (q, a) for s, q, a in frame.rows()}
        return cls(cash, positions, first_use=first_use)

    def refusal(
        self, side: Side, symbol: str, qty: float, price: float, commission: float
    ) -> str | None:
        """Return why this fill breaks the long-only rules (cash, held quantity), or None."""
        if side == "buy":
            cost = qty * price + commission
            if cost > self.cash:
                return f"insufficient cash: {qty:g} {symbol} costs {cost:.2f}, cash {self.cash:.2f}"
            return None
        held = self.positions.get(symbol, (0.0, 0.0))[0]
        if qty > held + QTY_EPSILON:
            return f"insufficient position: selling {qty:g} {symbol}, holding {held:g}"
        return None

    def apply(self, side: Side, symbol: str, qty: float, price: float, commission: float) -> None:
        """Book a fill: buys average into the position; sells keep the average price."""
        held, avg = self.positions.get(symbol, (0.0, 0.0))
        if side == "buy":
            new = held + qty
            avg = (held * avg + qty * price) / new
            self.cash -= qty * price + commission
        else:
            new = held - qty
            self.cash += qty * price - commission
        self.positions[symbol] = (new, avg) if new > QTY_EPSILON else (0.0, 0.0)
        self.changed.add(symbol)
        self.cash_changed = True

    def write(self, txn: Transaction, *, account: str, now: dt.datetime) -> None:
        """Store changed positions (flat ones are deleted) and the cash, when it changed: one
        delete and one merge per table, however many symbols changed."""
        changed = sorted(self.changed)
        flat = [s for s in changed if self.positions[s][0] <= QTY_EPSILON]
        held = [
            {"symbol": s, "qty": self.positions[s][0], "avg_price": self.positions[s][1]}
            for s in changed
            if self.positions[s][0] > QTY_EPSILON
        ]
        if flat:
            txn.delete(PAPER_POSITIONS, "list_contains(?, symbol)", [flat])
        if held:
            txn.merge(PAPER_POSITIONS, PAPER_POSITIONS.frame(held))
        if self.cash_changed or self.first_use:
            row = {"account": account, "cash": self.cash, "updated_at": now}
            txn.merge(PAPER_CASH, pl.DataFrame([row]))


def book_execution(
    booked: BookedOrder,
    execution: Execution,
    session: dt.date,
    holdings: Holdings,
    now: dt.datetime,
) -> BookedOrder:
    """Book ``execution`` of ``booked`` in ``session`` unless the long-only rules refuse it."""
    order = booked.order
    if execution.filled_qty > 0:
        qty, price, fee = execution.filled_qty, execution.avg_price, execution.commission
        assert price is not None
        refusal = holdings.refusal(order.side, order.symbol, qty, price, fee)
        if refusal:
            # A refused first fill rejects the order; after an earlier fill the rest is canceled.
            status: OrderStatus = "rejected" if order.filled_qty == 0 else "canceled"
            return BookedOrder(
                replace(order, status=status, message=refusal), booked.session, session
            )
        holdings.apply(order.side, order.symbol, qty, price, fee)
        total = order.filled_qty + qty
        average = (order.filled_qty * (order.filled_avg_price or 0.0) + qty * price) / total
        order = replace(
            order,
            filled_qty=total,
            filled_avg_price=average,
            commission=order.commission + fee,
            filled_at=now,
        )
    # "open": nothing filled and the order keeps working in the status it had.
    status = order.status if execution.status == "open" else execution.status
    updated = replace(order, status=status, message=execution.reason)
    return BookedOrder(updated, booked.session, session)


def working_order(order: BrokerOrder) -> WorkingOrder:
    """Return what the execution model needs to know of ``order``."""
    return WorkingOrder(
        side=order.side,
        qty=order.qty,
        order_type=order.order_type,
        limit_price=order.limit_price,
        time_in_force=order.time_in_force,
        filled_qty=order.filled_qty,
    )


def bar_index(bars: pl.DataFrame) -> dict[tuple[str, dt.date], Bar]:
    """Return the bars by (symbol, session); refuse a frame that cannot be read unambiguously."""
    missing = [c for c in _BAR_COLUMNS if c not in bars.columns]
    if missing:
        raise BrokerError(f"bars to settle on lack column(s) {missing}; they have {bars.columns}")
    if bars.schema["session"] != pl.Date:
        raise BrokerError(f"bars' session must be a Date column, got {bars.schema['session']}")
    keys = bars.select("symbol", "session")
    if keys.is_duplicated().any():
        dupes = keys.filter(keys.is_duplicated()).unique().rows()[:5]
        raise BrokerError(f"bars hold more than one row for (symbol, session) {dupes}")
    prices = bars.select(pl.col("open", "high", "low", "volume").cast(pl.Float64))
    return {
        key: Bar(*values) for key, values in zip(keys.iter_rows(), prices.iter_rows(), strict=True)
    }


def new_order(order: OrderRequest, status: OrderStatus, now: dt.datetime) -> BrokerOrder:
    """Return ``order`` as the broker records it on arrival: nothing filled yet."""
    return BrokerOrder(
        client_order_id=order.client_order_id,
        broker_order_id=f"paper-{uuid.uuid5(_ID_NAMESPACE, order.client_order_id)}",
        symbol=order.symbol,
        side=order.side,
        qty=float(order.qty),
        order_type=order.order_type,
        time_in_force=order.time_in_force,
        status=status,
        filled_qty=0.0,
        filled_avg_price=None,
        limit_price=order.limit_price,
        submitted_at=now,
        filled_at=None,
        commission=0.0,
    )
