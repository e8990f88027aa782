"""What every feature declares, and the sorted arrays all features are computed from."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import polars as pl
from numba import njit

from assets.features.library.smoothing import restarts_of

ANNUALIZE = float(np.sqrt(252.0))
BAR_INPUTS = ("open", "high", "low", "close", "volume")


@dataclass(frozen=True)
class FeatureSpec:
    """One feature: its column name, a one-line definition, the bar columns it reads, the
    number of the symbol's own bars (t included) it needs before it has a value (``lookback``)
    and the number its value at t can depend on at most (``memory``; 0: the lookback).

    The memory exceeds the lookback only for the smoothed features (EMA, Wilder): their warm-up
    ends early, but they keep remembering, up to ``memory`` bars (``smoothing.py``). A read
    holding ``memory`` bars before a session gives that session's value bit for bit.
    """

    name: str
    doc: str
    inputs: tuple[str, ...]
    lookback: int
    memory: int = 0

    def __post_init__(self) -> None:
        if self.lookback < 1:
            raise ValueError(f"feature {self.name}: lookback must be at least 1 bar")
        if self.memory == 0:
            object.__setattr__(self, "memory", self.lookback)
        if self.memory < self.lookback:
            raise ValueError(f"feature {self.name}: memory must be at least its lookback")
        if not self.inputs or not set(self.inputs) <= set(BAR_INPUTS):
            raise ValueError(f"feature {self.name}: inputs must be among {BAR_INPUTS}")


@dataclass(frozen=True)
class Panel:
    """All symbols' bars laid end to end, sorted by (symbol, session), as float64 arrays.

    Symbol ``g`` spans rows ``offsets[g]:offsets[g + 1]``; ``bar`` is each row's position within
    its symbol (0 for the symbol's first bar); ``restart`` marks the rows where the smoothing
    restarts (``smoothing.restarts_of``). Missing values (a null open or volume) are NaN.
    """

    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    offsets: np.ndarray
    bar: np.ndarray
    restart: np.ndarray


# A family's raw values: one float64 array per feature, aligned with the panel rows, NaN where
# undefined. Warm-up rows are masked afterwards, so a value may be anything (even read across a
# symbol boundary) wherever ``bar < lookback - 1``.
Values = np.ndarray


@dataclass(frozen=True)
class Family:
    """A group of features computed together from the panel."""

    name: str
    specs: tuple[FeatureSpec, ...]
    compute: Callable[[Panel], Mapping[str, Values]]


def lag(x: np.ndarray, k: int, *, bar: np.ndarray) -> np.ndarray:
    """Return ``x`` of ``k`` bars earlier within each symbol (NaN for the symbol's first ``k``)."""
    out = np.empty_like(x)
    out[:k] = np.nan
    out[k:] = x[:-k]
    out[bar < k] = np.nan
    return out


def safe_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """Return ``num / den`` with NaN (later null) where ``den`` is zero, without a warning."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den != 0.0, num / den, np.nan)


def panel_of(
    bars: pl.DataFrame, *, rows: np.ndarray, offsets: np.ndarray, day: np.ndarray
) -> Panel:
    """Return the panel of ``bars`` taken in the order ``rows`` (sorted by symbol, session),
    where symbol ``g`` spans sorted rows ``offsets[g]:offsets[g + 1]`` and ``day`` is each sorted
    row's session as days since 1970."""
    sizes = np.diff(offsets)
    bar = np.arange(rows.shape[0], dtype=np.int64) - np.repeat(offsets[:-1], sizes)

    def column(name: str) -> np.ndarray:
        return bars.get_column(name).cast(pl.Float64).to_numpy()[rows]

    return Panel(
        column("open"),
        column("high"),
        column("low"),
        column("close"),
        column("volume"),
        offsets,
        bar,
        restarts_of(day, bar),
    )


@njit(cache=True)
def mask_warm_up_nb(x: np.ndarray, bar: np.ndarray, lookback: int) -> None:
    """Set ``x`` to NaN in place where ``bar < lookback - 1`` (the warm-up) or not finite."""
    for i in range(x.shape[0]):
        if bar[i] < lookback - 1 or not np.isfinite(x[i]):
            x[i] = np.nan
