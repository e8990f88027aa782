"""Numba window kernels over symbols laid end to end (see ``Panel``): one pass, all symbols.

Each kernel takes ``x`` (float64) and ``offsets`` (symbol ``g`` spans ``offsets[g]:offsets[g+1]``)
and runs the symbols in parallel. A window value is NaN until the symbol has ``window`` bars and
while the window holds a NaN.

Every window value is computed from that window's values alone, in the same operations whatever
came before it (sums are summed afresh for each row, not kept as a running add/subtract sum,
whose rounding would depend on where the computation began): a session's value is the same bit
for bit in a one-session read and in a long backfill. Rows are summed ``CHUNK`` at a time, one
window position for all of them per step, so the independent sums vectorize; a symbol's last
chunk overlaps the one before (its rows are computed twice, the same way), and a symbol with
fewer rows is copied into a zero-padded chunk.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

CHUNK = 64


@njit(cache=True)
def _chunks(x: np.ndarray, start: int, end: int, w: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Return the window starts (in ``src``) of the chunks that cover rows [start + w - 1, end),
    ``src`` (``x`` itself, or the symbol's rows zero-padded to one chunk when too few) and the
    row of ``x`` at ``src``'s row 0."""
    first = start + w - 1
    if end - first >= CHUNK:
        n = (end - first + CHUNK - 1) // CHUNK
        lows = np.empty(n, dtype=np.int64)
        for c in range(n):
            lows[c] = min(first + c * CHUNK, end - CHUNK) - w + 1
        return lows, x, 0
    padded = np.zeros(w - 1 + CHUNK)
    padded[: end - start] = x[start:end]
    return np.zeros(1, dtype=np.int64), padded, start


@njit(cache=True)
def _sum_chunk(x: np.ndarray, lo: int, w: int, acc: np.ndarray) -> None:
    # acc[k] = x[lo + k] + ... + x[lo + k + w - 1], added oldest first from 0.0.
    for k in range(CHUNK):
        acc[k] = 0.0
    for j in range(w):
        base = lo + j
        for k in range(CHUNK):
            acc[k] += x[base + k]


@njit(cache=True)
def _direct_sums(x: np.ndarray, start: int, end: int, w: int, out: np.ndarray, base: int) -> None:
    # out[t - base] = the sum of x[t - w + 1 .. t] for rows t of [start + w - 1, end).
    acc = np.empty(CHUNK)
    lows, src, shift = _chunks(x, start, end, w)
    for lo in lows:
        _sum_chunk(src, lo, w, acc)
        t0 = lo + w - 1 + shift
        n = min(CHUNK, end - t0)
        out[t0 - base : t0 - base + n] = acc[:n]


def block_of(window: int) -> int:
    """Return the block a window's sum is built from: its largest divisor up to its square root
    (1 when it has none: the window is summed directly)."""
    return max(b for b in range(1, int(window**0.5) + 1) if window % b == 0)


@njit(cache=True)
def _sum_group(x: np.ndarray, start: int, end: int, w: int, b: int, out: np.ndarray) -> None:
    if end - start < w:
        return
    if b == 1:
        _direct_sums(x, start, end, w, out, 0)
        return
    # The sums of the w / b blocks of b values, each summed directly, added oldest first: about
    # b + w / b additions a row instead of w.
    part = np.empty(end - start)
    _direct_sums(x, start, end, b, part, start)
    first, blocks = start + w - 1 - start, w // b
    acc = part[first - (blocks - 1) * b : end - start - (blocks - 1) * b].copy()
    for i in range(blocks - 2, -1, -1):
        shift = i * b
        for k in range(acc.shape[0]):
            acc[k] += part[first - shift + k]
    out[start + w - 1 : end] = acc


@njit(cache=True, parallel=True)
def _rolling_sum_nb(x: np.ndarray, offsets: np.ndarray, window: int, block: int) -> np.ndarray:
    out = np.full(x.shape[0], np.nan)
    for g in prange(offsets.shape[0] - 1):
        _sum_group(x, offsets[g], offsets[g + 1], window, block, out)
    return out


def rolling_sum_nb(x: np.ndarray, offsets: np.ndarray, window: int) -> np.ndarray:
    """Return the sum of the last ``window`` values of each row's symbol (NaN if one is NaN):
    the sum of its ``block_of(window)``-value blocks, each summed directly."""
    return _rolling_sum_nb(x, offsets, window, block_of(window))


@njit(cache=True)
def _power_chunk(x: np.ndarray, lo: int, w: int, sums: np.ndarray) -> None:
    # sums[0..3, k]: the window's first value, and the sums of d, d^2 and d^3 for d = x - it.
    for k in range(CHUNK):
        sums[0, k] = x[lo + k]
        sums[1, k] = 0.0
        sums[2, k] = 0.0
        sums[3, k] = 0.0
    for j in range(w):
        base = lo + j
        for k in range(CHUNK):
            d = x[base + k] - sums[0, k]
            d2 = d * d
            sums[1, k] += d
            sums[2, k] += d2
            sums[3, k] += d2 * d


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
    if end - start < w:
        return
    # run[i]: how many values before row i equal it without a break (so a window of w equal
    # values has exactly zero spread, not the rounding of the moments' formulas).
    run = np.zeros(end - start, dtype=np.int64)
    for i in range(start + 1, end):
        if x[i] == x[i - 1]:
            run[i - start] = run[i - start - 1] + 1
    sums = np.empty((4, CHUNK))
    lows, src, shift = _chunks(x, start, end, w)
    for lo in lows:
        _power_chunk(src, lo, w, sums)
        t0 = lo + w - 1 + shift
        for k in range(min(CHUNK, end - t0)):
            t = t0 + k
            anchor, s1, s2, s3 = sums[0, k], sums[1, k], sums[2, k], sums[3, k]
            if run[t - start] >= w - 1:  # every value in the window is the same
                mean[t], m2[t], m3[t] = x[t], 0.0, 0.0
            elif not np.isnan(s1):
                m = s1 / w
                mean[t] = anchor + m
                m2[t] = max(s2 - m * s1, 0.0)
                m3[t] = s3 - 3.0 * m * s2 + 2.0 * w * m * m * m


@njit(cache=True, parallel=True)
def rolling_moments_nb(
    x: np.ndarray, offsets: np.ndarray, window: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the window mean and the sums of squared and cubed deviations from it.

    One pass over each window summing the powers of its values' deviations from its first
    value (exact for nearby values: a level of 1e9 costs no digits of the spread), then the
    central moments from them. The spread sums are exactly 0 when all ``window`` values are
    equal, so "zero variance" can be tested with ``== 0`` rather than a tolerance.
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
