"""Numba window kernels over symbols laid end to end (see ``Panel``): one pass, all symbols.

Each kernel takes ``x`` (float64) and ``offsets`` (symbol ``g`` spans ``offsets[g]:offsets[g+1]``)
and runs the symbols in parallel. A window value is NaN until the symbol has ``window`` bars and
while the window holds a NaN. Running sums are recomputed from scratch every ``window`` bars, so
rounding drift never builds up over a long history.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True)
def _sums(x: np.ndarray, lo: int, hi: int, anchor: float) -> tuple[float, float, float, int]:
    s1 = s2 = s3 = 0.0
    nans = 0
    for j in range(lo, hi):
        if np.isnan(x[j]):
            nans += 1
        else:
            d = x[j] - anchor
            s1 += d
            s2 += d * d
            s3 += d * d * d
    return s1, s2, s3, nans


@njit(cache=True)
def _moments_group(
    x: np.ndarray,
    start: int,
    end: int,
    w: int,
    mean: np.ndarray,
    m2: np.ndarray,
    m3: np.ndarray,
) -> None:
    anchor = s1 = s2 = s3 = 0.0
    nans = 0
    changed = start  # last row whose value differs from the row before it
    for i in range(start + 1, min(start + w - 1, end)):
        if x[i] != x[i - 1]:
            changed = i
    renew = start + w - 1  # the next row whose window sums are recomputed from scratch
    for i in range(start + w - 1, end):
        if i > start and x[i] != x[i - 1]:
            changed = i
        lo = i - w + 1
        if i == renew:
            renew += w
            anchor = x[lo] if not np.isnan(x[lo]) else 0.0
            s1, s2, s3, nans = _sums(x, lo, i + 1, anchor)
        else:
            if np.isnan(x[lo - 1]):
                nans -= 1
            else:
                d = x[lo - 1] - anchor
                s1 -= d
                s2 -= d * d
                s3 -= d * d * d
            if np.isnan(x[i]):
                nans += 1
            else:
                d = x[i] - anchor
                s1 += d
                s2 += d * d
                s3 += d * d * d
        if nans:
            continue
        m = s1 / w
        mean[i] = anchor + m
        if changed <= lo:  # every value in the window is the same: exactly zero spread
            m2[i] = 0.0
            m3[i] = 0.0
        else:
            m2[i] = max(s2 - m * s1, 0.0)
            m3[i] = s3 - 3.0 * m * s2 + 2.0 * w * m * m * m


@njit(cache=True, parallel=True)
def rolling_moments_nb(
    x: np.ndarray, offsets: np.ndarray, window: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the window mean and the sums of squared and cubed deviations from it.

    The spread sums are exactly 0 when all ``window`` values are equal, so "zero variance"
    can be tested with ``== 0`` rather than a tolerance.
    """
    mean = np.full(x.shape[0], np.nan)
    m2 = np.full(x.shape[0], np.nan)
    m3 = np.full(x.shape[0], np.nan)
    for g in prange(offsets.shape[0] - 1):
        _moments_group(x, offsets[g], offsets[g + 1], window, mean, m2, m3)
    return mean, m2, m3


@njit(cache=True)
def _sum_group(x: np.ndarray, start: int, end: int, w: int, out: np.ndarray) -> None:
    total = 0.0
    nans = 0
    renew = start + w - 1  # the next row whose window sum is recomputed from scratch
    for i in range(start + w - 1, end):
        lo = i - w + 1
        if i == renew:
            renew += w
            total, _, _, nans = _sums(x, lo, i + 1, 0.0)
        else:
            if np.isnan(x[lo - 1]):
                nans -= 1
            else:
                total -= x[lo - 1]
            if np.isnan(x[i]):
                nans += 1
            else:
                total += x[i]
        if nans == 0:
            out[i] = total


@njit(cache=True, parallel=True)
def rolling_sum_nb(x: np.ndarray, offsets: np.ndarray, window: int) -> np.ndarray:
    """Return the sum of the last ``window`` values of each row's symbol."""
    out = np.full(x.shape[0], np.nan)
    for g in prange(offsets.shape[0] - 1):
        _sum_group(x, offsets[g], offsets[g + 1], window, out)
    return out


@njit(cache=True)
def _max_group(x: np.ndarray, start: int, end: int, w: int, out: np.ndarray) -> None:
    queue = np.empty(end - start, dtype=np.int64)  # indices of decreasing values
    head = tail = nans = 0
    for i in range(start, end):
        if np.isnan(x[i]):
            nans += 1
        else:
            while tail > head and x[queue[tail - 1]] <= x[i]:
                tail -= 1
            queue[tail] = i
            tail += 1
        lo = i - w + 1
        if lo - 1 >= start and np.isnan(x[lo - 1]):
            nans -= 1
        while tail > head and queue[head] < lo:
            head += 1
        if i - start >= w - 1 and nans == 0:
            out[i] = x[queue[head]]


@njit(cache=True, parallel=True)
def rolling_max_nb(x: np.ndarray, offsets: np.ndarray, window: int) -> np.ndarray:
    """Return the largest of the last ``window`` values (a monotonic queue: O(1) per row)."""
    out = np.full(x.shape[0], np.nan)
    for g in prange(offsets.shape[0] - 1):
        _max_group(x, offsets[g], offsets[g + 1], window, out)
    return out


def rolling_min_nb(x: np.ndarray, offsets: np.ndarray, window: int) -> np.ndarray:
    """Return the smallest of the last ``window`` values."""
    return -rolling_max_nb(-x, offsets, window)


@njit(cache=True)
def _drawdown_of(
    peak_a: float, trough_a: float, dd_a: float, peak_b: float, trough_b: float, dd_b: float
) -> tuple[float, float, float]:
    # (highest, lowest, worst drawdown) of segment a followed by segment b.
    return max(peak_a, peak_b), min(trough_a, trough_b), max(dd_a, dd_b, 1.0 - trough_b / peak_a)


@njit(cache=True)
def _drawdown_group(x: np.ndarray, start: int, end: int, w: int, out: np.ndarray) -> None:
    # Cut the rows into blocks of w; a window [lo, i] is the tail of one block (from lo) then the
    # head of the next (to i), so it combines a suffix and a prefix summary: O(1) per row.
    n = end - start
    pre = np.empty((n, 3))
    suf = np.empty((n, 3))
    for k in range(n):
        v = x[start + k]
        if k % w == 0:
            pre[k] = (v, v, 0.0)
        else:
            pre[k] = _drawdown_of(pre[k - 1, 0], pre[k - 1, 1], pre[k - 1, 2], v, v, 0.0)
    for k in range(n - 1, -1, -1):
        v = x[start + k]
        if k % w == w - 1 or k == n - 1:
            suf[k] = (v, v, 0.0)
        else:
            suf[k] = _drawdown_of(v, v, 0.0, suf[k + 1, 0], suf[k + 1, 1], suf[k + 1, 2])
    for k in range(w - 1, n):
        lo = k - w + 1
        if lo % w == 0:
            out[start + k] = suf[lo, 2]
        else:
            out[start + k] = _drawdown_of(
                suf[lo, 0], suf[lo, 1], suf[lo, 2], pre[k, 0], pre[k, 1], pre[k, 2]
            )[2]


@njit(cache=True, parallel=True)
def rolling_drawdown_nb(close: np.ndarray, offsets: np.ndarray, window: int) -> np.ndarray:
    """Return the largest peak-to-trough fall ``1 - trough / peak`` within the last ``window``
    closes, the peak coming first (0 when the closes only rose). Closes must be positive."""
    out = np.full(close.shape[0], np.nan)
    for g in prange(offsets.shape[0] - 1):
        _drawdown_group(close, offsets[g], offsets[g + 1], window, out)
    return out


@njit(cache=True)
def _ema_group(x: np.ndarray, start: int, end: int, span: int, out: np.ndarray) -> None:
    first = start
    while first < end and np.isnan(x[first]):
        first += 1
    if end - first < span:
        return
    value = 0.0
    for j in range(first, first + span):
        value += x[j]
    value /= span
    out[first + span - 1] = value
    alpha = 2.0 / (span + 1.0)
    for i in range(first + span, end):
        value = alpha * x[i] + (1.0 - alpha) * value
        out[i] = value


@njit(cache=True, parallel=True)
def ema_nb(x: np.ndarray, offsets: np.ndarray, span: int) -> np.ndarray:
    """Return the exponential moving average with ``alpha = 2 / (span + 1)``, seeded with the
    simple mean of the symbol's first ``span`` values (after any leading NaN run).

    Recursive: the value at t depends on every bar since the seed, all at or before t. A NaN
    after the seed makes every later value NaN.
    """
    out = np.full(x.shape[0], np.nan)
    for g in prange(offsets.shape[0] - 1):
        _ema_group(x, offsets[g], offsets[g + 1], span, out)
    return out
