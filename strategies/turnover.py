"""Turnover control: a no-trade band per name and a cap on how much one rebalance trades."""

from __future__ import annotations

import math

import polars as pl

from strategies.frames import by_symbol

_SCHEMA = {"symbol": pl.String, "target_weight": pl.Float64}


def apply_no_trade_band(
    targets: pl.DataFrame, current_weights: pl.DataFrame, *, band: float
) -> pl.DataFrame:
    """Return (symbol, target_weight) keeping the current weight where the trade is below ``band``.

    ``targets`` is (symbol, target_weight), ``current_weights`` (symbol, weight), both fractions
    of equity, shorts negative. The result covers both frames' symbols, sorted by symbol; a
    symbol missing from a frame weighs 0 there, so a held name dropped from the targets is kept
    while its weight is below ``band``, and a new name below ``band`` is not bought. A trade of
    at least ``band`` goes through in full (the band filters trades, it does not shorten them),
    so every output weight is either the target or the current one. ``band=0`` changes nothing.
    """
    if not (math.isfinite(band) and band >= 0):
        raise ValueError(f"band must be a finite number >= 0, got {band}")
    book = _book(targets, current_weights)
    small = (pl.col("target_weight") - pl.col("weight")).abs() < band
    kept = pl.when(small).then(pl.col("weight")).otherwise(pl.col("target_weight"))
    return book.select("symbol", kept.alias("target_weight"))


def limit_turnover(
    targets: pl.DataFrame, current_weights: pl.DataFrame, *, max_turnover: float
) -> pl.DataFrame:
    """Return (symbol, target_weight) moving toward ``targets`` with turnover <= ``max_turnover``.

    Frames as in ``apply_no_trade_band``; turnover is two-way (see ``turnover``). When the full
    trade exceeds ``max_turnover``, every trade ``target - current`` is scaled by the same factor
    ``max_turnover / turnover``: the result lies on the segment from current to target weights,
    so it keeps any linear property both books share (dollar neutrality, net exposure) and any
    per-name cap or gross limit both respect. Symbols sorted; ``max_turnover=0`` trades nothing.
    """
    if not (math.isfinite(max_turnover) and max_turnover >= 0):
        raise ValueError(f"max_turnover must be a finite number >= 0, got {max_turnover}")
    book = _book(targets, current_weights)
    full = _two_way(book)
    step = 1.0 if full <= max_turnover else max_turnover / full
    target, current = pl.col("target_weight"), pl.col("weight")
    return book.select("symbol", (current + step * (target - current)).alias("target_weight"))


def turnover(targets: pl.DataFrame, current_weights: pl.DataFrame) -> float:
    """Return the two-way turnover ``sum |target - current|`` over both frames' symbols.

    Buys and sells both count, as fractions of equity: rotating 10% of equity from one name to
    another is 0.2 (one-way turnover, half of it, is 0.1). Frames as in ``apply_no_trade_band``.
    """
    return _two_way(_book(targets, current_weights))


def _two_way(book: pl.DataFrame) -> float:
    return float((book["target_weight"] - book["weight"]).abs().sum())


def _book(targets: pl.DataFrame, current_weights: pl.DataFrame) -> pl.DataFrame:
    """Return (symbol, target_weight, weight) over both frames' symbols, 0 where absent."""
    t = _weights(targets, "targets", "target_weight")
    c = _weights(current_weights, "current_weights", "weight")
    return (
        t.join(c, on="symbol", how="full", coalesce=True)
        .with_columns(pl.col("target_weight").fill_null(0.0), pl.col("weight").fill_null(0.0))
        .sort("symbol")
    )


def _weights(frame: pl.DataFrame, name: str, column: str) -> pl.DataFrame:
    out = by_symbol(frame, name, column)
    bad = out.filter(~pl.col(column).is_finite().fill_null(False))["symbol"].to_list()
    if bad:
        raise ValueError(f"{name} has null, NaN or infinite {column} for {bad[:10]}")
    return out
