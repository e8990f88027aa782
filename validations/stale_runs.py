"""Placeholder history: runs of a symbol's bars that repeat the bar before with no volume.

Vendors fill the years before a listing and the days after a delisting with copies of one bar
(open, high, low and close unchanged, volume 0). Each such bar passes every single-row rule, yet
none of them is trading; a run of them is what gives them away.
"""

from __future__ import annotations

import polars as pl

from validations.rules import Parameters

PRICES = ("open", "high", "low", "close")


def stale_run_mask(frame: pl.DataFrame, params: Parameters) -> pl.Series:
    """Return True for bars in a run of ``params.stale_run_bars`` or more placeholder bars.

    A run is a maximal sequence of a symbol's zero-volume bars (by session, then arrival) each
    with the same open, high, low and close as the bar before it; its first bar is the one the
    others copy. ``frame`` has NaN as null (validations.bars_profile.checked_frame).
    """
    # One sort, then neighbours are previous rows: windows ordered per symbol cost 5x as much.
    ordered = (
        frame.select("symbol", "session", "row_number", *PRICES, "volume")
        .with_row_index("_i")
        .sort("symbol", "session", "row_number", nulls_last=True)
    )
    zero = (pl.col("volume") == 0).fill_null(False)
    continues = (
        pl.col("symbol").eq_missing(pl.col("symbol").shift())
        & pl.all_horizontal([pl.col(p) == pl.col(p).shift() for p in PRICES])
        & zero
        & zero.shift()
    ).fill_null(False)
    runs = ordered.select("_i", _zero=zero, _run=(~continues).cum_sum())
    flagged = runs.select(
        "_i", stale=pl.col("_zero") & (pl.len().over("_run") >= params.stale_run_bars)
    )
    return flagged.sort("_i").get_column("stale")


def stale_run_detail(params: Parameters) -> pl.Expr:
    """Return what a stale bar shows (its run lies among the failing rows, not its window)."""
    return pl.format(
        "volume 0, open {} high {} low {} close {} as the bar before: a run of at least {} "
        "placeholder bars",
        *(pl.col(p) for p in PRICES),
        pl.lit(params.stale_run_bars),
    )
