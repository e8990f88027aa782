"""Portfolio construction: predictions -> target weights -> sizing -> turnover control (pure).

One function, ``build_targets``, runs the steps the live trade flow and a backtest share:

1. construction: top-k (equal or inverse-vol weights) or score-proportional ranks, long only;
2. sizing: none, volatility targeting (Ledoit-Wolf covariance), fractional Kelly on
   Grinold-Kahn alphas, or fixed-fractional risk per name;
3. caps: no weight above ``max_position_weight``, gross at most ``gross_exposure``;
4. turnover: a no-trade band per name, then a cap on the rebalance's two-way turnover.

Every step's effect is reported in ``Targets.notes`` so a run can say why it holds what it holds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from strategies.covariance import shrunk_covariance
from strategies.sizing import (
    fixed_fractional,
    fractional_kelly,
    score_proportional_weights,
    vol_target_scale,
)
from strategies.targets import Weighting, target_weights
from strategies.turnover import apply_no_trade_band, limit_turnover, turnover

Construction = Literal["top_k", "score_proportional"]
Sizing = Literal["none", "vol_target", "kelly", "fixed_fractional"]
TRADING_DAYS = 252

_SCHEMA = {"symbol": pl.String, "target_weight": pl.Float64}


class PortfolioConfig(BaseModel):
    """How predictions become target weights (long only: the order planner does not short)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    construction: Construction = "top_k"
    top_k: int = Field(5, ge=1)
    weighting: Weighting = "inverse_vol"
    max_position_weight: float = Field(0.25, gt=0, le=1)
    gross_exposure: float = Field(0.95, gt=0, le=1)
    sizing: Sizing = "none"
    target_annual_vol: float = Field(0.15, gt=0)
    kelly_fraction: float = Field(0.25, gt=0, le=1)
    # Fixed fractional: lose ``risk_fraction`` of equity when a name moves ``stop_vols`` daily
    # standard deviations against us.
    risk_fraction: float = Field(0.01, gt=0, lt=1)
    stop_vols: float = Field(2.0, gt=0)
    # The model's forecast horizon (sessions) and out-of-sample IC, for Kelly's alphas.
    horizon: int = Field(5, ge=1)
    no_trade_band: float = Field(0.0, ge=0, lt=1)
    max_turnover: float | None = Field(None, ge=0)


@dataclass(frozen=True)
class Targets:
    """Target weights and what each construction step did."""

    weights: pl.DataFrame  # (symbol, target_weight), fractions of equity
    turnover_wanted: float  # two-way turnover of the sized book before turnover control
    turnover: float  # two-way turnover of the final targets
    notes: tuple[str, ...]


def build_targets(
    predictions: pl.DataFrame,
    *,
    config: PortfolioConfig,
    volatility: pl.DataFrame,
    current_weights: pl.DataFrame,
    returns: pl.DataFrame | None = None,
    ic: float | None = None,
) -> Targets:
    """Return the target weights for one rebalance.

    ``predictions`` is (symbol, score); ``volatility`` (symbol, vol) annualized;
    ``current_weights`` (symbol, weight) as fractions of equity; ``returns`` (session, one
    column per symbol) of daily returns, needed by ``vol_target`` and ``kelly``; ``ic`` the
    model's out-of-sample information coefficient, needed by ``kelly``. A sizing rule that
    lacks its inputs raises: a book is never sized on a default.
    """
    notes: list[str] = []
    raw = _construct(predictions, config, volatility).join(
        _zscores(predictions), on="symbol", how="left"
    )
    notes.append(f"{config.construction}: {raw.height} names, gross {_gross(raw):.2%}")
    sized = _size(raw, config, volatility=volatility, returns=returns, ic=ic, notes=notes)
    sized = _capped(sized, config)
    wanted = turnover(sized, current_weights)
    final = sized
    if config.no_trade_band > 0:
        final = apply_no_trade_band(final, current_weights, band=config.no_trade_band)
    if config.max_turnover is not None:
        final = limit_turnover(final, current_weights, max_turnover=config.max_turnover)
    done = turnover(final, current_weights)
    if done < wanted:
        notes.append(f"turnover control: {wanted:.2%} wanted, {done:.2%} traded")
    final = final.filter(pl.col("target_weight") != 0.0).sort("symbol")
    return Targets(final, turnover_wanted=wanted, turnover=done, notes=tuple(notes))


def _construct(
    predictions: pl.DataFrame, config: PortfolioConfig, volatility: pl.DataFrame
) -> pl.DataFrame:
    if config.construction == "score_proportional":
        finite = predictions.filter(pl.col("score").is_finite())
        return score_proportional_weights(
            finite,
            gross=config.gross_exposure,
            max_position_weight=config.max_position_weight,
            long_only=True,
        )
    return target_weights(
        predictions,
        top_k=config.top_k,
        weighting=config.weighting,
        max_position_weight=config.max_position_weight,
        gross_exposure=config.gross_exposure,
        volatility=volatility,
    )


def _size(
    raw: pl.DataFrame,
    config: PortfolioConfig,
    *,
    volatility: pl.DataFrame,
    returns: pl.DataFrame | None,
    ic: float | None,
    notes: list[str],
) -> pl.DataFrame:
    if config.sizing == "none" or raw.is_empty():
        return raw
    symbols = raw["symbol"].to_list()
    w = raw["target_weight"].to_numpy().astype(np.float64)
    if config.sizing == "fixed_fractional":
        daily = _daily_vols(volatility, symbols)
        sized = fixed_fractional(
            config.stop_vols * daily,
            risk_fraction=config.risk_fraction,
            cap=config.max_position_weight,
            max_gross=config.gross_exposure,
        )
        notes.append(f"fixed fractional: {config.risk_fraction:.2%} risk per name")
        return _frame(symbols, sized)
    cov = _covariance(returns, symbols)
    if config.sizing == "vol_target":
        k = vol_target_scale(
            w, cov, target_annual_vol=config.target_annual_vol, max_leverage=config.gross_exposure
        )
        notes.append(f"vol target {config.target_annual_vol:.1%}: weights scaled by {k:.3f}")
        return _frame(symbols, w * k)
    return _kelly(raw, config, cov=cov, volatility=volatility, ic=ic, notes=notes)


def _kelly(
    raw: pl.DataFrame,
    config: PortfolioConfig,
    *,
    cov: np.ndarray,
    volatility: pl.DataFrame,
    ic: float | None,
    notes: list[str],
) -> pl.DataFrame:
    """Size the chosen names by fractional Kelly on alphas ``IC * sigma * z`` (Grinold-Kahn)."""
    if ic is None or not math.isfinite(ic):
        raise ValueError("kelly sizing needs the champion's out-of-sample IC; none was given")
    symbols = raw["symbol"].to_list()
    if ic <= 0:
        notes.append(f"kelly: model IC {ic:.3f} is not positive, so no name has an edge")
        return _frame(symbols, np.zeros(len(symbols)))
    daily = _daily_vols(volatility, symbols)
    z = raw["z"].fill_null(0.0).to_numpy()
    mu = ic * daily * z / math.sqrt(config.horizon)
    w = fractional_kelly(
        mu,
        cov,
        fraction=config.kelly_fraction,
        cap=config.max_position_weight,
        max_gross=config.gross_exposure,
    )
    notes.append(f"kelly x{config.kelly_fraction:g} on IC {ic:.3f}")
    return _frame(symbols, np.clip(w, 0.0, None))


def _zscores(predictions: pl.DataFrame) -> pl.DataFrame:
    """Return (symbol, z): each finite score's cross-sectional z-score (0 when all are equal)."""
    finite = predictions.filter(pl.col("score").is_finite())
    std = finite["score"].std() if finite.height > 1 else None
    if not std:
        return finite.select("symbol", pl.lit(0.0).alias("z"))
    return finite.select("symbol", ((pl.col("score") - pl.col("score").mean()) / std).alias("z"))


def _capped(weights: pl.DataFrame, config: PortfolioConfig) -> pl.DataFrame:
    """Clip to the per-name cap and long-only, then shrink to the gross budget."""
    clipped = weights.select(
        "symbol", pl.col("target_weight").clip(0.0, config.max_position_weight)
    )
    gross = _gross(clipped)
    if gross > config.gross_exposure:
        factor = config.gross_exposure / gross
        clipped = clipped.with_columns(pl.col("target_weight") * factor)
    return clipped


def _covariance(returns: pl.DataFrame | None, symbols: list[str]) -> np.ndarray:
    if returns is None:
        raise ValueError("this sizing needs a returns history; none was given")
    missing = [s for s in symbols if s not in returns.columns]
    if missing:
        raise ValueError(f"no returns history for {missing[:10]}; cannot estimate their covariance")
    return shrunk_covariance(returns.select(symbols).to_numpy().astype(np.float64))


def _daily_vols(volatility: pl.DataFrame, symbols: list[str]) -> np.ndarray:
    vols = dict(volatility.select("symbol", "vol").iter_rows())
    bad = [s for s in symbols if not _positive(vols.get(s))]
    if bad:
        raise ValueError(f"no usable volatility for {bad[:10]}; cannot size them")
    return np.array([vols[s] for s in symbols]) / math.sqrt(TRADING_DAYS)


def _positive(value: float | None) -> bool:
    return value is not None and math.isfinite(value) and value > 0


def _frame(symbols: list[str], weights: np.ndarray) -> pl.DataFrame:
    return pl.DataFrame({"symbol": symbols, "target_weight": weights.tolist()}, schema=_SCHEMA)


def _gross(weights: pl.DataFrame) -> float:
    return float(weights["target_weight"].abs().sum()) if weights.height else 0.0
