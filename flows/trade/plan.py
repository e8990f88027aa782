"""The rebalance plan: the orders that move the book to its targets, and the book it starts from."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE

from flows.brokers.base import Account, Broker
from flows.trade.gate import Gate
from flows.trade.inputs import TradeInputs, portfolio_config, read_inputs
from quantlake.settings import Settings
from strategies.ids import client_order_id
from strategies.orders import ORDER_SCHEMA as PLANNED_SCHEMA
from strategies.orders import plan_orders
from strategies.portfolio import Targets, build_targets
from warehouse.lake import Lakehouse

# What strategies/orders.py plans, plus the deterministic client order id.
ORDER_SCHEMA = {**PLANNED_SCHEMA, "client_order_id": pl.String}


@dataclass(frozen=True)
class Plan:
    """A planned rebalance: orders with client ids, and what it was planned from."""

    orders: pl.DataFrame
    inputs: TradeInputs
    positions: pl.DataFrame
    account: Account
    targets: Targets | None


def broker_book(broker: Broker, prices: pl.DataFrame) -> tuple[pl.DataFrame, Account]:
    """Return the broker's positions now, as (symbol, qty), and its account at ``prices``."""
    held = broker.positions()
    positions = pl.DataFrame(
        {"symbol": [p.symbol for p in held], "qty": [p.qty for p in held]},
        schema={"symbol": pl.String, "qty": pl.Float64},
    )
    return positions, broker.account(prices=dict(prices.iter_rows()))


@task(name="plan", cache_policy=NO_CACHE)
def plan(lake: Lakehouse, broker: Broker, settings: Settings, gate: Gate) -> Plan:
    """Return the orders that move the book to its targets, and what they were planned from.

    Without predictions for the session there are no targets: the book is held as it is (no
    orders), never sold off because a model is missing.
    """
    inputs = read_inputs(lake, settings, gate)
    positions, account = broker_book(broker, inputs.prices)
    if inputs.predictions.is_empty():
        return Plan(pl.DataFrame(schema=ORDER_SCHEMA), inputs, positions, account, None)
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
        cost_bps=cost_bps(settings),
    )
    ids = [
        client_order_id(strategy=strat.name, session=gate.session, symbol=sym, intent=intent)
        for sym, intent in orders.select("symbol", "intent").iter_rows()
    ]
    orders = orders.with_columns(pl.Series("client_order_id", ids, dtype=pl.String))
    return Plan(orders, inputs, positions, account, targets)


def cost_bps(settings: Settings) -> float:
    """Return the paper broker's worst all-in cost: slippage plus the market impact of an order
    at the participation cap, compounded with the commission."""
    paper = settings.paper
    impact = paper.impact_coefficient_bps * paper.max_participation**paper.impact_exponent
    slip, fee = (paper.slippage_bps + impact) / 1e4, paper.commission_bps / 1e4
    return ((1 + slip) * (1 + fee) - 1) * 1e4
