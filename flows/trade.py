"""The Prefect trade flow: gate -> predictions -> targets -> orders -> broker -> records.

Safety rules: refuse (raise TradeRefused) when data is stale, the latest batch failed
validation, or there is no fresh prediction from the champion model. Orders carry
deterministic client ids and are written to the lakehouse *before* they are sent, so a retried,
repeated or killed run never sends the same order twice.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import asdict, dataclass, field

import polars as pl
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.brokers.base import Account, Broker, BrokerOrder, OrderRequest
from flows.brokers.paper import PaperBroker
from flows.brokers.select import build_broker
from flows.dagster_events import report_materializations
from flows.gate import Gate, TradeRefused, check_gate, refuse
from flows.reconcile import ReconcileReport, fill_rows, reconcile
from flows.risk_state import decide_state, risk_limits
from quantlake.settings import Settings, load_settings
from strategies.ids import client_order_id
from strategies.orders import plan_orders
from strategies.risk import check_orders
from strategies.states import State
from strategies.targets import target_weights
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
    orders: list[dict[str, object]] = field(default_factory=list)
    positions: list[dict[str, object]] = field(default_factory=list)
    cash: float | None = None
    equity: float | None = None
    snapshot_id: int | None = None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _inputs(lake: Lakehouse, gate: Gate) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Return (predictions, volatility, prices) for the gate's session, at the gate's snapshot."""
    at = {"as_of": gate.snapshot_id, "order_by": "symbol"}
    preds = lake.read(
        schemas.PREDICTIONS,
        where="session = ? AND model_version = ?",
        params=[gate.session, gate.model_version],
        **at,
    ).select("symbol", "score")
    vol = lake.read(schemas.FEATURES, where="session = ?", params=[gate.session], **at).select(
        "symbol", pl.col("vol_20").alias("vol")
    )
    prices = lake.read(
        schemas.CURATED_BARS, where="session = ?", params=[gate.session], **at
    ).select("symbol", pl.col("close").alias("price"))
    return preds, vol, prices


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
def plan(
    lake: Lakehouse, broker: Broker, settings: Settings, gate: Gate
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, Account]:
    """Return (orders to place, prices, positions, account) from predictions and the broker."""
    preds, vol, prices = _inputs(lake, gate)
    strat = settings.strategy
    targets = target_weights(
        preds,
        top_k=strat.top_k,
        weighting=strat.weighting,
        max_position_weight=strat.max_position_weight,
        gross_exposure=strat.gross_exposure,
        volatility=vol,
    )
    held = broker.positions()
    positions = pl.DataFrame(
        {"symbol": [p.symbol for p in held], "qty": [p.qty for p in held]},
        schema={"symbol": pl.String, "qty": pl.Float64},
    )
    price_map = dict(prices.iter_rows())
    account = broker.account(prices=price_map)
    orders = plan_orders(
        targets,
        positions,
        prices,
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
    return orders, prices, positions, account


def _cost_bps(settings: Settings) -> float:
    """Return the paper broker's all-in cost: slippage and commission compound."""
    slip, fee = settings.paper.slippage_bps / 1e4, settings.paper.commission_bps / 1e4
    return ((1 + slip) * (1 + fee) - 1) * 1e4


def _order_rows(
    orders: pl.DataFrame, settings: Settings, gate: Gate, broker: Broker, now: dt.datetime
) -> pl.DataFrame:
    rows = []
    for o in orders.iter_rows(named=True):
        rows.append(
            {
                "client_order_id": o["client_order_id"],
                "broker": broker.name,
                "broker_order_id": None,
                "strategy": settings.strategy.name,
                "session": gate.session,
                "symbol": o["symbol"],
                "side": o["side"],
                "qty": float(o["qty"]),
                "order_type": "market",
                "limit_price": None,
                "time_in_force": "day",
                "intent": o["intent"],
                "status": "pending_submit",
                "submitted_at": now,
                "model_version": gate.model_version,
                "predictions_snapshot": gate.snapshot_id,
                "target_weight": float(o["target_weight"]),
                "reference_price": float(o["price"]),
                "message": None,
            }
        )
    return pl.DataFrame(rows, schema=schemas.ORDERS.polars_schema())


@task(name="submit", cache_policy=NO_CACHE)
def submit(lake: Lakehouse, broker: Broker, intents: pl.DataFrame) -> tuple[list[BrokerOrder], int]:
    """Record orders before sending, then send each one the broker does not already have.

    Return the broker's view of every intended order and how many were newly sent.
    """
    first = intents.row(0, named=True)
    with lake.transaction("trade: orders intended", orders=len(intents)) as txn:
        others = txn.query(
            "SELECT count(*) FROM trading.orders WHERE strategy = ? AND session = ? "
            "AND broker = ? AND NOT list_contains(?, client_order_id)",
            [
                first["strategy"],
                first["session"],
                first["broker"],
                intents.get_column("client_order_id").to_list(),
            ],
        ).item()
        if others:
            raise TradeRefused(
                f"another run already decided different orders for session {first['session']}; "
                "not sending this plan (check for a concurrent trade run)"
            )
        txn.insert_missing(schemas.ORDERS, intents)
    results: list[BrokerOrder] = []
    sent_now = 0
    for o in intents.iter_rows(named=True):
        existing = broker.get_order(o["client_order_id"])
        if existing is not None:
            results.append(existing)
            continue
        sent_now += 1
        results.append(
            broker.submit(
                OrderRequest(
                    client_order_id=o["client_order_id"],
                    symbol=o["symbol"],
                    side=o["side"],
                    qty=o["qty"],
                    order_type=o["order_type"],
                    time_in_force=o["time_in_force"],
                    reference_price=o["reference_price"],
                )
            )
        )
    return results, sent_now


@task(name="record", cache_policy=NO_CACHE)
def record(
    lake: Lakehouse,
    broker: Broker,
    gate: Gate,
    sent: list[BrokerOrder],
    prices: pl.DataFrame,
    *,
    run_id: str,
    now: dt.datetime,
) -> tuple[int | None, list[dict[str, object]], float, float]:
    """Store broker order states, fills, positions, the account and the run's decisions."""
    price_map = dict(prices.iter_rows())
    held = broker.positions()
    account = broker.account(prices=price_map)
    with lake.transaction("trade: results", session=gate.session, run_id=run_id) as txn:
        if sent:
            stored = txn.query(
                "SELECT * FROM trading.orders WHERE list_contains(?, client_order_id)",
                [[o.client_order_id for o in sent]],
            )
            txn.merge(schemas.ORDERS, _with_broker_state(stored, sent))
            # Merge: a partially filled order's cumulative fill grows between runs.
            txn.merge(schemas.FILLS, fill_rows(sent, broker=broker.name))
        txn.delete(schemas.POSITIONS, "broker = ?", [broker.name])
        positions = _position_rows(held, broker.name, price_map, now)
        txn.append(schemas.POSITIONS, positions)
        txn.append(
            schemas.ACCOUNT,
            pl.DataFrame(
                {
                    "broker": [broker.name],
                    "as_of": [now],
                    "cash": [account.cash],
                    "equity": [account.equity],
                    "buying_power": [account.buying_power],
                }
            ),
        )
        txn.append(schemas.RISK_DECISIONS, _decisions(gate, sent, run_id=run_id, now=now))
    return (
        txn.snapshot_id,
        positions.drop("broker", "as_of").to_dicts(),
        account.cash,
        account.equity,
    )


def _with_broker_state(stored: pl.DataFrame, sent: list[BrokerOrder]) -> pl.DataFrame:
    state = pl.DataFrame(
        {
            "client_order_id": [o.client_order_id for o in sent],
            "_boid": [o.broker_order_id for o in sent],
            "_status": [o.status for o in sent],
            "_message": [o.message for o in sent],
        },
        schema={
            "client_order_id": pl.String,
            "_boid": pl.String,
            "_status": pl.String,
            "_message": pl.String,
        },
    )
    return (
        stored.join(state, on="client_order_id", how="inner")
        .with_columns(
            pl.col("_boid").alias("broker_order_id"),
            pl.col("_status").alias("status"),
            pl.coalesce("_message", "message").alias("message"),
        )
        .select(schemas.ORDERS.column_names)
    )


def _position_rows(held: list, broker_name: str, prices: dict, now: dt.datetime) -> pl.DataFrame:
    rows = [
        {
            "broker": broker_name,
            "symbol": p.symbol,
            "qty": p.qty,
            "avg_price": p.avg_price,
            "market_price": prices.get(p.symbol),
            "as_of": now,
        }
        for p in held
        if p.qty != 0
    ]
    return pl.DataFrame(rows, schema=schemas.POSITIONS.polars_schema())


def _decisions(
    gate: Gate, sent: list[BrokerOrder], *, run_id: str, now: dt.datetime
) -> pl.DataFrame:
    rows = [{"subject": "gate", "decision": "trade", "reason": gate.reason}]
    rows += [
        {
            "subject": o.client_order_id,
            "decision": "submitted" if o.status != "rejected" else "rejected",
            "reason": f"{o.side} {o.qty:g} {o.symbol}: broker status {o.status}",
        }
        for o in sent
    ]
    return pl.DataFrame(rows).with_columns(
        pl.lit(run_id).alias("run_id"),
        pl.lit(gate.session).alias("session"),
        pl.lit(now).cast(pl.Datetime("us", "UTC")).alias("decided_at"),
    )


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
    """Gate, plan, submit and record one rebalance (the body of the trade flow)."""
    logger = get_run_logger()
    run_id = uuid.uuid4().hex[:12]
    broker = build_broker(settings, lake=lake)
    # The broker is authoritative: compare with it first, even on a day the gate refuses.
    report = reconcile_task(lake, broker, settings, now=now)
    gate = check_gate(lake, settings, now=now, run_id=run_id)
    untrusted = [c for c in report.orders if c.outcome in UNTRUSTED]
    if untrusted:
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
    if isinstance(broker, PaperBroker):
        splits = lake.read(schemas.RAW_CORPORATE_ACTIONS, as_of=gate.snapshot_id)
        broker.apply_splits(splits.select("symbol", "ex_session", "split_ratio"), now=now)
    decided = _decided(lake, settings, gate, broker)
    if decided.is_empty():
        orders, prices, positions, account = plan(lake, broker, settings, gate)
        decision = decide_state(
            lake,
            settings,
            broker=broker.name,
            session=gate.session,
            equity=account.equity,
            run_id=run_id,
            now=now,
        )
        checked = risk_check(
            lake,
            settings,
            gate,
            orders,
            positions=positions,
            prices=prices,
            account=account,
            state=decision.state,
            run_id=run_id,
            now=now,
        )
        approved = checked.filter(pl.col("approved_qty") > 0).with_columns(
            pl.col("approved_qty").alias("qty")
        )
        intents = _order_rows(approved, settings, gate, broker, now)
        state = str(decision.state)
    else:
        # The decision for this session was made by an earlier run: re-drive those orders
        # (the broker is asked about each) rather than plan again and risk a second trade.
        logger.info("session %s already decided (%d orders); resuming", gate.session, len(decided))
        intents = decided
        prices = _inputs(lake, gate)[2]
        state = "unchanged (session already decided)"
    sent, sent_now = submit(lake, broker, intents) if not intents.is_empty() else ([], 0)
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
