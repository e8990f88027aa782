"""Per-session cross-sectional normalization shared by training and scoring."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl


def cross_sectional_ranks(frame: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """Replace ``columns`` by their per-session ranks scaled to [-0.5, 0.5] (ties averaged).

    Ranks make each session's cross-section comparable whatever the market regime and keep one
    extreme value (a volume spike, a split-day return) from dominating the fit. A session with a
    single row gets 0, the middle of the scale. Rows must already be free of nulls.
    """
    nulls = frame.select(pl.sum_horizontal(pl.col(columns).null_count())).item()
    if nulls:
        raise ValueError(f"{nulls} null value(s) in {list(columns)}: drop incomplete rows first")
    count = pl.len().over("session")
    ranks = {
        c: pl.when(count > 1)
        .then((pl.col(c).rank("average").over("session") - 1.0) / (count - 1) - 0.5)
        .otherwise(0.0)
        for c in columns
    }
    return frame.with_columns(**ranks)
