"""Label leakage guard: how closely each feature tracks the forward-return label (pure).

A point-in-time feature cannot know the forward return, so its correlation with the label is
small; a feature that correlates about +-1 with it was computed from the future. Both Pearson
(linear) and Spearman (rank, so any monotonic function of the label) correlations are measured,
pooled over the rows where the feature and the label are both present (finite). A correlation
is NaN, undefined, on fewer than ``MIN_ROWS`` such rows or when either side is constant there:
such a feature cannot carry the label, so it is not flagged.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

MIN_ROWS = 3
SCHEMA = {"feature": pl.String, "rows": pl.Int64, "pearson": pl.Float64, "spearman": pl.Float64}


def _correlations(pair: pl.DataFrame) -> tuple[float, float]:
    """Return (pearson, spearman) of the two columns ``x`` and ``y`` (NaN when undefined)."""
    if pair.height < MIN_ROWS or pair.get_column("x").n_unique() < 2:
        return float("nan"), float("nan")
    if pair.get_column("y").n_unique() < 2:
        return float("nan"), float("nan")
    row = pair.select(
        pearson=pl.corr("x", "y", method="pearson"),
        spearman=pl.corr("x", "y", method="spearman"),
    ).row(0)
    return float(row[0]), float(row[1])


def label_correlations(frame: pl.DataFrame, *, features: Sequence[str], label: str) -> pl.DataFrame:
    """Return per feature: rows used, Pearson and Spearman correlation with ``label``."""
    y = pl.col(label).cast(pl.Float64)
    rows = []
    for name in features:
        x = pl.col(name).cast(pl.Float64)
        pair = frame.select(x=x, y=y).filter(pl.col("x").is_finite() & pl.col("y").is_finite())
        pearson, spearman = _correlations(pair)
        rows.append(
            {"feature": name, "rows": pair.height, "pearson": pearson, "spearman": spearman}
        )
    return pl.DataFrame(rows, schema=SCHEMA)


def strongest(correlations: pl.DataFrame) -> pl.DataFrame:
    """Return the correlations with ``max_abs`` (the larger of |Pearson|, |Spearman|), largest
    first; undefined correlations last."""
    larger = pl.max_horizontal(pl.col("pearson").abs(), pl.col("spearman").abs())
    max_abs = pl.when(pl.col("pearson").is_nan() & pl.col("spearman").is_nan()).then(None)
    return correlations.with_columns(max_abs=max_abs.otherwise(larger)).sort(
        "max_abs", "feature", descending=[True, False], nulls_last=True
    )


def leaking_features(correlations: pl.DataFrame, *, threshold: float) -> list[str]:
    """Return the features whose |Pearson| or |Spearman| correlation reaches ``threshold``."""
    if not 0 < threshold <= 1:
        raise ValueError(f"a correlation threshold lies in (0, 1], got {threshold}")
    ranked = strongest(correlations)
    return ranked.filter(pl.col("max_abs") >= threshold).get_column("feature").to_list()
