"""Target portfolio weights from model scores: top-k long-only, capped, within a gross budget."""

from __future__ import annotations

import math
from typing import Literal

import polars as pl

from strategies.frames import require_symbols

Weighting = Literal["equal", "inverse_vol"]

_SCHEMA = {"symbol": pl.String, "target_weight": pl.Float64}


def target_weights(
    predictions: pl.DataFrame,
    *,
    top_k: int,
    weighting: Weighting,
    max_position_weight: float,
    gross_exposure: float,
    volatility: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Return (symbol, target_weight) for the ``top_k`` best-scored symbols, best first.

    Symbols whose score is null, NaN or infinite are not candidates. Under ``inverse_vol`` a
    symbol without a positive vol (with a finite inverse) in ``volatility`` is not a candidate
    either: it is dropped *before* ranking, so the next-best measurable name takes its place
    (a position whose risk cannot be measured cannot be sized). Ties in score go to the
    smaller symbol.
    Weights sum to ``min(gross_exposure, n * max_position_weight)``: a name above the cap is
    held at the cap and the excess is shared among the uncapped names in proportion to their
    raw weights, repeatedly, so no weight ever exceeds the cap. No candidates -> empty frame.
    """
    _check_options(top_k, weighting, max_position_weight, gross_exposure, volatility)
    candidates = _finite_scores(predictions)
    if weighting == "inverse_vol":
        assert volatility is not None
        candidates = candidates.join(_usable_vols(volatility), on="symbol", how="inner")
    chosen = candidates.sort(["score", "symbol"], descending=[True, False]).head(top_k)
    if chosen.is_empty():
        return pl.DataFrame(schema=_SCHEMA)
    if weighting == "equal":
        raw = [1.0] * chosen.height
    else:
        raw = [1.0 / v for v in chosen["vol"].to_list()]
    weights = capped_weights(raw, cap=max_position_weight, budget=gross_exposure)
    return pl.DataFrame({"symbol": chosen["symbol"], "target_weight": weights}, schema=_SCHEMA)


def capped_weights(raw: list[float], *, cap: float, budget: float) -> list[float]:
    """Scale positive ``raw`` weights to sum to ``budget``, none above ``cap`` (water-filling)."""
    if not all(math.isfinite(r) and r > 0 for r in raw):
        raise ValueError(f"raw weights must be positive finite numbers, got {raw[:10]}")
    top = max(raw, default=1.0)
    raw = [r / top for r in raw]  # keeps the sums below overflow whatever the scale
    weights = [0.0] * len(raw)
    free = set(range(len(raw)))
    remaining = budget
    while free:
        total = sum(raw[i] for i in free)
        over = {i for i in free if raw[i] / total * remaining >= cap}
        if not over:
            for i in free:
                weights[i] = min(cap, raw[i] / total * remaining)
            break
        for i in over:
            weights[i] = cap
        free -= over
        remaining = max(0.0, budget - cap * (len(raw) - len(free)))
    return weights


def _check_options(
    top_k: int,
    weighting: str,
    max_position_weight: float,
    gross_exposure: float,
    volatility: pl.DataFrame | None,
) -> None:
    if top_k < 1:
        raise ValueError(f"top_k must be at least 1, got {top_k}")
    if not (0 < max_position_weight <= 1):
        raise ValueError(f"max_position_weight must be in (0, 1], got {max_position_weight}")
    if not (math.isfinite(gross_exposure) and gross_exposure > 0):
        raise ValueError(f"gross_exposure must be a positive number, got {gross_exposure}")
    if weighting not in ("equal", "inverse_vol"):
        raise ValueError(f"weighting must be 'equal' or 'inverse_vol', got {weighting!r}")
    if weighting == "inverse_vol" and volatility is None:
        raise ValueError("weighting='inverse_vol' needs a volatility frame (symbol, vol)")


def _finite_scores(predictions: pl.DataFrame) -> pl.DataFrame:
    require_symbols(predictions, "predictions", {"symbol", "score"})
    frame = predictions.select(pl.col("symbol").cast(pl.String), pl.col("score").cast(pl.Float64))
    return frame.filter(pl.col("score").is_finite())


def _usable_vols(volatility: pl.DataFrame) -> pl.DataFrame:
    require_symbols(volatility, "volatility", {"symbol", "vol"})
    frame = volatility.select(pl.col("symbol").cast(pl.String), pl.col("vol").cast(pl.Float64))
    # A subnormal vol is positive but its inverse overflows: it cannot be sized either.
    return frame.filter((pl.col("vol") > 0) & (1.0 / pl.col("vol")).is_finite())
