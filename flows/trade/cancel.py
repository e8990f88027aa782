"""Before a new plan: cancel what is still working from earlier sessions.

The planner sizes orders from positions, not from orders still open at the broker, so a GTC
remainder or an unfilled limit from an earlier session would be bought a second time by the
next plan. Every such order is cancelled first (what filled stays filled), and an intent that
never reached the broker is closed on the platform side. Each cancel is a recorded decision.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import polars as pl

from flows.brokers.base import Broker, BrokerError, BrokerOrder
from flows.trade.reconcile import fill_rows
from flows.trade.reconcile_checks import OPEN_STATUSES
from warehouse import schemas
from warehouse.lake import Lakehouse


def cancel_stale_orders(
    lake: Lakehouse,
    broker: Broker,
    *,
    strategy: str,
    session: dt.date,
    run_id: str,
    now: dt.datetime,
) -> list[BrokerOrder]:
    """Cancel this strategy's open orders from sessions before ``session``; return them."""
    stale = lake.read(
        schemas.ORDERS,
        where="broker = ? AND strategy = ? AND session < ? AND list_contains(?, status)",
        params=[broker.name, strategy, session, list(OPEN_STATUSES)],
    )
    if stale.is_empty():
        return []
    closed: list[BrokerOrder] = []
    reasons: list[tuple[str, str]] = []
    for row in stale.iter_rows(named=True):
        order, reason = _close(broker, row, session)
        closed.append(order)
        reasons.append((order.client_order_id, reason))
    _store(lake, broker.name, stale, closed, reasons, session=session, run_id=run_id, now=now)
    return closed


def _close(broker: Broker, row: dict, session: dt.date) -> tuple[BrokerOrder, str]:
    cid = row["client_order_id"]
    found = broker.get_order(cid)
    if found is None:
        never = BrokerOrder(
            client_order_id=cid,
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
        )
        reason = f"never reached {broker.name}; closed so the {session} plan starts clean"
        return replace(never, message=reason), reason
    if found.status not in OPEN_STATUSES:
        return found, f"already {found.status} at {broker.name}"
    try:
        canceled = broker.cancel(cid)
    except BrokerError as exc:
        raise BrokerError(
            f"could not cancel {cid} from session {row['session']} before planning {session}: "
            f"{exc}. Nothing new was planned; cancel it at the broker, then rerun"
        ) from exc
    return canceled, (
        f"cancelled before the {session} plan with {canceled.filled_qty:g} of "
        f"{canceled.qty:g} filled"
    )


def _store(
    lake: Lakehouse,
    broker: str,
    stored: pl.DataFrame,
    closed: list[BrokerOrder],
    reasons: list[tuple[str, str]],
    *,
    session: dt.date,
    run_id: str,
    now: dt.datetime,
) -> None:
    state = {o.client_order_id: o for o in closed}
    updated = stored.with_columns(
        pl.col("client_order_id")
        .replace_strict({c: o.status for c, o in state.items()}, return_dtype=pl.String)
        .alias("status"),
        pl.col("client_order_id")
        .replace_strict({c: o.message for c, o in state.items()}, return_dtype=pl.String)
        .alias("message"),
    )
    decisions = schemas.RISK_DECISIONS.frame(
        [
            {
                "run_id": run_id,
                "session": session,
                "subject": f"cancel:{cid}",
                "decision": "cancel",
                "reason": reason,
                "decided_at": now,
            }
            for cid, reason in reasons
        ]
    )
    with lake.transaction("trade: cancel stale orders", run_id=run_id, orders=len(closed)) as txn:
        txn.merge(schemas.ORDERS, updated)
        txn.merge(schemas.FILLS, fill_rows(closed, broker=broker))
        txn.append(schemas.RISK_DECISIONS, decisions)
