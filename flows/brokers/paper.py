"""The in-process paper broker: immediate fills at the reference price, books in the lakehouse."""

from __future__ import annotations

import datetime as dt
import math
import threading
import uuid
from dataclasses import dataclass
from typing import Any

import polars as pl
import pyarrow as pa

from flows.brokers.base import (
    Account,
    BrokerError,
    BrokerOrder,
    OrderRequest,
    OrderStatus,
    Position,
)
from quantlake.settings import PaperBrokerSettings
from warehouse.lake import Lakehouse, Transaction
from warehouse.schemas import PAPER_CASH, PAPER_ORDERS, PAPER_POSITIONS, PAPER_SPLITS

# Quantities closer than this count as equal (a sell of the whole position after float drift).
QTY_EPSILON = 1e-9
_ID_NAMESPACE = uuid.UUID("6f1d3c2a-3b0e-4c55-9a43-5d1f0e2b7c11")


@dataclass(frozen=True)
class Fill:
    """What the paper broker does with one order: its status, price and commission."""

    status: OrderStatus
    price: float | None
    commission: float
    message: str | None


def decide_fill(
    order: OrderRequest, *, cash: float, held: float, settings: PaperBrokerSettings
) -> Fill:
    """Fill a market order (or a crossing limit order) at the reference price moved against us.

    Buys pay ``slippage_bps`` above the reference price, sells receive that much below, and
    the commission is ``commission_bps`` of the filled notional. A limit order that does not
    cross stays "new" (nothing fills it later). Buys beyond cash and sells beyond the held
    quantity (long-only), or a missing reference price, are rejected.
    """
    ref = order.reference_price
    if ref is None or not math.isfinite(ref) or ref <= 0:
        reason = f"no usable reference price ({ref}) for {order.symbol}; pass the last price"
        return Fill("rejected", None, 0.0, reason)
    sign = 1.0 if order.side == "buy" else -1.0
    price = ref * (1.0 + sign * settings.slippage_bps / 1e4)
    if order.order_type == "limit":
        assert order.limit_price is not None
        if sign * (price - order.limit_price) > 0:
            reason = f"limit {order.limit_price} not reached (fill price {price:.4f}); left open"
            return Fill("new", None, 0.0, reason)
    commission = order.qty * price * settings.commission_bps / 1e4
    cost = order.qty * price + commission
    if order.side == "buy" and cost > cash:
        reason = f"insufficient cash: {order.qty} {order.symbol} costs {cost:.2f}, cash {cash:.2f}"
        return Fill("rejected", None, 0.0, reason)
    if order.side == "sell" and order.qty > held + QTY_EPSILON:
        reason = f"insufficient position: selling {order.qty} {order.symbol}, holding {held}"
        return Fill("rejected", None, 0.0, reason)
    return Fill("filled", price, commission, None)


class PaperBroker:
    """A broker that fills immediately and keeps its order book, positions and cash in the lake.

    Orders and positions are not partitioned by account (the paper datasets have no account
    column), so one lakehouse holds one paper account; another account name is refused.
    """

    name = "paper"

    def __init__(
        self, lake: Lakehouse, *, settings: PaperBrokerSettings, account: str = "paper"
    ) -> None:
        self._lake = lake
        self._settings = settings
        self._account = account
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"PaperBroker(root={str(self._lake.root)!r}, account={self._account!r})"

    def submit(self, order: OrderRequest) -> BrokerOrder:
        """Fill or reject ``order`` atomically; a known client_order_id returns the stored order."""
        _check_request(order)
        message = f"paper broker: {order.side} {order.qty} {order.symbol}"
        with (
            self._lock,
            self._lake.transaction(message, client_order_id=order.client_order_id) as txn,
        ):
            stored = _orders(txn.query, "client_order_id = ?", [order.client_order_id])
            if stored:
                return _same_order(stored[0], order)
            cash, first_use = self._cash(txn.query)
            held, avg = _position(txn.query, order.symbol)
            fill = decide_fill(order, cash=cash, held=held, settings=self._settings)
            result = _broker_order(order, fill, dt.datetime.now(dt.UTC))
            txn.append(PAPER_ORDERS, _order_row(result))
            if fill.status == "filled":
                assert fill.price is not None
                cash += self._book(txn, order, fill.price, held=held, avg=avg) - fill.commission
            if fill.status == "filled" or first_use:
                row = {"account": self._account, "cash": cash, "updated_at": result.submitted_at}
                txn.merge(PAPER_CASH, pl.DataFrame([row]))
        return result

    def get_order(self, client_order_id: str) -> BrokerOrder | None:
        found = _orders(self._lake.query, "client_order_id = ?", [client_order_id])
        return found[0] if found else None

    def list_orders(self) -> list[BrokerOrder]:
        return _orders(self._lake.query, None, [])

    def positions(self) -> list[Position]:
        rows = self._lake.read(PAPER_POSITIONS, order_by="symbol").iter_rows(named=True)
        return [Position(r["symbol"], r["qty"], r["avg_price"]) for r in rows]

    def account(self, *, prices: dict[str, float] | None = None) -> Account:
        """Return cash and equity at ``prices`` (then every held symbol needs one), or at book
        value (average prices) when ``prices`` is None."""
        cash, _ = self._cash(self._lake.query)
        held = self.positions()
        if prices is None:
            book = sum(p.qty * p.avg_price for p in held)
            return Account(cash=cash, equity=cash + book, buying_power=cash)
        missing = sorted(p.symbol for p in held if p.symbol not in prices)
        if missing:
            raise BrokerError(
                f"no price to value paper position(s) {missing}; the equity would be a guess. "
                "Ingest bars for these symbols (or close the positions) before trading"
            )
        value = sum(p.qty * prices[p.symbol] for p in held)
        return Account(cash=cash, equity=cash + value, buying_power=cash)

    def apply_splits(self, splits: pl.DataFrame, *, now: dt.datetime) -> int:
        """Apply splits not yet applied to held positions: qty x ratio, average price / ratio.

        A real broker does this on the ex-date; prices in curated are split-adjusted, so without
        it a held position would look like it lost (ratio - 1) / ratio of its value. Splits seen
        while the symbol is not held are recorded too, so they are never applied later.
        """
        with self._lock, self._lake.transaction("paper: splits") as txn:
            done = txn.query(f"SELECT symbol, ex_session FROM {PAPER_SPLITS.table}")
            new = splits.join(done, on=["symbol", "ex_session"], how="anti").sort("ex_session")
            if new.is_empty():
                return 0
            rows = []
            for symbol, ex_session, ratio in new.select(
                "symbol", "ex_session", "split_ratio"
            ).iter_rows():
                qty, avg = _position(txn.query, symbol)
                if qty:
                    txn.merge(
                        PAPER_POSITIONS,
                        pl.DataFrame(
                            [{"symbol": symbol, "qty": qty * ratio, "avg_price": avg / ratio}],
                            schema=PAPER_POSITIONS.polars_schema(),
                        ),
                    )
                rows.append(
                    {
                        "symbol": symbol,
                        "ex_session": ex_session,
                        "split_ratio": ratio,
                        "qty_before": qty,
                        "applied_at": now,
                    }
                )
            txn.append(PAPER_SPLITS, PAPER_SPLITS.frame(rows))
            return sum(1 for r in rows if r["qty_before"])

    def _cash(self, query: Any) -> tuple[float, bool]:
        """Return (cash, first_use); refuse a lakehouse whose paper books are another account's."""
        rows = query(f"SELECT account, cash FROM {PAPER_CASH.table}").rows()
        others = sorted(a for a, _ in rows if a != self._account)
        if others:
            raise BrokerError(
                f"this lakehouse's paper books belong to account {others[0]!r}, not "
                f"{self._account!r}; paper positions are not kept per account, use another lake"
            )
        return (rows[0][1], False) if rows else (self._settings.initial_cash, True)

    def _book(
        self, txn: Transaction, order: OrderRequest, price: float, *, held: float, avg: float
    ) -> float:
        """Write the new position for a fill and return the cash it moves (before commission)."""
        if order.side == "buy":
            qty = held + order.qty
            avg = (held * avg + order.qty * price) / qty
        else:
            qty = held - order.qty
        if qty <= QTY_EPSILON:
            txn.delete(PAPER_POSITIONS, "symbol = ?", [order.symbol])
        else:
            row = {"symbol": order.symbol, "qty": qty, "avg_price": avg}
            txn.merge(PAPER_POSITIONS, pl.DataFrame([row]))
        notional = order.qty * price
        return -notional if order.side == "buy" else notional


def _check_request(order: OrderRequest) -> None:
    """Refuse malformed requests outright, as a real broker would (nothing is stored)."""
    problems = []
    if not order.client_order_id or not order.symbol:
        problems.append("client_order_id and symbol must be non-empty")
    if not (math.isfinite(order.qty) and order.qty > 0):
        problems.append(f"qty must be a positive number, got {order.qty}")
    if order.side not in ("buy", "sell"):
        problems.append(f"side must be 'buy' or 'sell', got {order.side!r}")
    if order.order_type == "limit":
        lp = order.limit_price
        if lp is None or not (math.isfinite(lp) and lp > 0):
            problems.append(f"a limit order needs a positive limit_price, got {lp}")
    elif order.order_type != "market" or order.limit_price is not None:
        problems.append("only market orders (without limit_price) and limit orders are supported")
    if problems:
        raise BrokerError(f"order {order.client_order_id!r} refused: " + "; ".join(problems))


def _same_order(stored: BrokerOrder, order: OrderRequest) -> BrokerOrder:
    if (stored.symbol, stored.side) != (order.symbol, order.side):
        raise BrokerError(
            f"client_order_id {order.client_order_id!r} already names a {stored.side} of "
            f"{stored.symbol}, not a {order.side} of {order.symbol}; order ids must be unique"
        )
    return stored


def _position(query: Any, symbol: str) -> tuple[float, float]:
    rows = query(f"SELECT qty, avg_price FROM {PAPER_POSITIONS.table} WHERE symbol = ?", [symbol])
    return (rows["qty"][0], rows["avg_price"][0]) if rows.height else (0.0, 0.0)


def _orders(query: Any, where: str | None, params: list[Any]) -> list[BrokerOrder]:
    sql = f"SELECT * FROM {PAPER_ORDERS.table}"
    if where:
        sql += f" WHERE {where}"
    frame = query(sql + " ORDER BY submitted_at, client_order_id", params)
    return [BrokerOrder(**r) for r in frame.iter_rows(named=True)]


def _broker_order(order: OrderRequest, fill: Fill, now: dt.datetime) -> BrokerOrder:
    filled = fill.status == "filled"
    return BrokerOrder(
        client_order_id=order.client_order_id,
        broker_order_id=f"paper-{uuid.uuid5(_ID_NAMESPACE, order.client_order_id)}",
        symbol=order.symbol,
        side=order.side,
        qty=float(order.qty),
        order_type=order.order_type,
        time_in_force=order.time_in_force,
        status=fill.status,
        filled_qty=float(order.qty) if filled else 0.0,
        filled_avg_price=fill.price,
        limit_price=order.limit_price,
        submitted_at=now,
        filled_at=now if filled else None,
        commission=fill.commission,
        message=fill.message,
    )


def _order_row(order: BrokerOrder) -> pa.Table:
    row = {c: getattr(order, c) for c in PAPER_ORDERS.column_names}
    return pa.Table.from_pylist([row], schema=PAPER_ORDERS.arrow_schema())
