"""The Prefect trade flow: reconcile -> gate -> targets -> risk -> orders -> broker -> records.

Safety rules:

- one run at a time per broker (a file lock; a second run is refused, never queued);
- reconcile with the broker first: orders the platform cannot account for refuse the run;
- stale or failed data, a missing or stale model: the book is REDUCING (exits only); the kill
  switch or a drawdown: HALTED (no new orders, open ones cancelled where the broker can);
- every order passes the pre-trade checks, and a rebalance above the approval threshold waits
  for a person in the Prefect UI;
- orders carry deterministic client ids and are written to the lakehouse *before* they are
  sent, so a retried, repeated or killed run never sends the same order twice.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import asdict, dataclass, field

import polars as pl
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.brokers.alpaca import AlpacaBroker
from flows.brokers.base import Account, Broker
from flows.brokers.paper import PaperBroker, submission_session
from flows.brokers.select import build_broker
from flows.dagster_events import report_materializations
from flows.trade.approval import ask_approval
from flows.trade.cancel import cancel_stale_orders
from flows.trade.gate import Gate, TradeRefused, check_gate, refuse
from flows.trade.inputs import TradeInputs, portfolio_config, read_inputs
from flows.trade.lock import TradeLockHeld, trade_lock
from flows.trade.reconcile import ReconcileReport, reconcile
from flows.trade.records import order_rows, record, submit
from flows.trade.state import decide_state, risk_limits
from quantlake.settings import Settings, load_settings
from strategies.ids import client_order_id
from strategies.orders import plan_orders
from strategies.portfolio import Targets, build_targets
from strategies.risk import check_orders
from strategies.states import State
from warehouse import calendar, schemas
from warehouse.lake import Lakehouse

__all__ = ["TradeRefused", "TradeSummary", "trade_flow", "run_trade"]


@dataclass
class TradeSummary:
    """What one trade run did."""

    session: dt.date | None
    status: str  # traded | no_orders | refused
    reason: str = ""
    model_version: str | None = None
    orders_sent: int = 0
    reconciliation: str | None = None
    state: str | None = None
    turnover: float | None = None
    notes: list[str] = field(default_factory=list)
    orders: list[dict[str, object]] = field(default_factory=list)
    positions: list[dict[str, object]] = field(default_factory=list)
    cash: float | None = None
    equity: float | None = None
    snapshot_id: int | None = None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Plan:
    """A planned rebalance: orders with client ids, and what it was planned from."""

    orders: pl.DataFrame
    inputs: TradeInputs
    positions: pl.DataFrame
    account: Account
    targets: Targets | None


def _decided(lake: Lakehouse, settings: Settings, gate: Gate, broker: Broker) -> pl.DataFrame:
    """Return the orders already decided for this strategy, session and broker, sells first
    (the planner's order: sells free the cash the buys need)."""
    return lake.read(
        schemas.ORDERS,
        where="strategy = ? AND session = ? AND broker = ?",
        params=[settings.strategy.name, gate.session, broker.name],
        order_by="side = 'buy', symbol",
    )


# Reconciliation outcomes that mean our records cannot be trusted to size a new trade on.
UNTRUSTED = ("unknown_order", "status_mismatch", "missing_at_broker")


@task(name="reconcile", cache_policy=NO_CACHE)
def reconcile_task(
    lake: Lakehouse, broker: Broker, settings: Settings, *, now: dt.datetime
) -> ReconcileReport:
    """Compare trading records with the broker; record the differences."""
    return reconcile(lake, broker, now=now, exchange=settings.exchange)


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
    """Check every planned order against the limits and the state; record each decision."""
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
        txn.append(schemas.RISK_DECISIONS, rows)
    return checked


@task(name="plan", cache_policy=NO_CACHE)
def plan(lake: Lakehouse, broker: Broker, settings: Settings, gate: Gate) -> Plan:
    """Return the orders that move the book to its targets, and what they were planned from.

    Without predictions for the session there are no targets: the book is held as it is (no
    orders), never sold off because a model is missing.
    """
    inputs = read_inputs(lake, settings, gate)
    held = broker.positions()
    positions = pl.DataFrame(
        {"symbol": [p.symbol for p in held], "qty": [p.qty for p in held]},
        schema={"symbol": pl.String, "qty": pl.Float64},
    )
    account = broker.account(prices=dict(inputs.prices.iter_rows()))
    if inputs.predictions.is_empty():
        empty = pl.DataFrame(schema={**_ORDER_SCHEMA})
        return Plan(empty, inputs, positions, account, None)
    current = positions.join(inputs.prices, on="symbol", how="left").select(
        "symbol", (pl.col("qty") * pl.col("price") / account.equity).alias("weight")
    )
    targets = build_targets(
        inputs.predictions,
        config=portfolio_config(settings),
        volatility=inputs.volatility,
        current_weights=current,
        returns=inputs.returns,
        ic=inputs.ic,
    )
    strat = settings.strategy
    orders = plan_orders(
        targets.weights,
        positions,
        inputs.prices,
        equity=account.equity,
        cash=account.cash,
        min_notional=strat.min_notional,
        fractional=strat.fractional_shares,
        # Leave room for the broker's costs so a fully invested plan is not rejected for cash.
        cost_bps=_cost_bps(settings),
    )
    ids = [
        client_order_id(strategy=strat.name, session=gate.session, symbol=sym, intent=intent)
        for sym, intent in orders.select("symbol", "intent").iter_rows()
    ]
    orders = orders.with_columns(pl.Series("client_order_id", ids, dtype=pl.String))
    return Plan(orders, inputs, positions, account, targets)


_ORDER_SCHEMA = {
    "symbol": pl.String,
    "side": pl.String,
    "qty": pl.Float64,
    "price": pl.Float64,
    "notional": pl.Float64,
    "target_weight": pl.Float64,
    "intent": pl.String,
    "client_order_id": pl.String,
}


def _cost_bps(settings: Settings) -> float:
    """Return the paper broker's worst all-in cost: slippage plus the market impact of an order
    at the participation cap, compounded with the commission."""
    paper = settings.paper
    impact = paper.impact_coefficient_bps * paper.max_participation**paper.impact_exponent
    slip, fee = (paper.slippage_bps + impact) / 1e4, paper.commission_bps / 1e4
    return ((1 + slip) * (1 + fee) - 1) * 1e4


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
    logger = get_run_logger()
    if isinstance(broker, PaperBroker):
        _move_paper_market(lake, broker, settings, now=now)
    # The broker is authoritative: compare with it first, even on a day the gate refuses.
    report = reconcile_task(lake, broker, settings, now=now)
    gate = check_gate(lake, settings, now=now, run_id=run_id)
    _refuse_untrusted(lake, report, gate, run_id=run_id, now=now)
    if isinstance(broker, AlpacaBroker):
        _refuse_closed_market(lake, broker, gate, run_id=run_id, now=now)
    decided = _decided(lake, settings, gate, broker)
    notes: list[str] = []
    turnover = None
    if decided.is_empty():
        cancel_stale_orders(
            lake,
            broker,
            strategy=settings.strategy.name,
            session=gate.session,
            run_id=run_id,
            now=now,
        )
        planned = plan(lake, broker, settings, gate)
        intents, state, notes = _decide(lake, settings, gate, planned, broker, run_id, now)
        prices = planned.inputs.prices
        turnover = planned.targets.turnover if planned.targets else None
    else:
        # The decision for this session was made by an earlier run: re-drive those orders
        # (the broker is asked about each) rather than plan again and risk a second trade.
        logger.info("session %s already decided (%d orders); resuming", gate.session, len(decided))
        intents = decided
        prices = read_inputs(lake, settings, gate).prices
        state = "unchanged (session already decided)"
    sent, sent_now = ([], 0)
    if not intents.is_empty():
        at = submission_session(now, exchange=settings.exchange)
        sent, sent_now = submit(lake, broker, intents, session=at, volumes=_volumes(lake, gate))
    snapshot, positions, cash, equity = record(
        lake, broker, gate, sent, prices, run_id=run_id, now=now
    )
    logger.info(
        "session %s: %d orders planned, %d newly sent", gate.session, len(intents), sent_now
    )
    return TradeSummary(
        session=gate.session,
        status="traded" if sent_now else "no_orders",
        reason=gate.reason,
        model_version=gate.model_version,
        orders_sent=sent_now,
        state=state,
        turnover=turnover,
        notes=notes,
        reconciliation=f"{report.run_id}: {'clean' if report.clean else 'differences recorded'}",
        orders=[
            {
                "client_order_id": o.client_order_id,
                "symbol": o.symbol,
                "side": o.side,
                "qty": o.qty,
                "status": o.status,
                "price": o.filled_avg_price,
            }
            for o in sent
        ],
        positions=positions,
        cash=cash,
        equity=equity,
        snapshot_id=snapshot,
    )


def _decide(
    lake: Lakehouse,
    settings: Settings,
    gate: Gate,
    planned: Plan,
    broker: Broker,
    run_id: str,
    now: dt.datetime,
) -> tuple[pl.DataFrame, str, list[str]]:
    """Decide the state, check every order, ask for approval if needed; return the intents."""
    notes = list(planned.targets.notes) if planned.targets else ["no predictions: book held"]
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
    checked = risk_check(
        lake,
        settings,
        gate,
        planned.orders,
        positions=planned.positions,
        prices=planned.inputs.prices,
        account=planned.account,
        state=decision.state,
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
    return order_rows(approved, settings, gate, broker, now), str(decision.state), notes


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


def _move_paper_market(
    lake: Lakehouse, broker: PaperBroker, settings: Settings, *, now: dt.datetime
) -> None:
    """Let the paper market move up to ``now``: splits reach held positions, then open orders
    are worked through the sessions that have closed since they were placed. Done before the
    reconciliation, which then brings the platform's records up to the broker's."""
    splits = lake.read(schemas.RAW_CORPORATE_ACTIONS)
    broker.apply_splits(splits.select("symbol", "ex_session", "split_ratio"), now=now)
    since = broker.pending_since()
    if since is None:
        return
    closed = calendar.last_completed_session(now, exchange=settings.exchange)
    bars = lake.read(
        schemas.CURATED_BARS, where="session > ? AND session <= ?", params=[since, closed]
    )
    broker.settle(
        bars.select("symbol", "session", "open", "high", "low", "close", "volume"), now=now
    )


def _volumes(lake: Lakehouse, gate: Gate) -> dict[str, float]:
    """Return each symbol's volume in the gate's session: the paper broker's liquidity guide."""
    bars = lake.read(
        schemas.CURATED_BARS, where="session = ?", params=[gate.session], as_of=gate.snapshot_id
    )
    return dict(bars.select("symbol", "volume").iter_rows())


def _refuse_closed_market(
    lake: Lakehouse, broker: AlpacaBroker, gate: Gate, *, run_id: str, now: dt.datetime
) -> None:
    """Refuse when the broker says the market is shut (a holiday or early close the calendar
    did not know): orders sent now would wait for an opening price nobody planned on."""
    clock = broker.clock()
    if clock.is_open:
        return
    raise refuse(
        lake,
        run_id=run_id,
        session=gate.session,
        now=now,
        reason=(
            f"{broker.name} says the market is closed at {clock.timestamp:%Y-%m-%d %H:%M} "
            f"(next open {clock.next_open:%Y-%m-%d %H:%M} UTC); nothing was sent. The trade "
            "schedule runs after the open; rerun then"
        ),
    )


def _refuse_untrusted(
    lake: Lakehouse, report: ReconcileReport, gate: Gate, *, run_id: str, now: dt.datetime
) -> None:
    untrusted = [c for c in report.orders if c.outcome in UNTRUSTED]
    if not untrusted:
        return
    reasons = "; ".join(f"{c.client_order_id}: {c.reason}" for c in untrusted[:3])
    raise refuse(
        lake,
        run_id=run_id,
        session=gate.session,
        now=now,
        reason=(
            f"reconciliation {report.run_id} found {len(untrusted)} order(s) the "
            f"platform cannot account for ({reasons}); resolve them, then rerun "
            "(`quantlake reconcile` shows the report)"
        ),
    )
