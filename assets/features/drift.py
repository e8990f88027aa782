"""Population stability index (PSI) of features between a reference and a current sample (pure).

PSI = sum over bins of (c - r) * ln(c / r), where r and c are the shares of the reference and
of the current sample in each bin. The bins are cut at the reference's quantiles (``bins``
equal-count bins; tied cut points merge, so a feature with few distinct values gets fewer
bins); bin k holds edge[k-1] <= x < edge[k]. A bin that holds no value of a sample counts as
share ``epsilon`` there, so PSI stays finite (shares then sum to slightly more than 1). Rule of
thumb: below 0.1 stable, 0.1 to 0.25 a moderate shift, above 0.25 a significant shift.

Missing values (null, NaN, +-inf) are left out of both samples before binning: how often a
feature is missing is the null-share check's business, and counting warm-up nulls here would
report every new symbol as drift. PSI is NaN, undefined, when either sample has no present
value; the share of missing values is reported beside it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

BINS = 10
EPSILON = 1e-4


def present(values: np.ndarray) -> np.ndarray:
    """Return the finite values (null, NaN and +-inf are missing)."""
    values = np.asarray(values, dtype=np.float64)
    return values[np.isfinite(values)]


def quantile_edges(reference: np.ndarray, *, bins: int = BINS) -> np.ndarray:
    """Return the reference's interior cut points: its 1/bins .. (bins-1)/bins quantiles, unique."""
    if bins < 2:
        raise ValueError(f"PSI needs at least 2 bins, got {bins}")
    if reference.size == 0:
        raise ValueError("the reference sample has no present value: no bins to cut")
    return np.unique(np.quantile(reference, np.arange(1, bins) / bins))


def bin_shares(values: np.ndarray, edges: np.ndarray, *, epsilon: float = EPSILON) -> np.ndarray:
    """Return the share of ``values`` in each bin of ``edges``; an empty bin counts ``epsilon``."""
    index = np.searchsorted(edges, values, side="right")
    shares = np.bincount(index, minlength=edges.size + 1) / values.size
    return np.maximum(shares, epsilon)


def population_stability_index(
    reference: np.ndarray, current: np.ndarray, *, bins: int = BINS, epsilon: float = EPSILON
) -> float:
    """Return the PSI of ``current`` against ``reference`` (NaN when either has no value)."""
    if not 0 < epsilon < 1 / bins:
        raise ValueError(f"epsilon must lie in (0, 1/bins), got {epsilon} with {bins} bins")
    ref, cur = present(reference), present(current)
    if ref.size == 0 or cur.size == 0:
        return float("nan")
    edges = quantile_edges(ref, bins=bins)
    r = bin_shares(ref, edges, epsilon=epsilon)
    c = bin_shares(cur, edges, epsilon=epsilon)
    return float(np.sum((c - r) * np.log(c / r)))


def feature_psi(
    reference: pl.DataFrame,
    current: pl.DataFrame,
    *,
    columns: Sequence[str],
    bins: int = BINS,
    epsilon: float = EPSILON,
) -> pl.DataFrame:
    """Return one row per column: psi, present values in each sample, current missing share.

    Sorted by PSI, largest first, with undefined (NaN) PSI first of all.
    """
    rows = []
    for name in columns:
        ref = reference.get_column(name).cast(pl.Float64).to_numpy()
        cur = current.get_column(name).cast(pl.Float64).to_numpy()
        n_cur = present(cur).size
        rows.append(
            {
                "feature": name,
                "psi": population_stability_index(ref, cur, bins=bins, epsilon=epsilon),
                "reference_present": present(ref).size,
                "current_present": n_cur,
                "current_missing_share": 1.0 - n_cur / cur.size if cur.size else float("nan"),
            }
        )
    frame = pl.DataFrame(
        rows,
        schema={
            "feature": pl.String,
            "psi": pl.Float64,
            "reference_present": pl.Int64,
            "current_present": pl.Int64,
            "current_missing_share": pl.Float64,
        },
    )
    rank = pl.when(pl.col("psi").is_nan()).then(float("inf")).otherwise(pl.col("psi"))
    return frame.sort(rank, "feature", descending=[True, False])


def cross_sectional_z(frame: pl.DataFrame, *, columns: Sequence[str]) -> pl.DataFrame:
    """Return ``columns`` standardized within each session (mean 0, standard deviation 1).

    The models see per-session ranks, so a move every symbol shares (a market rally lifting
    every ret_252) is not drift for them; a change in the cross-section's shape (tails, skew, a
    feature collapsing to one value) is. A session with one value or no spread gives null.
    """
    z = {
        c: ((pl.col(c) - pl.col(c).mean().over("session")) / pl.col(c).std().over("session"))
        for c in columns
    }
    return frame.with_columns(**z).with_columns(pl.col(columns).fill_nan(None))
