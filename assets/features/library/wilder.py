"""Numba kernels for Wilder's recursive indicators: RSI, ATR and ADX.

Inputs are symbols laid end to end (see ``Panel``); each symbol restarts the recursion. Wilder
seeds each average with the simple mean of the first ``period`` values and then smooths with
``avg = (avg * (period - 1) + x) / period``. Warm-up rows are NaN.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True)
def _rsi_value_nb(avg_gain: float, avg_loss: float) -> float:
    if avg_loss == 0.0:
        # No losses: 100 when prices rose, the neutral 50 when they did not move at all.
        return 100.0 if avg_gain > 0.0 else 50.0
    return 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)


@njit(cache=True)
def _rsi_group(close: np.ndarray, start: int, end: int, period: int, out: np.ndarray) -> None:
    if end - start <= period:
        return
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


@njit(cache=True, parallel=True)
def wilder_rsi_nb(close: np.ndarray, offsets: np.ndarray, period: int) -> np.ndarray:
    """Return Wilder's RSI (0..100); the first value of a symbol is at its bar ``period``."""
    out = np.full(close.shape[0], np.nan)
    for g in prange(offsets.shape[0] - 1):
        _rsi_group(close, offsets[g], offsets[g + 1], period, out)
    return out


@njit(cache=True)
def _true_range(high: np.ndarray, low: np.ndarray, close: np.ndarray, i: int) -> float:
    prev = close[i - 1]
    return max(high[i] - low[i], abs(high[i] - prev), abs(low[i] - prev))


@njit(cache=True, parallel=True)
def wilder_atr_nb(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, offsets: np.ndarray, period: int
) -> np.ndarray:
    """Return Wilder's average true range; the first value of a symbol is at its bar ``period``
    (the mean of the true ranges of bars 1..period: bar 0 has no previous close)."""
    out = np.full(close.shape[0], np.nan)
    for g in prange(offsets.shape[0] - 1):
        start, end = offsets[g], offsets[g + 1]
        if end - start <= period:
            continue
        atr = 0.0
        for i in range(start + 1, start + period + 1):
            atr += _true_range(high, low, close, i)
        atr /= period
        out[start + period] = atr
        for i in range(start + period + 1, end):
            atr = (atr * (period - 1) + _true_range(high, low, close, i)) / period
            out[i] = atr
    return out


@njit(cache=True)
def _directional(high: np.ndarray, low: np.ndarray, i: int) -> tuple[float, float]:
    up = high[i] - high[i - 1]
    down = low[i - 1] - low[i]
    plus = up if up > down and up > 0.0 else 0.0
    minus = down if down > up and down > 0.0 else 0.0
    return plus, minus


@njit(cache=True)
def _adx_group(
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    start: int,
    end: int,
    p: int,
    adx: np.ndarray,
    di_diff: np.ndarray,
) -> None:
    if end - start <= p:
        return
    tr_sum = plus_sum = minus_sum = dx_sum = 0.0
    value = 0.0
    for i in range(start + 1, end):
        plus, minus = _directional(high, low, i)
        tr = _true_range(high, low, close, i)
        if i <= start + p:  # Wilder's first sums: plain totals of bars 1..p
            tr_sum, plus_sum, minus_sum = tr_sum + tr, plus_sum + plus, minus_sum + minus
        else:
            tr_sum = tr_sum - tr_sum / p + tr
            plus_sum = plus_sum - plus_sum / p + plus
            minus_sum = minus_sum - minus_sum / p + minus
        if i < start + p:
            continue
        if tr_sum > 0.0:
            di_diff[i] = (plus_sum - minus_sum) / tr_sum
        both = plus_sum + minus_sum
        dx = 100.0 * abs(plus_sum - minus_sum) / both if both > 0.0 else 0.0
        if i < start + 2 * p - 1:
            dx_sum += dx
        elif i == start + 2 * p - 1:
            value = (dx_sum + dx) / p
            adx[i] = value
        else:
            value = (value * (p - 1) + dx) / p
            adx[i] = value


@njit(cache=True, parallel=True)
def wilder_adx_nb(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, offsets: np.ndarray, period: int
) -> tuple[np.ndarray, np.ndarray]:
    """Return Wilder's ADX (0..100) and (+DI - -DI) / 100.

    +DM is the rise of the high when it beats the fall of the low (else 0), -DM the converse;
    TR, +DM and -DM are smoothed as Wilder's running sums from bar ``period``, DX is
    ``100 |+DM - -DM| / (+DM + -DM)`` (0 when there was no directional move at all), and ADX is
    the mean of the first ``period`` DX values (first at bar ``2 period - 1``), then smoothed.
    """
    adx = np.full(close.shape[0], np.nan)
    di_diff = np.full(close.shape[0], np.nan)
    for g in prange(offsets.shape[0] - 1):
        _adx_group(high, low, close, offsets[g], offsets[g + 1], period, adx, di_diff)
    return adx, di_diff
