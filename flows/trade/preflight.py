"""What a trade run does before it decides anything: move the paper market to now, reconcile
with the broker, and refuse when the records or the market cannot be trusted."""

from __future__ import annotations

import datetime as dt

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from flows.brokers.alpaca import AlpacaBroker
from flows.brokers.base import Broker
from flows.brokers.paper import PaperBroker
from flows.trade.gate import Gate, refuse
from flows.trade.reconcile import ReconcileReport, reconcile
from quantlake.settings import Settings
from warehouse import calendar, schemas
from warehouse.lake import Lakehouse

# Reconciliation outcomes that mean our records cannot be trusted to size a new trade on.
UNTRUSTED = ("unknown_order", "status_mismatch", "missing_at_broker")


@task(name="reconcile", cache_policy=NO_CACHE)
def reconcile_task(
    lake: Lakehouse, broker: Broker, settings: Settings, *, now: dt.datetime
) -> ReconcileReport:
    """Compare trading records with the broker; record the differences."""
    return reconcile(lake, broker, now=now, exchange=settings.exchange)


def decided_orders(lake: Lakehouse, settings: Settings, gate: Gate, broker: Broker) -> pl.DataFrame:
    """Return the orders already decided for this strategy, session and broker, sells first
    (the planner's order: sells free the cash the buys need)."""
    return lake.read(
        schemas.ORDERS,
        where="strategy = ? AND session = ? AND broker = ?",
        params=[settings.strategy.name, gate.session, broker.name],
        order_by="side = 'buy', symbol",
    )


def move_paper_market(
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


def session_volumes(lake: Lakehouse, gate: Gate) -> dict[str, float]:
    """Return each symbol's volume in the gate's session: the paper broker's liquidity guide."""
    bars = lake.read(
        schemas.CURATED_BARS, where="session = ?", params=[gate.session], as_of=gate.snapshot_id
    )
    return dict(bars.select("symbol", "volume").iter_rows())


def refuse_closed_market(
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


def refuse_untrusted(
    lake: Lakehouse, report: ReconcileReport, gate: Gate, *, run_id: str, now: dt.datetime
) -> None:
    """Refuse when the reconciliation found orders the platform cannot account for."""
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
