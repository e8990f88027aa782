"""Cross-sectional features: per-session percentile ranks and z-scores of a few bar features.

Each value is computed across the symbols of one session only, from their features at that
session, so it is point-in-time whenever those are. Symbols without the base feature (still in
their warm-up, or undefined) take no part and get null.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import polars as pl
from numba import njit, prange

from assets.features.library.spec import FeatureSpec

RANKED = ("ret_20", "ret_252", "vol_20", "log_dollar_volume_20")
Z_SCORED = ("ret_5", "rsi_14")
NAMES = (*(f"cs_rank_{n}" for n in RANKED), *(f"cs_z_{n}" for n in Z_SCORED))


def specs(bar_specs: Mapping[str, FeatureSpec]) -> tuple[FeatureSpec, ...]:
    """Return the cross-sectional specs; each inherits its base feature's inputs, lookback and
    memory."""
    missing = sorted(set(RANKED + Z_SCORED) - set(bar_specs))
    if missing:
        raise ImportError(f"cross-sectional features need bar features {missing}: declare them")
    rank_doc = "Percentile rank (average rank - 0.5) / n of {} among the session's symbols, 0..1."
    z_doc = (
        "Z-score of {} against the session's symbols' mean and sample std; null with fewer "
        "than 2 symbols or when all are equal."
    )
    return tuple(
        FeatureSpec(
            f"cs_{kind}_{name}",
            doc.format(name),
            bar_specs[name].inputs,
            bar_specs[name].lookback,
            bar_specs[name].memory,
        )
        for kind, names, doc in (("rank", RANKED, rank_doc), ("z", Z_SCORED, z_doc))
        for name in names
    )


@njit(cache=True)
def session_groups_nb(day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the row numbers grouped by day (a counting sort) and each day's offsets into them."""
    first = day.min()
    starts = np.zeros(day.max() - first + 2, dtype=np.int64)
    for d in day:
        starts[d - first + 1] += 1
    starts = np.cumsum(starts)
    order = np.empty(day.shape[0], dtype=np.int64)
    fill = starts[:-1].copy()
    for i in range(day.shape[0]):
        k = day[i] - first
        order[fill[k]] = i
        fill[k] += 1
    return order, starts


@njit(cache=True, parallel=True)
def session_rank_nb(x: np.ndarray, order: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Return each row's (average rank - 0.5) / n among its session's non-NaN values."""
    out = np.full(x.shape[0], np.nan)
    for s in prange(starts.shape[0] - 1):
        rows = order[starts[s] : starts[s + 1]]
        rows = rows[~np.isnan(x[rows])]
        values = x[rows]
        ranked = np.argsort(values)
        n = rows.shape[0]
        j = 0
        while j < n:
            k = j
            while k + 1 < n and values[ranked[k + 1]] == values[ranked[j]]:
                k += 1
            pct = ((j + k) / 2.0 + 0.5) / n  # 1-based average rank of the tie, minus 0.5
            for t in range(j, k + 1):
                out[rows[ranked[t]]] = pct
            j = k + 1
    return out


@njit(cache=True, parallel=True)
def session_zscore_nb(x: np.ndarray, order: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Return each row's z-score against its session's non-NaN values (NaN if no spread)."""
    out = np.full(x.shape[0], np.nan)
    for s in prange(starts.shape[0] - 1):
        rows = order[starts[s] : starts[s + 1]]
        rows = rows[~np.isnan(x[rows])]
        values = x[rows]
        if values.shape[0] < 2 or values.max() == values.min():
            continue
        mean = values.mean()
        std = np.sqrt(((values - mean) ** 2).sum() / (values.shape[0] - 1))
        for t in range(rows.shape[0]):
            out[rows[t]] = (values[t] - mean) / std
    return out


def cross_section_values(
    day: np.ndarray, features: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Return the cross-sectional features of rows whose session day numbers are ``day``."""
    if day.shape[0] == 0:
        return {name: np.empty(0) for name in NAMES}
    order, starts = session_groups_nb(day.astype(np.int64))
    return {
        **{f"cs_rank_{n}": session_rank_nb(features[n], order, starts) for n in RANKED},
        **{f"cs_z_{n}": session_zscore_nb(features[n], order, starts) for n in Z_SCORED},
    }


def cross_section_features(features: pl.DataFrame) -> pl.DataFrame:
    """Return (symbol, session, cs_*) from a frame of bar features in any row order."""
    day = features.get_column("session").cast(pl.Date).cast(pl.Int64).to_numpy()
    arrays = {
        n: features.get_column(n).cast(pl.Float64).fill_null(np.nan).to_numpy(writable=True)
        for n in RANKED + Z_SCORED
    }
    values = cross_section_values(day, arrays)
    return features.select("symbol", "session").with_columns(
        pl.Series(name, value, nan_to_null=True) for name, value in values.items()
    )
