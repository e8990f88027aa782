"""The Prefect trade flow: reconcile -> gate -> state -> plan -> risk -> orders -> broker -> record.

Safety rules:

- one run at a time per broker (a file lock; a second run is refused, never queued);
- reconcile with the broker first: orders the platform cannot account for refuse the run;
- stale or failed data, a missing or stale model: the book is REDUCING (exits only); the kill
  switch or a drawdown: HALTED (nothing new is sent, and every working order of the strategy
  is cancelled where the broker can, each cancel recorded);
- every order passes the pre-trade checks, and a rebalance above the approval threshold waits
  for a person in the Prefect UI;
- orders carry deterministic client ids and are written to the lakehouse *before* they are
  sent, so a retried, repeated or killed run never sends the same order twice;
- a rerun of a session already decided plans nothing new, but its unsent orders meet the state
  and the checks of now before any is sent (flows/trade/redrive.py);
- a rerun that changes nothing records nothing (flows/trade/audit.py).

flows/trade/pause.py holds a test-only pause point between writing and sending orders (inert
unless a test sets its environment variable).
"""

from __future__ import annotations

import datetime as dt
import uuid

from prefect import flow, get_run_logger

from flows.brokers.alpaca import AlpacaBroker
from flows.brokers.base import Broker
from flows.brokers.paper import PaperBroker, submission_session
from flows.brokers.select import build_broker
from flows.dagster_events import report_materializations
from flows.trade.cancel import Cancel, cancel_for_halt
from flows.trade.decide import Decided, new_plan, risk_check
from flows.trade.gate import Gate, TradeRefused, check_gate, refuse
from flows.trade.lock import TradeLockHeld, trade_lock
from flows.trade.plan import Plan, plan
from flows.trade.preflight import (
    decided_orders,
    move_paper_market,
    reconcile_task,
    refuse_closed_market,
    refuse_untrusted,
    session_volumes,
)
from flows.trade.reconcile import ReconcileReport
from flows.trade.records import record, submit
from flows.trade.redrive import redrive
from flows.trade.summary import (
    TradeSummary,
    cancel_rows,
    reconciliation_line,
    standing_orders,
)
from quantlake.settings import Settings, load_settings
from strategies.states import State
from warehouse.lake import Lakehouse

__all__ = ["Plan", "TradeRefused", "TradeSummary", "plan", "risk_check", "run_trade", "trade_flow"]


@flow(name="trade", description="Rebalance to the champion model's latest predictions.")
def trade_flow(now: dt.datetime | None = None, report_to_dagster: bool = True) -> TradeSummary:
    """Run one rebalance; raise TradeRefused when the data or model gate says no."""
    settings = load_settings()
    now = now or dt.datetime.now(dt.UTC)
    with Lakehouse(settings.lake_dir, catalog=settings.catalog) as lake:
        summary = run_trade(lake, settings, now=now)
    if report_to_dagster and summary.orders_sent:
        report_materializations(
            settings.dagster_home,
            [
                (
                    ["trading", "orders"],
                    {
                        "session": str(summary.session),
                        "orders": len(summary.orders),
                        "model_version": summary.model_version,
                        "snapshot_id": summary.snapshot_id,
                    },
                )
            ],
        )
    return summary


def run_trade(lake: Lakehouse, settings: Settings, *, now: dt.datetime) -> TradeSummary:
    """Reconcile, gate, plan, check, submit and record one rebalance (the trade flow's body)."""
    run_id = uuid.uuid4().hex[:12]
    broker = build_broker(settings, lake=lake)
    try:
        with trade_lock(settings.data_dir, broker.name, now=now):
            return _run_locked(lake, settings, broker, run_id=run_id, now=now)
    except TradeLockHeld as exc:
        raise refuse(lake, run_id=run_id, session=None, reason=str(exc), now=now) from None


def _run_locked(
    lake: Lakehouse, settings: Settings, broker: Broker, *, run_id: str, now: dt.datetime
) -> TradeSummary:
    if isinstance(broker, PaperBroker):
        move_paper_market(lake, broker, settings, now=now)
    # The broker is authoritative: compare with it first, even on a day the gate refuses.
    report = reconcile_task(lake, broker, settings, now=now)
    gate = check_gate(lake, settings, now=now, run_id=run_id)
    refuse_untrusted(lake, report, gate, run_id=run_id, now=now)
    if isinstance(broker, AlpacaBroker):
        refuse_closed_market(lake, broker, gate, run_id=run_id, now=now)
    decided = decided_orders(lake, settings, gate, broker)
    if decided.is_empty():
        step = new_plan(lake, settings, broker, gate, run_id=run_id, now=now)
    else:
        # The session was decided by an earlier run: its unsent orders are re-checked against
        # the state and book of now, never planned again (a second plan could trade twice).
        step = redrive(lake, settings, gate, broker, decided, run_id=run_id, now=now)
    cancelled = step.cancelled + _cancel_if_halted(lake, settings, broker, gate, step, run_id, now)
    sent, sent_now = ([], 0)
    if not step.send.is_empty():
        at = submission_session(now, exchange=settings.exchange)
        sent, sent_now = submit(
            lake,
            broker,
            step.send,
            session=at,
            volumes=session_volumes(lake, gate),
            written=not decided.is_empty(),
        )
    recorded = record(lake, broker, gate, sent, step.prices, run_id=run_id, now=now)
    get_run_logger().info("session %s: %d orders newly sent", gate.session, sent_now)
    return _summary(lake, settings, broker, gate, report, step, cancelled, sent_now, recorded)


def _cancel_if_halted(
    lake: Lakehouse,
    settings: Settings,
    broker: Broker,
    gate: Gate,
    step: Decided,
    run_id: str,
    now: dt.datetime,
) -> list[Cancel]:
    """Cancel every working order of the strategy when the book is HALTED; return them."""
    if step.decision.state is not State.HALTED:
        return []
    return cancel_for_halt(
        lake,
        broker,
        strategy=settings.strategy.name,
        session=gate.session,
        why=" | ".join(step.decision.reasons),
        run_id=run_id,
        now=now,
    )


def _summary(
    lake: Lakehouse,
    settings: Settings,
    broker: Broker,
    gate: Gate,
    report: ReconcileReport,
    step: Decided,
    cancelled: list[Cancel],
    sent_now: int,
    recorded: tuple[int | None, list[dict[str, object]], float, float],
) -> TradeSummary:
    """Return what the run did; a halted run stands behind no order of the session."""
    snapshot, positions, cash, equity = recorded
    halted = step.decision.state is State.HALTED
    strategy = settings.strategy.name
    orders = (
        []
        if halted
        else standing_orders(lake, strategy=strategy, broker=broker.name, session=gate.session)
    )
    return TradeSummary(
        session=gate.session,
        status="halted" if halted else "traded" if sent_now else "no_orders",
        reason=gate.reason,
        model_version=gate.model_version,
        orders_sent=sent_now,
        state=str(step.decision.state),
        turnover=step.turnover,
        notes=step.notes,
        reconciliation=reconciliation_line(
            report.run_id, clean=report.clean, unchanged_since=report.unchanged_since
        ),
        orders=orders,
        positions=positions,
        cash=cash,
        equity=equity,
        snapshot_id=snapshot,
        planned=len(orders),
        cancelled=cancel_rows(cancelled),
        state_reasons=list(step.decision.reasons),
    )
