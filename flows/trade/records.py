"""What the trade flow writes: order intents before sending, then the broker's answer.

Orders are recorded (status ``pending_submit``) in one transaction *before* any is sent, and
the broker is asked about each client id before it is submitted, so a retried, repeated or
killed run never sends an order twice.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from flows.brokers.base import Account, Broker, BrokerOrder, OrderRequest
from flows.brokers.paper import PaperBroker
from flows.trade.audit import changed, run_decisions
from flows.trade.gate import Gate, TradeRefused
from flows.trade.pause import pause_point
from flows.trade.reconcile import fill_rows
from quantlake.settings import Settings
from warehouse import schemas
from warehouse.lake import Lakehouse, Transaction


def order_rows(
    orders: pl.DataFrame, settings: Settings, gate: Gate, broker: Broker, now: dt.datetime
) -> pl.DataFrame:
    """Return approved orders as trading.orders intents (status pending_submit).

    A limit order's price is the reference price moved ``limit_offset_bps`` against us: a buy
    may pay up to that much more, a sell accept that much less.
    """
    strat = settings.strategy
    offset = strat.limit_offset_bps / 1e4
    rows = []
    for o in orders.iter_rows(named=True):
        sign = 1.0 if o["side"] == "buy" else -1.0
        limit = round(o["price"] * (1 + sign * offset), 4) if strat.order_type == "limit" else None
        rows.append(
            {
                "client_order_id": o["client_order_id"],
                "broker": broker.name,
                "broker_order_id": None,
                "strategy": strat.name,
                "session": gate.session,
                "symbol": o["symbol"],
                "side": o["side"],
                "qty": float(o["qty"]),
                "order_type": strat.order_type,
                "limit_price": limit,
                "time_in_force": strat.time_in_force,
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
def submit(
    lake: Lakehouse,
    broker: Broker,
    intents: pl.DataFrame,
    *,
    session: dt.date,
    volumes: dict[str, float],
    written: bool = False,
) -> tuple[list[BrokerOrder], int]:
    """Record orders before sending, then send each one the broker does not already have.

    ``session`` is the exchange session the orders are sent in; ``volumes`` the symbols' last
    session volumes (the paper broker's participation guide); ``written``: the intents are
    already in trading.orders (a rerun re-driving them), so they are not written again.
    Return the broker's view of every intended order and how many were newly sent.
    """
    if not written:
        _write_ahead(lake, intents)
    pause_point("orders_written")
    requests = [
        OrderRequest(
            client_order_id=o["client_order_id"],
            symbol=o["symbol"],
            side=o["side"],
            qty=o["qty"],
            order_type=o["order_type"],
            time_in_force=o["time_in_force"],
            limit_price=o["limit_price"],
            reference_price=o["reference_price"],
            reference_volume=volumes.get(o["symbol"]),
            session=session,
        )
        for o in intents.iter_rows(named=True)
    ]
    sent = _send(broker, requests)
    pause_point("orders_sent")
    return sent


def _write_ahead(lake: Lakehouse, intents: pl.DataFrame) -> None:
    """Record a new plan's orders (pending_submit) in one transaction, unless another run has
    already decided other orders for the session."""
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


def _send(broker: Broker, requests: list[OrderRequest]) -> tuple[list[BrokerOrder], int]:
    """Send each request the broker does not already have; return its view of all of them."""
    if isinstance(broker, PaperBroker):
        return broker.submit_many(requests)  # one transaction; known ids come back unchanged
    results: list[BrokerOrder] = []
    sent_now = 0
    for request in requests:
        existing = broker.get_order(request.client_order_id)
        if existing is not None:
            results.append(existing)
            continue
        sent_now += 1
        results.append(broker.submit(request))
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
    """Store broker order states, fills, positions, the account and the run's decisions.

    ``sent`` are the orders this run sent (or found already at the broker). Positions and the
    account are written when they changed, decisions when they are new (flows/trade/audit.py):
    a rerun that changes nothing writes nothing.
    """
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
        positions = _position_rows(held, broker.name, price_map, now)
        _store_positions(txn, broker.name, positions)
        _store_account(txn, broker.name, account, now)
        txn.append(schemas.RISK_DECISIONS, run_decisions(txn, _decisions(gate, sent, run_id, now)))
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


def _store_positions(txn: Transaction, broker: str, positions: pl.DataFrame) -> None:
    """Replace the broker's positions when a quantity or price changed."""
    columns = ["symbol", "qty", "avg_price", "market_price"]
    stored = txn.query(
        "SELECT symbol, qty, avg_price, market_price FROM trading.positions WHERE broker = ?",
        [broker],
    )
    new = positions.select(columns)
    if changed(stored.cast(new.schema), new, by=["symbol"]):
        txn.delete(schemas.POSITIONS, "broker = ?", [broker])
        txn.append(schemas.POSITIONS, positions)


def _store_account(txn: Transaction, broker: str, account: Account, now: dt.datetime) -> None:
    """Append an account snapshot when cash, equity or buying power changed since the last."""
    last = txn.query(
        "SELECT cash, equity, buying_power FROM trading.account WHERE broker = ? "
        "ORDER BY as_of DESC LIMIT 1",
        [broker],
    )
    values = (account.cash, account.equity, account.buying_power)
    if not last.is_empty() and last.row(0) == values:
        return
    row = {"broker": broker, "as_of": now, "cash": values[0], "equity": values[1]}
    txn.append(schemas.ACCOUNT, schemas.ACCOUNT.frame([row | {"buying_power": values[2]}]))


def _decisions(gate: Gate, sent: list[BrokerOrder], run_id: str, now: dt.datetime) -> pl.DataFrame:
    verdict = "trade" if gate.may_open else "halt" if gate.halt else "reduce"
    rows = [{"subject": "gate", "decision": verdict, "reason": gate.reason}]
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
