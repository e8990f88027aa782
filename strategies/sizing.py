"""Position sizing: long-short and rank weights, vol targeting, Kelly, fixed fractional."""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from strategies.covariance import validate_covariance
from strategies.frames import by_symbol
from strategies.targets import capped_weights

TRADING_DAYS = 252
# Kelly needs Sigma^-1: smallest / largest eigenvalue below this is treated as singular.
MIN_CONDITION = 1e-12

_SCHEMA = {"symbol": pl.String, "target_weight": pl.Float64}


def long_short_weights(
    predictions: pl.DataFrame,
    *,
    k_long: int,
    k_short: int,
    gross: float,
    max_position_weight: float,
) -> pl.DataFrame:
    """Return dollar-neutral (symbol, target_weight): equal longs on the best, shorts on the worst.

    Symbols are ranked by score, ties to the smaller symbol. Of the n symbols the first
    ``min(k_long, n // 2)`` are long and the last ``min(k_short, n // 2)`` short, so no name is
    on both sides (with an odd n short of ``k_long + k_short`` the median name is not held).
    Both legs get the budget ``min(gross / 2, cap * names in the smaller leg)``: longs sum to it
    and shorts to minus it, so the book nets to 0 and its gross is ``gross`` unless the
    cap ``max_position_weight`` forbids it (then less). Fewer than 2 symbols -> empty frame.
    Rows are best score first. Scores must be finite: null, NaN or infinite raises.
    """
    _check_positive(gross=gross, max_position_weight=max_position_weight)
    if k_long < 1 or k_short < 1:
        raise ValueError(f"k_long and k_short must be at least 1, got {k_long} and {k_short}")
    ranked = _ranked(predictions)
    n = ranked.height
    n_long, n_short = min(k_long, n // 2), min(k_short, n // 2)
    if n_long == 0:
        return pl.DataFrame(schema=_SCHEMA)
    leg = min(gross / 2, max_position_weight * min(n_long, n_short))
    weights = [min(max_position_weight, leg / n_long)] * n_long
    weights += [0.0] * (n - n_long - n_short)
    weights += [-min(max_position_weight, leg / n_short)] * n_short
    out = pl.DataFrame({"symbol": ranked["symbol"], "target_weight": weights}, schema=_SCHEMA)
    return out.filter(pl.col("target_weight") != 0.0)


def score_proportional_weights(
    predictions: pl.DataFrame,
    *,
    gross: float,
    max_position_weight: float,
    long_only: bool,
) -> pl.DataFrame:
    """Return (symbol, target_weight) proportional to demeaned score *ranks*, best first.

    Ranks, not raw scores, so one outlier score or the model's scale cannot drive the book. A
    symbol's raw weight is its rank (ties share their average rank) minus the mean rank
    ``(n + 1) / 2``: names above the median are long, below it short, the median is not held.
    Within a leg, capped_weights water-fills: proportional to the raw weights, none above
    ``max_position_weight``. ``long_only=False``: both legs get the budget
    ``min(gross / 2, cap * names in the smaller leg)``, so the book is dollar-neutral.
    ``long_only=True``: only the long leg, summing to ``min(gross, cap * longs)``.
    Fewer than 2 distinct ranks -> empty frame. Null, NaN or infinite scores raise.
    """
    _check_positive(gross=gross, max_position_weight=max_position_weight)
    ranked = _ranked(predictions)
    centered = ranked["score"].rank("average") - (ranked.height + 1) / 2
    longs = [c for c in centered.to_list() if c > 0]
    shorts = [-c for c in centered.to_list() if c < 0]
    if not longs:
        return pl.DataFrame(schema=_SCHEMA)
    cap = max_position_weight
    if long_only:
        long_w, short_w = capped_weights(longs, cap=cap, budget=gross), []
    else:
        leg = min(gross / 2, cap * min(len(longs), len(shorts)))
        long_w = capped_weights(longs, cap=cap, budget=leg)
        short_w = [-w for w in capped_weights(shorts, cap=cap, budget=leg)]
    # ``ranked`` is best first, so its positive-centered rows come first, negative ones last.
    symbols = ranked["symbol"].to_list()
    chosen = symbols[: len(long_w)] + symbols[len(symbols) - len(short_w) :]
    return pl.DataFrame({"symbol": chosen, "target_weight": long_w + short_w}, schema=_SCHEMA)


def vol_target_scale(
    weights: np.ndarray, cov: np.ndarray, *, target_annual_vol: float, max_leverage: float
) -> float:
    """Return the factor k that brings the annualized vol ``sqrt(252 k^2 w' cov w)`` to target.

    ``cov`` is the daily covariance of the names in ``weights`` (same order). Leverage is gross
    exposure, ``sum |k w|``, capped at ``max_leverage``: the scaled book's vol equals
    ``target_annual_vol`` unless that cap binds, and is then below it. A riskless book
    (``w' cov w = 0``) is scaled to the cap. All-zero weights raise: there is nothing to scale.
    """
    w = _finite_vector(weights, "weights")
    c = validate_covariance(cov, size=w.size)
    _check_positive(target_annual_vol=target_annual_vol, max_leverage=max_leverage)
    gross = float(np.abs(w).sum())
    if gross == 0.0:
        raise ValueError("weights are all zero: there is no portfolio to scale to a vol target")
    cap = max_leverage / gross
    annual_vol = math.sqrt(max(0.0, TRADING_DAYS * float(w @ c @ w)))
    return cap if annual_vol == 0.0 else min(target_annual_vol / annual_vol, cap)


def fractional_kelly(
    expected_returns: np.ndarray,
    cov: np.ndarray,
    *,
    fraction: float,
    cap: float,
    max_gross: float,
) -> np.ndarray:
    """Return ``fraction * cov^-1 mu`` with each |weight| at most ``cap`` and gross at most
    ``max_gross``.

    ``expected_returns`` and ``cov`` must be over the same horizon (e.g. daily mean and daily
    covariance; the Kelly weights do not depend on which). Names above ``cap`` are clipped to
    it, sign kept; if the gross is then above ``max_gross`` all weights shrink by one factor, so
    the caps still hold. ``fraction`` is in (0, 1]: above 1 is over-betting. A singular or
    near-singular ``cov`` raises (shrink it with shrunk_covariance first).
    """
    mu = _finite_vector(expected_returns, "expected_returns")
    c = validate_covariance(cov, size=mu.size)
    _check_positive(fraction=fraction, cap=cap, max_gross=max_gross)
    if fraction > 1:
        raise ValueError(f"fraction must be in (0, 1] (above 1 over-bets Kelly), got {fraction}")
    eig = np.linalg.eigvalsh(c)
    if eig[0] <= MIN_CONDITION * eig[-1]:
        raise ValueError(
            f"cov is singular or nearly so (eigenvalues {eig[0]:.3g} .. {eig[-1]:.3g}); "
            "Kelly needs its inverse: shrink it with shrunk_covariance"
        )
    w = np.clip(fraction * np.linalg.solve(c, mu), -cap, cap)
    return _within_gross(w, max_gross)


def fixed_fractional(
    stop_distances: np.ndarray, *, risk_fraction: float, cap: float, max_gross: float
) -> np.ndarray:
    """Return weights that each lose ``risk_fraction`` of equity if the position hits its stop.

    The percent-risk model of fixed-fractional sizing (R. Vince, *Portfolio Management Formulas*,
    1990; V. K. Tharp, *Trade Your Way to Financial Freedom*, "percent risk model"): with the
    stop ``stop_distances[i]`` away from the entry, as a fraction of its price, the weight is
    ``risk_fraction / stop_distances[i]`` (risk 1% with a 5% stop -> 20% of equity). Weights
    are magnitudes (apply the side yourself), clipped at ``cap``; if their sum exceeds
    ``max_gross`` all shrink by one factor, so ``risk_fraction`` is the most any one risks.
    """
    stops = _finite_vector(stop_distances, "stop_distances")
    if (stops <= 0).any():
        raise ValueError(f"stop_distances must be positive fractions of price, got {stops[:10]}")
    _check_positive(risk_fraction=risk_fraction, cap=cap, max_gross=max_gross)
    if risk_fraction >= 1:
        raise ValueError(f"risk_fraction must be below 1 (of equity), got {risk_fraction}")
    return _within_gross(np.minimum(risk_fraction / stops, cap), max_gross)


def _within_gross(weights: np.ndarray, max_gross: float) -> np.ndarray:
    gross = float(np.abs(weights).sum())
    return weights * (max_gross / gross) if gross > max_gross else weights


def _ranked(predictions: pl.DataFrame) -> pl.DataFrame:
    """Return (symbol, score) best first, ties to the smaller symbol, after checking it."""
    frame = by_symbol(predictions, "predictions", "score")
    bad = frame.filter(~pl.col("score").is_finite().fill_null(False))["symbol"].to_list()
    if bad:
        raise ValueError(
            f"predictions has null, NaN or infinite scores for {bad[:10]}; a missing score is "
            "not a neutral one: drop those rows (or fix the model) before sizing"
        )
    return frame.sort(["score", "symbol"], descending=[True, False])


def _finite_vector(values: np.ndarray, name: str) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array, got shape {v.shape}")
    if not np.isfinite(v).all():
        raise ValueError(f"{name} holds NaN or infinite values: {v[~np.isfinite(v)][:10]}")
    return v


def _check_positive(**values: float) -> None:
    for name, value in values.items():
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive finite number, got {value}")
