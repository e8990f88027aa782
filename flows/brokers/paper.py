"""The in-process paper broker: fills from strategies/execution.py, books in the lakehouse.

``fill_at="last"`` fills on submit at the order's reference price (what the session can fill:
all of it without a reference volume, at most the participation cap with one). Whatever stays
open (a limit not reached, a capped rest) is new/partially filled until :meth:`settle` sees a
later session: a DAY order then expires, a GTC order keeps working on the bars.
``fill_at="next_open"`` queues the order ("accepted") and :meth:`settle` works it from the open
of the first bar after its session: a DAY order for that one session, a GTC order until it fills
or is canceled. Fills are checked against cash and the held quantity (long-only) when they
happen. Every submit, settle and cancel is one lakehouse transaction, and repeating one with
the same input writes nothing.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from dataclasses import replace

import polars as pl

from flows.brokers.base import Account, BrokerError, BrokerOrder, OrderRequest, Position
from flows.brokers.paper_book import (
    OPEN_STATUSES,
    BookedOrder,
    Holdings,
    Query,
    bar_index,
    book_execution,
    new_order,
    order_rows,
    read_cash,
    read_orders,
    read_position,
    working_order,
)
from quantlake.settings import PaperBrokerSettings
from strategies.execution import (
    Bar,
    CostModel,
    data_problem,
    execute_at_reference,
    execute_on_bar,
)
from warehouse import calendar
from warehouse.lake import Lakehouse
from warehouse.schemas import PAPER_ORDERS, PAPER_POSITIONS, PAPER_SPLITS


def submission_session(now: dt.datetime, *, exchange: str) -> dt.date:
    """Return the session an order sent at ``now`` belongs to: the exchange date when it is a
    session, else the session before it. An order sent before the open therefore waits for the
    next session's open (a session late, never filled at a price from before it was sent)."""
    day = calendar.exchange_date(now, exchange=exchange)
    return (
        day
        if calendar.is_session(day, exchange=exchange)
        else calendar.previous_session(day, exchange=exchange)
    )


def cost_model(settings: PaperBrokerSettings) -> CostModel:
    """Return the execution cost model the paper broker settings describe."""
    return CostModel(
        slippage_bps=settings.slippage_bps,
        impact_coefficient_bps=settings.impact_coefficient_bps,
        impact_exponent=settings.impact_exponent,
        max_participation=settings.max_participation,
        commission_bps=settings.commission_bps,
    )


class PaperBroker:
    """A broker that fills from a cost model and keeps its books in the lake.

    Orders and positions are not partitioned by account (the paper datasets have no account
    column), so one lakehouse holds one paper account; another account name is refused.
    ``exchange`` is the calendar that turns a submission instant into a session.
    """

    name = "paper"

    def __init__(
        self,
        lake: Lakehouse,
        *,
        settings: PaperBrokerSettings,
        account: str = "paper",
        exchange: str = "XNYS",
    ) -> None:
        self._lake = lake
        self._settings = settings
        self._costs = cost_model(settings)
        self._account = account
        self._exchange = exchange
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"PaperBroker(root={str(self._lake.root)!r}, account={self._account!r})"

    def submit(self, order: OrderRequest) -> BrokerOrder:
        """Place ``order`` atomically (filled or queued, per ``fill_at``); a known
        client_order_id returns the stored order unchanged."""
        _check_request(order)
        now = dt.datetime.now(dt.UTC)
        session = order.session or submission_session(now, exchange=self._exchange)
        message = f"paper broker: {order.side} {order.qty} {order.symbol}"
        with (
            self._lock,
            self._lake.transaction(message, client_order_id=order.client_order_id) as txn,
        ):
            stored = read_orders(txn.query, "client_order_id = ?", [order.client_order_id])
            if stored:
                return _same_order(stored[0].order, order)
            holdings = self._holdings(txn.query)
            if self._settings.fill_at == "next_open":
                booked = BookedOrder(new_order(order, "accepted", now), session, None)
            else:
                booked = self._fill_now(order, session, holdings, now)
            txn.append(PAPER_ORDERS, order_rows([booked]))
            holdings.write(txn, account=self._account, now=now)
        return booked.order

    def submit_many(self, orders: list[OrderRequest]) -> tuple[list[BrokerOrder], int]:
        """Place ``orders`` in one transaction, in the given order (sells first, as planned);
        return every order as the broker now has it, and how many were new. Orders it already
        has are returned unchanged, exactly as :meth:`submit` would return them."""
        for order in orders:
            _check_request(order)
        if not orders:
            return [], 0
        now = dt.datetime.now(dt.UTC)
        ids = [o.client_order_id for o in orders]
        with (
            self._lock,
            self._lake.transaction("paper broker: batch", orders=len(orders)) as txn,
        ):
            stored = {
                b.order.client_order_id: b.order
                for b in read_orders(txn.query, "list_contains(?, client_order_id)", [ids])
            }
            holdings = self._holdings(txn.query)
            booked: list[BookedOrder] = []
            results: list[BrokerOrder] = []
            for order in orders:
                if order.client_order_id in stored:
                    results.append(_same_order(stored[order.client_order_id], order))
                    continue
                session = order.session or submission_session(now, exchange=self._exchange)
                if self._settings.fill_at == "next_open":
                    placed = BookedOrder(new_order(order, "accepted", now), session, None)
                else:
                    placed = self._fill_now(order, session, holdings, now)
                stored[order.client_order_id] = placed.order
                booked.append(placed)
                results.append(placed.order)
            if booked:
                txn.append(PAPER_ORDERS, order_rows(booked))
                holdings.write(txn, account=self._account, now=now)
        return results, len(booked)

    def settle(self, bars: pl.DataFrame, *, now: dt.datetime) -> list[BrokerOrder]:
        """Work the open orders through ``bars`` (symbol, session, open, high, low, volume),
        session by session, sells before buys; return the orders that changed.

        An order is worked only on bars of sessions after its own and after the last one it
        was worked in, so settling the same bars again changes nothing.
        """
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware (UTC)")
        index = bar_index(bars)
        sessions = sorted({s for _, s in index})
        extra = {"sessions": f"{sessions[0]}..{sessions[-1]}" if sessions else "none"}
        with self._lock, self._lake.transaction("paper: settle", **extra) as txn:
            working = read_orders(txn.query, "list_contains(?, status)", [list(OPEN_STATUSES)])
            working.sort(key=lambda b: (b.order.side != "sell", b.order.symbol, b.session))
            holdings = self._holdings(txn.query)
            changed: dict[str, BookedOrder] = {}
            for session in sessions:
                for i, booked in enumerate(working):
                    bar = index.get((booked.order.symbol, session))
                    after = booked.worked_session or booked.session
                    if bar is None or session <= after or booked.order.status not in OPEN_STATUSES:
                        continue
                    working[i] = self._work(booked, bar, session, holdings, now)
                    changed[booked.order.client_order_id] = working[i]
            txn.merge(PAPER_ORDERS, order_rows(list(changed.values())))
            holdings.write(txn, account=self._account, now=now)
        return sorted((b.order for b in changed.values()), key=lambda o: o.client_order_id)

    def pending_since(self) -> dt.date | None:
        """Return the session after which :meth:`settle` needs bars (the earliest one an open
        order has been placed or worked in), or None when no order is open."""
        working = read_orders(self._lake.query, "list_contains(?, status)", [list(OPEN_STATUSES)])
        return min((b.worked_session or b.session for b in working), default=None)

    def cancel(self, client_order_id: str) -> BrokerOrder:
        """Cancel an open or partially filled order (what filled stays filled); canceling a
        canceled order returns it unchanged, any other closed order is refused."""
        with (
            self._lock,
            self._lake.transaction("paper: cancel", client_order_id=client_order_id) as txn,
        ):
            found = read_orders(txn.query, "client_order_id = ?", [client_order_id])
            if not found:
                raise BrokerError(
                    f"no paper order {client_order_id!r} to cancel; list_orders() shows the book"
                )
            booked = found[0]
            order = booked.order
            if order.status == "canceled":
                return order
            if order.status not in OPEN_STATUSES:
                raise BrokerError(
                    f"order {client_order_id!r} is already {order.status} "
                    f"({order.filled_qty:g} of {order.qty:g} filled); only "
                    f"{', '.join(OPEN_STATUSES)} orders can be canceled"
                )
            reason = f"canceled with {order.filled_qty:g} of {order.qty:g} filled"
            canceled = replace(order, status="canceled", message=reason)
            txn.merge(PAPER_ORDERS, order_rows([replace(booked, order=canceled)]))
        return canceled

    def get_order(self, client_order_id: str) -> BrokerOrder | None:
        found = read_orders(self._lake.query, "client_order_id = ?", [client_order_id])
        return found[0].order if found else None

    def list_orders(self) -> list[BrokerOrder]:
        return [b.order for b in read_orders(self._lake.query, None, [])]

    def positions(self) -> list[Position]:
        rows = self._lake.read(PAPER_POSITIONS, order_by="symbol").iter_rows(named=True)
        return [Position(r["symbol"], r["qty"], r["avg_price"]) for r in rows]

    def account(self, *, prices: dict[str, float] | None = None) -> Account:
        """Return cash and equity at ``prices`` (then every held symbol needs one), or at book
        value (average prices) when ``prices`` is None."""
        cash, _ = read_cash(
            self._lake.query, account=self._account, initial_cash=self._settings.initial_cash
        )
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
                qty, avg = read_position(txn.query, symbol)
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

    def _holdings(self, query: Query) -> Holdings:
        return Holdings.read(query, account=self._account, initial_cash=self._settings.initial_cash)

    def _fill_now(
        self, order: OrderRequest, session: dt.date, holdings: Holdings, now: dt.datetime
    ) -> BookedOrder:
        """Fill at the reference price in the order's own session ("last")."""
        booked = BookedOrder(new_order(order, "new", now), session, None)
        price, volume = order.reference_price, order.reference_volume
        problem = data_problem("reference price", price) or (
            data_problem("reference volume", volume) if volume is not None else None
        )
        if problem:
            reason = f"{problem} for {order.symbol}; pass the last price (and its volume)"
            return replace(booked, order=replace(booked.order, status="rejected", message=reason))
        execution = execute_at_reference(
            working_order(booked.order), price=price, volume=volume, costs=self._costs
        )
        return book_execution(booked, execution, session, holdings, now)

    def _work(
        self,
        booked: BookedOrder,
        bar: Bar,
        session: dt.date,
        holdings: Holdings,
        now: dt.datetime,
    ) -> BookedOrder:
        """Work one open order through one later session's bar."""
        order = booked.order
        if order.time_in_force == "day" and booked.worked_session is not None:
            # Its one session is over (a "last" order was worked in the session it was sent).
            reason = (
                f"day order expired after session {booked.worked_session} with "
                f"{order.filled_qty:g} of {order.qty:g} filled"
            )
            expired = replace(order, status="expired", message=reason)
            return BookedOrder(expired, booked.session, session)
        execution = execute_on_bar(working_order(order), bar, costs=self._costs)
        return book_execution(booked, execution, session, holdings, now)


def _check_request(order: OrderRequest) -> None:
    """Refuse malformed requests outright, as a real broker would (nothing is stored)."""
    problems = []
    if not order.client_order_id or not order.symbol:
        problems.append("client_order_id and symbol must be non-empty")
    if not (math.isfinite(order.qty) and order.qty > 0):
        problems.append(f"qty must be a positive number, got {order.qty}")
    if order.side not in ("buy", "sell"):
        problems.append(f"side must be 'buy' or 'sell', got {order.side!r}")
    if order.time_in_force not in ("day", "gtc"):
        problems.append(f"time_in_force must be 'day' or 'gtc', got {order.time_in_force!r}")
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
