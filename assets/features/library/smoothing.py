"""Exponential smoothing with finite memory: EMA and Wilder's average, restarted on a calendar grid.

A textbook EMA remembers every bar since its seed, so its last bits depend on where the
computation began: a session computed from a 1,000-session read differs from the same session
inside a backfill. Here the smoothing restarts at the first bar of every ``BLOCK_DAYS``-day block
of the calendar (days since 1970, the same blocks for every symbol and every read), and the
value at bar t comes from the latest restart at least ``settle`` bars back (t included): the
seed (the mean of the first ``seed`` values from the restart), then the recursion, in the same
operations whatever came before. Only the symbol's own first bars (before its first restart has
run ``settle`` bars) use the seed at the symbol's first value, as the textbook does.

``settle`` is chosen so that the weight the textbook EMA gives to everything before the
restart, ``(1 - alpha) ** (settle - seed)``, is below ``TRUNCATION`` (1e-12): the values agree
with the textbook's to that relative order (docs/decisions.md, 17).

A value thus depends on between ``settle`` and ``settle + BLOCK_DAYS`` bars; ``reach_of`` gives
the bound. A read holding that many bars before a session gives that session's value bit for bit.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

BLOCK_DAYS = 91  # 13 weeks; at most one bar per symbol per day, so at most 91 bars a block
TRUNCATION = 1e-12
LANES = 8


def settle_of(alpha: float, seed: int) -> int:
    """Return the bars a restart runs before it serves: the seed, then until everything older
    weighs less than TRUNCATION."""
    return seed + math.ceil(math.log(TRUNCATION) / math.log(1.0 - alpha))


def reach_of(settle: int, *, input_reach: int = 1) -> int:
    """Return how many bars (t included) a smoothed value depends on, at most, when its input
    at a bar depends on ``input_reach`` bars: the input's, one block until a restart, then
    ``settle``."""
    return input_reach - 1 + BLOCK_DAYS + settle


def restarts_of(day: np.ndarray, bar: np.ndarray) -> np.ndarray:
    """Return which rows start a new calendar block of their symbol (never a symbol's first)."""
    block = day // BLOCK_DAYS
    restart = np.zeros(day.shape[0], dtype=np.bool_)
    restart[1:] = block[1:] != block[:-1]
    restart[bar == 0] = False
    return restart


@njit(cache=True)
def _runs(
    x: np.ndarray,
    starts: np.ndarray,
    lows: np.ndarray,
    highs: np.ndarray,
    seed: int,
    alpha: float,
    out: np.ndarray,
) -> None:
    # Each run k: seed at starts[k] (the mean of the next ``seed`` values), recurse, and write
    # rows [lows[k], highs[k]). LANES runs advance side by side, their values laid out across a
    # row of ``lane``: one recursion waits on each step's result, LANES independent ones
    # vectorize. Every run does the same operations as it would alone.
    keep = 1.0 - alpha
    value = np.empty(LANES)
    for b in range(0, starts.shape[0], LANES):
        m = min(LANES, starts.shape[0] - b)
        length = 0
        for lane in range(m):
            length = max(length, highs[b + lane] - starts[b + lane])
        lane_x = np.zeros((length, LANES))
        for lane in range(m):
            r = starts[b + lane]
            lane_x[: highs[b + lane] - r, lane] = x[r : highs[b + lane]]
        lane_v = np.empty((length, LANES))
        for lane in range(LANES):
            value[lane] = 0.0
        for j in range(seed):
            for lane in range(LANES):
                value[lane] += lane_x[j, lane]
        for lane in range(LANES):
            value[lane] /= seed
            lane_v[seed - 1, lane] = value[lane]
        for j in range(seed, length):
            for lane in range(LANES):
                value[lane] = alpha * lane_x[j, lane] + keep * value[lane]
                lane_v[j, lane] = value[lane]
        for lane in range(m):
            r = starts[b + lane]
            lo = max(lows[b + lane], r + seed - 1)
            out[lo : highs[b + lane]] = lane_v[lo - r : highs[b + lane] - r, lane]


@njit(cache=True)
def _smooth_group(
    x: np.ndarray,
    restart: np.ndarray,
    start: int,
    end: int,
    seed: int,
    settle: int,
    alpha: float,
    out: np.ndarray,
) -> None:
    first = start
    while first < end and np.isnan(x[first]):
        first += 1
    if end - first < seed:
        return
    # Restart k serves the rows from r_k + settle - 1 until restart k + 1 takes over; the
    # symbol's first value serves the rows before the first restart past it takes over.
    count = 1
    for i in range(first + 1, end):
        count += restart[i]
    starts = np.empty(count, dtype=np.int64)
    starts[0] = first
    k = 1
    for i in range(first + 1, end):
        if restart[i]:
            starts[k] = i
            k += 1
    lows = np.empty(count, dtype=np.int64)
    highs = np.empty(count, dtype=np.int64)
    lows[0] = first + seed - 1
    for k in range(count):
        highs[k] = min(end, starts[k + 1] + settle - 1) if k + 1 < count else end
        if k > 0:
            lows[k] = max(highs[k - 1], starts[k] + settle - 1)
    keep = highs > lows
    _runs(x, starts[keep], lows[keep], highs[keep], seed, alpha, out)


@njit(cache=True, parallel=True)
def smooth_nb(
    x: np.ndarray,
    offsets: np.ndarray,
    restart: np.ndarray,
    seed: int,
    settle: int,
    alpha: float,
) -> np.ndarray:
    """Return the exponential smoothing ``v = alpha * x + (1 - alpha) * v`` of each symbol's rows,
    seeded with the mean of ``seed`` values, restarted and settled (see the module docstring).

    A symbol's leading NaN run is skipped (its first seed starts after it); a NaN after a seed
    makes that seed's values NaN. NaN before the first seed's ``seed`` values are complete.
    """
    out = np.full(x.shape[0], np.nan)
    for g in prange(offsets.shape[0] - 1):
        _smooth_group(x, restart, offsets[g], offsets[g + 1], seed, settle, alpha, out)
    return out


def ema_alpha(span: int) -> float:
    """Return the EMA weight of the newest value, ``2 / (span + 1)``."""
    return 2.0 / (span + 1.0)


def ema_settle(span: int) -> int:
    """Return the bars an EMA of ``span`` settles for after a restart."""
    return settle_of(ema_alpha(span), span)


def wilder_settle(period: int) -> int:
    """Return the bars Wilder's average over ``period`` settles for after a restart."""
    return settle_of(1.0 / period, period)


def ema_nb(x: np.ndarray, offsets: np.ndarray, restart: np.ndarray, span: int) -> np.ndarray:
    """Return the EMA with ``alpha = 2 / (span + 1)``, seeded with the mean of ``span`` values."""
    return smooth_nb(x, offsets, restart, span, ema_settle(span), ema_alpha(span))


def wilder_nb(x: np.ndarray, offsets: np.ndarray, restart: np.ndarray, period: int) -> np.ndarray:
    """Return Wilder's average (``alpha = 1 / period``), seeded with the mean of ``period``."""
    return smooth_nb(x, offsets, restart, period, wilder_settle(period), 1.0 / period)
