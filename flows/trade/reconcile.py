"""Reconcile the platform's trading records with the broker, which is authoritative.

Positions: the broker's against ``trading.positions``. Orders: every platform order in a
non-final status against the broker's record of it (asked one by one, so a truncated broker
order list cannot hide one), and every order the broker lists against ``trading.orders``.
Orders the broker has in another status are brought up to it (with their fill); orders stuck
in ``pending_submit`` that the broker lacks are reported as never sent and left for the trade
flow to resume; broker orders the platform does not know are reported, never adopted.
The report is stored in one lakehouse transaction: each check as a ``trading.reconciliations``
row (both sides' values) plus a ``summary`` row, and as readable ``trading.risk_decisions`` rows
with the summary. A report whose checks all say what the latest recorded one said (same
outcomes, same values on both sides, nothing updated) is not stored again: it names that
report in ``unchanged_since``, so a rerun over an unchanged book appends nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from dataclasses import dataclass, replace
from types import SimpleNamespace

import polars as pl

from flows.brokers.base import Broker, BrokerOrder
from flows.trade.audit import changed
from flows.trade.reconcile_checks import (
    OPEN_STATUSES,
    OrderCheck,
    PositionCheck,
    compare_orders,
    compare_positions,
)
from warehouse import calendar, schemas
from warehouse.lake import Lakehouse, Transaction

__all__ = ["ReconcileError", "ReconcileReport", "reconcile"]

POSITION_SUBJECT = "reconcile:position:"
ORDER_SUBJECT = "reconcile:order:"
SUMMARY_SUBJECT = "reconcile"


class ReconcileError(RuntimeError):
    """Reconciliation could not be completed; the message says why and what to do."""


@dataclass(frozen=True)
class ReconcileReport:
    """The platform's records compared with the broker's, and what was done about it."""

    broker: str
    run_id: str
    reconciled_at: dt.datetime
    read_snapshot: int  # the lakehouse snapshot the platform's records were read at
    snapshot_id: int | None  # the snapshot the report (and any status updates) was written in
    positions: tuple[PositionCheck, ...]
    orders: tuple[OrderCheck, ...]
    # The recorded report this one repeats (then nothing was stored), or None.
    unchanged_since: str | None = None

    @property
    def differences(self) -> tuple[PositionCheck | OrderCheck, ...]:
        """Return every check left unresolved (all but matches and updated orders)."""
        checks = (*self.positions, *self.orders)
        return tuple(c for c in checks if c.outcome not in ("match", "updated"))

    @property
    def updated(self) -> tuple[OrderCheck, ...]:
        return tuple(c for c in self.orders if c.outcome == "updated")

    @property
    def clean(self) -> bool:
        """True when every position and order agrees with the broker (after updates)."""
        return not self.differences


def reconcile(
    lake: Lakehouse, broker: Broker, *, now: dt.datetime, exchange: str
) -> ReconcileReport:
    """Compare with ``broker``, update orders it has moved on, record and return the report.

    ``exchange`` names the calendar whose date at ``now`` is the rows' session.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    read_at = lake.current_snapshot()
    stored = lake.read(schemas.POSITIONS, where="broker = ?", params=[broker.name], as_of=read_at)
    orders = lake.read(schemas.ORDERS, where="broker = ?", params=[broker.name], as_of=read_at)
    open_orders = orders.filter(pl.col("status").is_in(OPEN_STATUSES))
    asked = {cid: broker.get_order(cid) for cid in open_orders.get_column("client_order_id")}
    positions = compare_positions(
        dict(stored.select("symbol", "qty").iter_rows()),
        {p.symbol: p.qty for p in broker.positions() if p.qty != 0},
    )
    checks = compare_orders(
        open_orders.select("client_order_id", "symbol", "status").rows(),
        known=dict(orders.select("client_order_id", "status").iter_rows()),
        asked=asked,
        listed=broker.list_orders(),
    )
    run_id = f"reconcile-{uuid.uuid4().hex[:12]}"
    report = ReconcileReport(broker.name, run_id, now, read_at, None, positions, checks)
    updates = [o for c in report.updated if (o := asked[c.client_order_id]) is not None]
    session = calendar.exchange_date(now, exchange=exchange)
    checks = reconciliation_rows(report, session=session)
    with lake.transaction("reconcile", run_id=run_id, broker=broker.name) as txn:
        same = None if updates else _same_as_last(txn, broker.name, checks)
        if same is None:
            _apply_updates(txn, updates, report)
            txn.append(schemas.RISK_DECISIONS, decision_rows(report, session=session))
            txn.append(schemas.TRADING_RECONCILIATIONS, checks)
    return replace(report, snapshot_id=txn.snapshot_id, unchanged_since=same)


_CHECK = ["kind", "subject", "platform_value", "broker_value", "outcome"]


def _same_as_last(txn: Transaction, broker: str, checks: pl.DataFrame) -> str | None:
    """Return the run id of the broker's latest recorded reconciliation when its checks are
    ``checks``' (outcomes and both sides' values), else None."""
    last = txn.query(
        "SELECT * FROM trading.reconciliations WHERE run_id = (SELECT run_id FROM "
        "trading.reconciliations WHERE broker = ? ORDER BY reconciled_at DESC, run_id DESC "
        "LIMIT 1)",
        [broker],
    )
    if last.is_empty():
        return None
    if changed(last.select(_CHECK), checks.select(_CHECK), by=["kind", "subject"]):
        return None
    return str(last.get_column("run_id")[0])


def summary(report: ReconcileReport) -> str:
    """Return the report in one sentence: what was checked, updated and found."""
    counts = Counter(c.outcome for c in report.differences)
    found = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
    return (
        f"{len(report.positions)} positions and {len(report.orders)} orders checked against "
        f"{report.broker}; {len(report.updated)} orders updated; "
        + (f"differences: {found}" if found else "no differences")
    )


def decision_rows(report: ReconcileReport, *, session: dt.date) -> pl.DataFrame:
    """Return the report as trading.risk_decisions rows: one per check, plus a summary."""
    rows = [(POSITION_SUBJECT + c.symbol, c.decision, c.reason) for c in report.positions] + [
        (ORDER_SUBJECT + c.client_order_id, c.decision, c.reason) for c in report.orders
    ]
    rows.append((SUMMARY_SUBJECT, _verdict(report), summary(report)))
    return schemas.RISK_DECISIONS.frame(
        [
            {
                "run_id": report.run_id,
                "session": session,
                "subject": subject,
                "decision": decision,
                "reason": reason,
                "decided_at": report.reconciled_at,
            }
            for subject, decision, reason in rows
        ]
    )


def _verdict(report: ReconcileReport) -> str:
    return "match" if report.clean else "mismatch"


def reconciliation_rows(report: ReconcileReport, *, session: dt.date) -> pl.DataFrame:
    """Return each position and order check as a trading.reconciliations row, and a summary
    row (kind ``summary``, subject the broker), so an empty book's report is a row too."""
    verdict = SimpleNamespace(outcome=_verdict(report), reason=summary(report))
    rows = [
        ("position", c.symbol, c.symbol, _text(c.platform_qty), _text(c.broker_qty), c)
        for c in report.positions
    ] + [
        ("order", c.client_order_id, c.symbol, c.platform_status, c.broker_status, c)
        for c in report.orders
    ]
    rows.append(("summary", report.broker, None, None, None, verdict))
    return schemas.TRADING_RECONCILIATIONS.frame(
        [
            {
                "run_id": report.run_id,
                "broker": report.broker,
                "reconciled_at": report.reconciled_at,
                "session": session,
                "kind": kind,
                "subject": subject,
                "symbol": symbol,
                "platform_value": platform,
                "broker_value": held,
                "outcome": check.outcome,
                "reason": check.reason,
                "read_snapshot": report.read_snapshot,
            }
            for kind, subject, symbol, platform, held, check in rows
        ]
    )


def _text(qty: float | None) -> str | None:
    return None if qty is None else f"{qty:g}"


def _apply_updates(txn: Transaction, updates: list[BrokerOrder], report: ReconcileReport) -> None:
    """Bring updated orders to the broker's state and record their fills."""
    if not updates:
        return
    expected = {c.client_order_id: c.platform_status for c in report.updated}
    stored = txn.query(
        "SELECT * FROM trading.orders WHERE broker = ? AND list_contains(?, client_order_id)",
        [report.broker, list(expected)],
    )
    moved = [
        cid
        for cid, status in stored.select("client_order_id", "status").rows()
        if expected[cid] != status
    ]
    if moved or len(stored) != len(expected):
        raise ReconcileError(
            f"trading.orders changed while reconciling ({moved or 'rows missing'}); nothing was "
            "written: run reconcile again once the trade run has finished"
        )
    state = pl.DataFrame(
        [
            {
                "client_order_id": o.client_order_id,
                "_b": o.broker_order_id,
                "_s": o.status,
                "_m": o.message,
            }
            for o in updates
        ],
        schema={"client_order_id": pl.String, "_b": pl.String, "_s": pl.String, "_m": pl.String},
    )
    txn.merge(
        schemas.ORDERS,
        stored.join(state, on="client_order_id")
        .with_columns(
            broker_order_id=pl.col("_b"),
            status=pl.col("_s"),
            message=pl.coalesce("_m", "message"),
        )
        .select(schemas.ORDERS.column_names),
    )
    txn.merge(schemas.FILLS, fill_rows(updates, broker=report.broker))


def fill_rows(orders: list[BrokerOrder], *, broker: str) -> pl.DataFrame:
    """Return one cumulative trading.fills row per order with a fill (id ``<order>-fill``, the
    id the trade flow gives it, so a later trade run does not record it twice)."""
    return schemas.FILLS.frame(
        [
            {
                "fill_id": f"{o.client_order_id}-fill",
                "client_order_id": o.client_order_id,
                "broker": broker,
                "symbol": o.symbol,
                "side": o.side,
                "qty": o.filled_qty,
                "price": o.filled_avg_price,
                "commission": o.commission,
                "filled_at": o.filled_at,
            }
            for o in orders
            if o.filled_qty > 0
        ]
    )
