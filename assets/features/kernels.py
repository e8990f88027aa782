"""Numba kernels for features that need a recursion polars expressions cannot express."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _rsi_value_nb(avg_gain: float, avg_loss: float) -> float:
    if avg_loss == 0.0:
        # No losses: 100 when prices rose, the neutral 50 when they did not move at all.
        return 100.0 if avg_gain > 0.0 else 50.0
    return 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)


@njit(cache=True)
def wilder_rsi_nb(close: np.ndarray, offsets: np.ndarray, period: int) -> np.ndarray:
    """Return Wilder's RSI for every bar of groups laid end to end; warm-up bars are NaN.

    ``close`` holds the groups (symbols) one after another, each sorted by session;
    group ``g`` spans ``offsets[g]:offsets[g + 1]``. The first value of a group is at its bar
    ``period`` (the simple mean of the first ``period`` changes); later values use Wilder's
    smoothing ``avg = (avg * (period - 1) + x) / period``.
    """
    out = np.full(close.shape[0], np.nan)
    for g in range(offsets.shape[0] - 1):
        start = offsets[g]
        end = offsets[g + 1]
        if end - start <= period:
            continue
        avg_gain = 0.0
        avg_loss = 0.0
        for i in range(start + 1, start + period + 1):
            change = close[i] - close[i - 1]
            if change > 0.0:
                avg_gain += change
            else:
                avg_loss -= change
        avg_gain /= period
        avg_loss /= period
        out[start + period] = _rsi_value_nb(avg_gain, avg_loss)
        for i in range(start + period + 1, end):
            change = close[i] - close[i - 1]
            gain = change if change > 0.0 else 0.0
            loss = -change if change < 0.0 else 0.0
            avg_gain = (avg_gain * (period - 1) + gain) / period
            avg_loss = (avg_loss * (period - 1) + loss) / period
            out[i] = _rsi_value_nb(avg_gain, avg_loss)
    return out
