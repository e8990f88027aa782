"""The decisions of a run on a new plan: the state, pre-trade risk checks, a person's approval."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from flows.brokers.base import Account, Broker
from flows.trade.approval import ask_approval
from flows.trade.audit import unrecorded
from flows.trade.cancel import Cancel, cancel_stale_orders
from flows.trade.gate import Gate
from flows.trade.plan import Plan, plan
from flows.trade.records import order_rows
from flows.trade.state import decide_state, risk_limits
from quantlake.settings import Settings
from strategies.risk import check_orders
from strategies.states import State, StateDecision
from warehouse import calendar, schemas
from warehouse.lake import Lakehouse


@dataclass(frozen=True)
class Decided:
    """A run's decision on its session: the state, the orders to send, what it cancelled."""

    decision: StateDecision
    send: pl.DataFrame  # trading.orders rows (pending_submit) to send now
    cancelled: list[Cancel]
    prices: pl.DataFrame  # (symbol, price): the marks positions are valued at
    turnover: float | None = None
    notes: list[str] = field(default_factory=list)


def new_plan(
    lake: Lakehouse,
    settings: Settings,
    broker: Broker,
    gate: Gate,
    *,
    run_id: str,
    now: dt.datetime,
) -> Decided:
    """Cancel what still works from earlier sessions, plan the session, decide the state and
    check every order under it; return the intents to send."""
    stale = cancel_stale_orders(
        lake,
        broker,
        strategy=settings.strategy.name,
        session=gate.session,
        run_id=run_id,
        now=now,
    )
    planned = plan(lake, broker, settings, gate)
    decision = decide_state(
        lake,
        settings,
        broker=broker.name,
        session=gate.session,
        equity=planned.account.equity,
        gate=gate,
        run_id=run_id,
        now=now,
    )
    intents, notes = decide_plan(
        lake, settings, gate, planned, broker, state=decision.state, run_id=run_id, now=now
    )
    turnover = planned.targets.turnover if planned.targets else None
    return Decided(decision, intents, stale, planned.inputs.prices, turnover, notes)


@task(name="risk checks", cache_policy=NO_CACHE)
def risk_check(
    lake: Lakehouse,
    settings: Settings,
    gate: Gate,
    orders: pl.DataFrame,
    *,
    positions: pl.DataFrame,
    prices: pl.DataFrame,
    account: Account,
    state: State,
    run_id: str,
    now: dt.datetime,
) -> pl.DataFrame:
    """Check every order against the limits and the state; record each decision not yet
    recorded for the session (a rerun that checks the same orders the same way adds nothing)."""
    previous = calendar.previous_session(gate.session, exchange=settings.exchange)
    trusted = lake.read(
        schemas.CURATED_BARS, where="session = ?", params=[previous], as_of=gate.snapshot_id
    ).select("symbol", pl.col("close").alias("price"))
    checked = check_orders(
        orders,
        positions=positions,
        prices=prices,
        last_trusted=trusted,
        equity=account.equity,
        cash=account.cash,
        state=state,
        limits=risk_limits(settings),
    )
    rows = checked.select(
        pl.lit(run_id).alias("run_id"),
        pl.lit(gate.session).alias("session"),
        pl.concat_str(pl.lit("risk:"), "client_order_id").alias("subject"),
        "decision",
        pl.format("{} {} {}: {}", "side", "qty", "symbol", "reason").alias("reason"),
        pl.lit(now).cast(pl.Datetime("us", "UTC")).alias("decided_at"),
    )
    with lake.transaction("trade: risk checks", run_id=run_id) as txn:
        txn.append(schemas.RISK_DECISIONS, unrecorded(txn, rows))
    return checked


def decide_plan(
    lake: Lakehouse,
    settings: Settings,
    gate: Gate,
    planned: Plan,
    broker: Broker,
    *,
    state: State,
    run_id: str,
    now: dt.datetime,
) -> tuple[pl.DataFrame, list[str]]:
    """Check every planned order under ``state``, ask for approval if needed; return the
    intents (trading.orders rows) and the construction notes."""
    notes = list(planned.targets.notes) if planned.targets else ["no predictions: book held"]
    checked = risk_check(
        lake,
        settings,
        gate,
        planned.orders,
        positions=planned.positions,
        prices=planned.inputs.prices,
        account=planned.account,
        state=state,
        run_id=run_id,
        now=now,
    )
    approved = checked.filter(pl.col("approved_qty") > 0).with_columns(
        pl.col("approved_qty").alias("qty"),
        (pl.col("approved_qty") * pl.col("price")).alias("notional"),
    )
    threshold = settings.strategy.approval_turnover
    turnover = planned.targets.turnover if planned.targets else 0.0
    if threshold is not None and turnover > threshold and not approved.is_empty():
        answer = ask_approval(
            approved,
            session=gate.session,
            turnover=turnover,
            threshold=threshold,
            timeout_s=settings.strategy.approval_timeout_s,
        )
        _record_approval(lake, gate, answer.approved, answer.reason, run_id=run_id, now=now)
        notes.append(f"approval: {answer.reason}")
        if not answer.approved:
            approved = approved.clear()
    return order_rows(approved, settings, gate, broker, now), notes


def _record_approval(
    lake: Lakehouse, gate: Gate, approved: bool, reason: str, *, run_id: str, now: dt.datetime
) -> None:
    row = {
        "run_id": run_id,
        "session": gate.session,
        "subject": "approval",
        "decision": "approved" if approved else "rejected",
        "reason": reason,
        "decided_at": now,
    }
    with lake.transaction("trade: approval", run_id=run_id) as txn:
        txn.append(schemas.RISK_DECISIONS, schemas.RISK_DECISIONS.frame([row]))
