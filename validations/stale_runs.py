"""Placeholder history: runs of a symbol's bars that repeat the bar before with no volume.

Vendors fill the years before a listing and the days after a delisting with copies of one bar
(open, high, low and close unchanged, volume 0). Each such bar passes every single-row rule, yet
none of them is trading; a run of them is what gives them away.
"""

from __future__ import annotations

import polars as pl

from validations.rules import Parameters

PRICES = ("open", "high", "low", "close")
_ORDER = ("session", "row_number")


def _previous(expr: pl.Expr) -> pl.Expr:
    """Return ``expr`` of the symbol's previous bar (by session, then arrival)."""
    return expr.shift().over("symbol", order_by=list(_ORDER))


def stale_run_mask(params: Parameters) -> pl.Expr:
    """Return True for bars in a run of ``params.stale_run_bars`` or more placeholder bars.

    A run is a maximal sequence of a symbol's zero-volume bars each with the same open, high,
    low and close as the bar before it; its first bar is the one the others copy.
    """
    zero = pl.col("volume") == 0
    repeats = pl.all_horizontal([pl.col(p) == _previous(pl.col(p)) for p in PRICES])
    continues = (repeats & zero & _previous(zero)).fill_null(False)
    run = (~continues).cum_sum().over("symbol", order_by=list(_ORDER))
    length = pl.len().over([pl.col("symbol"), run])
    return zero.fill_null(False) & (length >= params.stale_run_bars)


def stale_run_detail(params: Parameters) -> pl.Expr:
    """Return what a stale bar shows (its run lies among the failing rows, not its window)."""
    return pl.format(
        "volume 0, open {} high {} low {} close {} as the bar before: a run of at least {} "
        "placeholder bars",
        *(pl.col(p) for p in PRICES),
        pl.lit(params.stale_run_bars),
    )
