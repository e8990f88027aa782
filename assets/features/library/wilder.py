"""Wilder's indicators: RSI, ATR and ADX, from Wilder's average with finite memory.

Inputs are symbols laid end to end (see ``Panel``); each symbol restarts. Wilder seeds each
average with the simple mean of the first ``period`` values and then smooths with weight
``1 / period``; here that average has finite memory (``smoothing.py``), so a value is the same
bit for bit however the computation's range is cut. ADX's running sums of TR, +DM and -DM are
kept as averages (``period`` times smaller): DI and DX are ratios of them, so the scale cancels.
Warm-up rows are NaN.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from assets.features.library.smoothing import reach_of, wilder_nb, wilder_settle


def rsi_reach(period: int) -> int:
    """Return the bars (t included) RSI depends on at most: closes for the changes, smoothed."""
    return reach_of(wilder_settle(period), input_reach=2)


def adx_reach(period: int) -> int:
    """Return the bars (t included) ADX depends on at most: DX is smoothed once more."""
    return reach_of(wilder_settle(period), input_reach=rsi_reach(period))


@njit(cache=True, parallel=True)
def _changes_nb(close: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    gain = np.full(close.shape[0], np.nan)
    loss = np.full(close.shape[0], np.nan)
    for g in prange(offsets.shape[0] - 1):
        for i in range(offsets[g] + 1, offsets[g + 1]):
            change = close[i] - close[i - 1]
            gain[i] = change if change > 0.0 else 0.0
            loss[i] = -change if change < 0.0 else 0.0
    return gain, loss


def wilder_rsi_nb(
    close: np.ndarray, offsets: np.ndarray, restart: np.ndarray, period: int
) -> np.ndarray:
    """Return Wilder's RSI (0..100); the first value of a symbol is at its bar ``period``.

    100 when there were no losses but gains, the neutral 50 when the close did not move at all.
    """
    gain, loss = _changes_nb(close, offsets)
    avg_gain = wilder_nb(gain, offsets, restart, period)
    avg_loss = wilder_nb(loss, offsets, restart, period)
    with np.errstate(divide="ignore", invalid="ignore"):
        rsi = 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)
    flat = np.where(avg_gain > 0.0, 100.0, 50.0)
    return np.where(avg_loss == 0.0, flat, rsi)


@njit(cache=True, parallel=True)
def _directional_nb(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, offsets: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the true range, +DM and -DM of each row (NaN at a symbol's first bar)."""
    tr = np.full(close.shape[0], np.nan)
    plus = np.full(close.shape[0], np.nan)
    minus = np.full(close.shape[0], np.nan)
    for g in prange(offsets.shape[0] - 1):
        for i in range(offsets[g] + 1, offsets[g + 1]):
            prev = close[i - 1]
            tr[i] = max(high[i] - low[i], abs(high[i] - prev), abs(low[i] - prev))
            up = high[i] - high[i - 1]
            down = low[i - 1] - low[i]
            plus[i] = up if up > down and up > 0.0 else 0.0
            minus[i] = down if down > up and down > 0.0 else 0.0
    return tr, plus, minus


def wilder_atr_nb(
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    offsets: np.ndarray,
    restart: np.ndarray,
    period: int,
) -> np.ndarray:
    """Return Wilder's average true range; the first value of a symbol is at its bar ``period``
    (the mean of the true ranges of bars 1..period: bar 0 has no previous close)."""
    tr, _, _ = _directional_nb(high, low, close, offsets)
    return wilder_nb(tr, offsets, restart, period)


def wilder_adx_nb(
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    offsets: np.ndarray,
    restart: np.ndarray,
    period: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Return Wilder's ADX (0..100) and (+DI - -DI) / 100.

    +DM is the rise of the high when it beats the fall of the low (else 0), -DM the converse;
    TR, +DM and -DM are Wilder-averaged from bar ``period``, DX is
    ``100 |+DM - -DM| / (+DM + -DM)`` (0 when there was no directional move at all), and ADX is
    Wilder's average of DX (first at bar ``2 period - 1``). (+DI - -DI) is null when TR is 0.
    """
    tr, plus, minus = (
        wilder_nb(x, offsets, restart, period) for x in _directional_nb(high, low, close, offsets)
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        di_diff = np.where(tr > 0.0, (plus - minus) / tr, np.nan)
        both = plus + minus
        dx = np.where(both > 0.0, 100.0 * np.abs(plus - minus) / both, 0.0)
    dx[np.isnan(tr)] = np.nan
    return wilder_nb(dx, offsets, restart, period), di_diff
