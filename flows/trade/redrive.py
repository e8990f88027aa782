"""A rerun of a session already decided: its unsent orders meet the checks of now before any
is sent.

Orders written but not sent (a run killed between writing and sending them, or a broker error
part-way) are not sent on the strength of an earlier run's checks. The rerun decides the trading
state afresh (the kill switch included) and re-checks each unsent order against the positions,
cash and limits of now, exactly as a new order is checked: what passes is sent, what is cut is
sent at its approved size (written first), what is rejected is cancelled and recorded. Nothing
is planned again: the session's decision stands, it can only shrink.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from flows.brokers.base import Broker
from flows.trade.cancel import cancel_orders
from flows.trade.decide import Decided, risk_check
from flows.trade.gate import Gate
from flows.trade.inputs import read_inputs
from flows.trade.plan import broker_book
from flows.trade.state import decide_state
from quantlake.settings import Settings
from warehouse import schemas
from warehouse.lake import Lakehouse


def split_rechecked(checked: pl.DataFrame) -> tuple[pl.DataFrame, dict[str, str]]:
    """Return the re-checked unsent orders to send (trading.orders rows at their approved
    quantity, a cut one saying so in its message) and, by client order id, why each of the
    others must not be sent. ``checked`` is trading.orders rows with check_orders' columns."""
    cut = pl.col("decision") == "resize"
    send = (
        checked.filter(pl.col("approved_qty") > 0)
        .with_columns(
            pl.col("approved_qty").alias("qty"),
            pl.when(cut)
            .then(pl.format("cut on re-check from {}: {}", "qty", "reason"))
            .otherwise(pl.col("message"))
            .alias("message"),
        )
        .select(schemas.ORDERS.column_names)
    )
    rejected = checked.filter(pl.col("approved_qty") <= 0)
    why = {
        cid: f"on re-check before sending: {reason}"
        for cid, reason in rejected.select("client_order_id", "reason").iter_rows()
    }
    return send, why


@task(name="re-drive", cache_policy=NO_CACHE)
def redrive(
    lake: Lakehouse,
    settings: Settings,
    gate: Gate,
    broker: Broker,
    decided: pl.DataFrame,
    *,
    run_id: str,
    now: dt.datetime,
) -> Decided:
    """Decide the state and re-check the session's unsent orders against the book of now;
    cancel and record the ones that fail; return the ones to send."""
    prices = read_inputs(lake, settings, gate).prices
    positions, account = broker_book(broker, prices)
    decision = decide_state(
        lake,
        settings,
        broker=broker.name,
        session=gate.session,
        equity=account.equity,
        gate=gate,
        run_id=run_id,
        now=now,
    )
    unsent = decided.filter(pl.col("status") == "pending_submit")
    if unsent.is_empty():
        return Decided(decision, unsent, [], prices)
    checked = risk_check(
        lake,
        settings,
        gate,
        unsent.with_columns(pl.col("reference_price").alias("price")),
        positions=positions,
        prices=prices,
        account=account,
        state=decision.state,
        run_id=run_id,
        now=now,
    )
    send, why = split_rechecked(checked)
    rejected = unsent.filter(pl.col("client_order_id").is_in(list(why)))
    cancelled = cancel_orders(
        lake, broker, rejected, why, session=gate.session, run_id=run_id, now=now
    )
    if not send.is_empty():
        # A cut order is written at its new size before it is sent, like any order (a merge
        # of unchanged rows writes nothing).
        with lake.transaction("trade: orders re-checked", run_id=run_id) as txn:
            txn.merge(schemas.ORDERS, send)
    return Decided(decision, send, cancelled, prices)
