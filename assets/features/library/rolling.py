"""Numba window kernels over symbols laid end to end (see ``Panel``): one pass, all symbols.

Each kernel takes ``x`` (float64) and ``offsets`` (symbol ``g`` spans ``offsets[g]:offsets[g+1]``)
and runs the symbols in parallel. A window value is NaN until the symbol has ``window`` bars and
while the window holds a NaN.

Every window value is computed from that window's values alone, in the same order whatever came
before it (sums are summed afresh for each row, not kept as a running add/subtract sum, whose
rounding would depend on where the computation began): a session's value is the same bit for
bit in a one-session read and in a long backfill. Rows are summed ``CHUNK`` at a time, one
window position for all of them per step, so the independent sums vectorize.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

CHUNK = 64


@njit(cache=True)
def _window_sums(x: np.ndarray, t0: int, n: int, w: int, acc: np.ndarray) -> None:
    # acc[k] = x[t0+k-w+1] + ... + x[t0+k], added oldest first from 0.0.
    lo = t0 - w + 1
    for k in range(n):
        acc[k] = 0.0
    for j in range(w):
        for k in range(n):
            acc[k] += x[lo + j + k]


@njit(cache=True)
def _sum_group(x: np.ndarray, start: int, end: int, w: int, out: np.ndarray) -> None:
    acc = np.empty(CHUNK)
    t0 = start + w - 1
    while t0 < end:
        n = min(CHUNK, end - t0)
        _window_sums(x, t0, n, w, acc)
        out[t0 : t0 + n] = acc[:n]
        t0 += n


@njit(cache=True, parallel=True)
def rolling_sum_nb(x: np.ndarray, offsets: np.ndarray, window: int) -> np.ndarray:
    """Return the sum of the last ``window`` values of each row's symbol (NaN if one is NaN)."""
    out = np.full(x.shape[0], np.nan)
    for g in prange(offsets.shape[0] - 1):
        _sum_group(x, offsets[g], offsets[g + 1], window, out)
    return out


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
    # run[i]: how many values before row i equal it without a break (so a window of w equal
    # values has exactly zero spread, not the rounding of mean(x) - x).
    run = np.zeros(end - start, dtype=np.int64)
    for i in range(start + 1, end):
        if x[i] == x[i - 1]:
            run[i - start] = run[i - start - 1] + 1
    mu = np.empty(CHUNK)
    s2 = np.empty(CHUNK)
    s3 = np.empty(CHUNK)
    t0 = start + w - 1
    while t0 < end:
        n = min(CHUNK, end - t0)
        lo = t0 - w + 1
        # Deviations from the window's first value (exact for nearby values), then from their
        # mean: a level of 1e9 costs no digits of the spread.
        for k in range(n):
            mu[k] = 0.0
            s2[k] = 0.0
            s3[k] = 0.0
        for j in range(w):
            for k in range(n):
                mu[k] += x[lo + j + k] - x[lo + k]
        for k in range(n):
            mu[k] /= w
        for j in range(w):
            for k in range(n):
                d = (x[lo + j + k] - x[lo + k]) - mu[k]
                s2[k] += d * d
                s3[k] += d * d * d
        for k in range(n):
            t = t0 + k
            if run[t - start] >= w - 1:  # every value in the window is the same
                mean[t], m2[t], m3[t] = x[t], 0.0, 0.0
            elif not np.isnan(mu[k]):
                mean[t], m2[t], m3[t] = x[t - w + 1] + mu[k], s2[k], s3[k]
        t0 += n


@njit(cache=True, parallel=True)
def rolling_moments_nb(
    x: np.ndarray, offsets: np.ndarray, window: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the window mean and the sums of squared and cubed deviations from it.

    Two passes over each window (its mean, then the deviations from it), both relative to the
    window's first value. The spread sums are
    exactly 0 when all ``window`` values are equal, so "zero variance" can be tested with
    ``== 0`` rather than a tolerance.
    """
    mean = np.full(x.shape[0], np.nan)
    m2 = np.full(x.shape[0], np.nan)
    m3 = np.full(x.shape[0], np.nan)
    for g in prange(offsets.shape[0] - 1):
        _moments_group(x, offsets[g], offsets[g + 1], window, mean, m2, m3)
    return mean, m2, m3


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
