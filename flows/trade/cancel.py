"""Cancel this strategy's orders that must not work any more, and record each cancel.

Three callers, one procedure:

- before a new plan, what is still working from earlier sessions: the planner sizes orders from
  positions, not from orders still open at the broker, so a GTC remainder or an unfilled limit
  would otherwise be bought a second time by the next plan;
- when the book is HALTED, every working order of the strategy, whatever its session: a halt
  sends nothing new and stops what was already working (GTC and limit orders would otherwise
  keep filling, at Alpaca in real time, at the paper broker on each settle);
- an order written but never sent that fails its re-check before a rerun would send it.

What filled stays filled; an order that never reached the broker is closed on the platform
side. Each cancel is a ``trading.risk_decisions`` row (``cancel:<client order id>``) and the
order's status in ``trading.orders``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from flows.brokers.base import Broker, BrokerError, BrokerOrder
from flows.trade.reconcile import fill_rows
from flows.trade.reconcile_checks import OPEN_STATUSES
from warehouse import schemas
from warehouse.lake import Lakehouse


@dataclass(frozen=True)
class Cancel:
    """An order as it stands after cancelling it, and why it was cancelled."""

    order: BrokerOrder
    reason: str


def cancel_stale_orders(
    lake: Lakehouse,
    broker: Broker,
    *,
    strategy: str,
    session: dt.date,
    run_id: str,
    now: dt.datetime,
) -> list[Cancel]:
    """Cancel this strategy's open orders from sessions before ``session``; return them."""
    stale = lake.read(
        schemas.ORDERS,
        where="broker = ? AND strategy = ? AND session < ? AND list_contains(?, status)",
        params=[broker.name, strategy, session, list(OPEN_STATUSES)],
    )
    why = f"before the {session} plan"
    return cancel_orders(lake, broker, stale, why, session=session, run_id=run_id, now=now)


def cancel_for_halt(
    lake: Lakehouse,
    broker: Broker,
    *,
    strategy: str,
    session: dt.date,
    why: str,
    run_id: str,
    now: dt.datetime,
) -> list[Cancel]:
    """Cancel every open order of this strategy at ``broker`` (HALTED); return them."""
    working = lake.read(
        schemas.ORDERS,
        where="broker = ? AND strategy = ? AND list_contains(?, status)",
        params=[broker.name, strategy, list(OPEN_STATUSES)],
        order_by="session, client_order_id",
    )
    reason = f"trading is HALTED ({why})"
    return cancel_orders(lake, broker, working, reason, session=session, run_id=run_id, now=now)


def cancel_orders(
    lake: Lakehouse,
    broker: Broker,
    rows: pl.DataFrame,
    why: str | Mapping[str, str],
    *,
    session: dt.date,
    run_id: str,
    now: dt.datetime,
) -> list[Cancel]:
    """Cancel ``rows`` (trading.orders rows) at ``broker`` or on the platform side; record and
    return what was done. ``why`` is said in each reason (one for all, or one per order id).

    The cancels done before a broker refuses one are recorded before the error is raised.
    """
    done: list[Cancel] = []
    try:
        for row in rows.iter_rows(named=True):
            said = why if isinstance(why, str) else why[row["client_order_id"]]
            done.append(_close(broker, row, said))
    finally:
        if done:
            _store(lake, broker.name, rows, done, session=session, run_id=run_id, now=now)
    return done


def _close(broker: Broker, row: dict, why: str) -> Cancel:
    cid = row["client_order_id"]
    found = broker.get_order(cid)
    if found is None:
        reason = f"never reached {broker.name}; closed {why}"
        return Cancel(_never_sent(row, reason), reason)
    if found.status not in OPEN_STATUSES:
        return Cancel(found, f"already {found.status} at {broker.name}")
    try:
        canceled = broker.cancel(cid)
    except BrokerError as exc:
        raise BrokerError(
            f"could not cancel {cid} (session {row['session']}) {why}: {exc}. Nothing new was "
            "sent; cancel it at the broker, then rerun"
        ) from exc
    return Cancel(
        canceled,
        f"cancelled {why} with {canceled.filled_qty:g} of {canceled.qty:g} filled",
    )


def _never_sent(row: dict, reason: str) -> BrokerOrder:
    return BrokerOrder(
        client_order_id=row["client_order_id"],
        broker_order_id=row["broker_order_id"] or "",
        symbol=row["symbol"],
        side=row["side"],
        qty=row["qty"],
        order_type=row["order_type"],
        time_in_force=row["time_in_force"],
        status="canceled",
        filled_qty=0.0,
        filled_avg_price=None,
        limit_price=row["limit_price"],
        submitted_at=row["submitted_at"],
        filled_at=None,
        message=reason,
    )


def _store(
    lake: Lakehouse,
    broker: str,
    stored: pl.DataFrame,
    done: list[Cancel],
    *,
    session: dt.date,
    run_id: str,
    now: dt.datetime,
) -> None:
    state = {c.order.client_order_id: c for c in done}
    updated = stored.filter(pl.col("client_order_id").is_in(list(state))).with_columns(
        pl.col("client_order_id")
        .replace_strict({k: c.order.status for k, c in state.items()}, return_dtype=pl.String)
        .alias("status"),
        pl.col("client_order_id")
        .replace_strict(
            {k: c.order.message or c.reason for k, c in state.items()}, return_dtype=pl.String
        )
        .alias("message"),
    )
    decisions = schemas.RISK_DECISIONS.frame(
        [
            {
                "run_id": run_id,
                "session": session,
                "subject": f"cancel:{cid}",
                "decision": "cancel",
                "reason": c.reason,
                "decided_at": now,
            }
            for cid, c in state.items()
        ]
    )
    with lake.transaction("trade: cancel orders", run_id=run_id, orders=len(done)) as txn:
        txn.merge(schemas.ORDERS, updated)
        txn.merge(schemas.FILLS, fill_rows([c.order for c in done], broker=broker))
        txn.append(schemas.RISK_DECISIONS, decisions)
