"""What a trade run reads from the lakehouse, all at the gate's snapshot."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from flows.trade.gate import Gate
from quantlake.settings import Settings
from strategies.portfolio import PortfolioConfig
from warehouse import calendar, schemas
from warehouse.lake import Lakehouse

# Sessions of daily returns behind the covariance estimate of vol targeting and Kelly.
RETURNS_WINDOW = 63
# How far back a held symbol's last close may be looked for when today's bar is missing.
PRICE_LOOKBACK_SESSIONS = 10


@dataclass(frozen=True)
class TradeInputs:
    """Predictions, risk estimates and prices for one rebalance."""

    predictions: pl.DataFrame  # (symbol, score); empty when the gate has no model version
    volatility: pl.DataFrame  # (symbol, vol) annualized, from the features
    prices: pl.DataFrame  # (symbol, price): each symbol's latest close at or before the session
    volumes: pl.DataFrame  # (symbol, volume) of the session's bar
    returns: pl.DataFrame | None  # (session, <symbol>...) daily returns when sizing needs them
    ic: float | None  # the model's out-of-sample IC


def portfolio_config(settings: Settings) -> PortfolioConfig:
    """Return the construction/sizing config from the strategy settings."""
    strat = settings.strategy
    fields = set(PortfolioConfig.model_fields) - {"horizon"}
    return PortfolioConfig(**{f: getattr(strat, f) for f in fields}, horizon=settings.model.horizon)


def read_inputs(lake: Lakehouse, settings: Settings, gate: Gate) -> TradeInputs:
    """Return the inputs of the rebalance for ``gate.session`` as of ``gate.snapshot_id``."""
    at = {"as_of": gate.snapshot_id, "order_by": "symbol"}
    if gate.model_version is None:
        preds = pl.DataFrame(schema={"symbol": pl.String, "score": pl.Float64})
    else:
        preds = lake.read(
            schemas.PREDICTIONS,
            where="session = ? AND model_version = ?",
            params=[gate.session, gate.model_version],
            **at,
        ).select("symbol", "score")
    vol = lake.read(schemas.FEATURES, where="session = ?", params=[gate.session], **at).select(
        "symbol", pl.col("vol_20").alias("vol")
    )
    bars = lake.read(schemas.CURATED_BARS, where="session = ?", params=[gate.session], **at)
    sizing = settings.strategy.sizing
    needs_returns = sizing in ("vol_target", "kelly") and not preds.is_empty()
    return TradeInputs(
        predictions=preds,
        volatility=vol,
        prices=latest_prices(lake, settings, gate),
        volumes=bars.select("symbol", "volume"),
        returns=daily_returns(lake, settings, gate) if needs_returns else None,
        ic=model_ic(lake, gate) if sizing == "kelly" else None,
    )


def latest_prices(lake: Lakehouse, settings: Settings, gate: Gate) -> pl.DataFrame:
    """Return (symbol, price): each symbol's close on its latest session up to the gate's.

    A held symbol whose bar for the session was quarantined is still valued (at its last
    trusted close) rather than making the account unvaluable.
    """
    start = _sessions_back(gate.session, PRICE_LOOKBACK_SESSIONS, settings.exchange)
    return lake.query(
        f"SELECT symbol, arg_max(close, session) AS price FROM curated.bars "
        f"AT (VERSION => {int(gate.snapshot_id)}) WHERE session BETWEEN ? AND ? "
        "GROUP BY symbol ORDER BY symbol",
        [start, gate.session],
    )


def daily_returns(lake: Lakehouse, settings: Settings, gate: Gate) -> pl.DataFrame:
    """Return (session, <symbol>...) close-to-close returns over the last RETURNS_WINDOW."""
    start = _sessions_back(gate.session, RETURNS_WINDOW + 1, settings.exchange)
    closes = lake.read(
        schemas.CURATED_BARS,
        where="session BETWEEN ? AND ?",
        params=[start, gate.session],
        as_of=gate.snapshot_id,
        order_by="symbol, session",
    ).select("symbol", "session", "close")
    rets = closes.with_columns(pl.col("close").pct_change().over("symbol").alias("ret"))
    return rets.drop_nulls("ret").pivot(on="symbol", index="session", values="ret").sort("session")


def model_ic(lake: Lakehouse, gate: Gate) -> float | None:
    """Return the gate model's out-of-sample IC from the registry."""
    found = lake.read(
        schemas.MODELS,
        where="model_version = ?",
        params=[gate.model_version],
        as_of=gate.snapshot_id,
    )
    return None if found.is_empty() else found.get_column("oos_ic")[0]


def _sessions_back(session: dt.date, n: int, exchange: str) -> dt.date:
    window = calendar.sessions(session - dt.timedelta(days=2 * n + 10), session, exchange=exchange)
    return window[max(0, len(window) - 1 - n)]
