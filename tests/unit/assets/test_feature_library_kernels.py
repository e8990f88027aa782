"""The numba kernels on hand-computed values, NaN windows, group restarts and long histories."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from assets.features.library.rolling import (
    rolling_drawdown_nb,
    rolling_max_nb,
    rolling_min_nb,
    rolling_moments_nb,
    rolling_sum_nb,
)
from assets.features.library.smoothing import BLOCK_DAYS, ema_nb, ema_settle, restarts_of
from assets.features.library.wilder import wilder_adx_nb, wilder_atr_nb

NAN = np.nan


def _one(x: list[float]) -> tuple[np.ndarray, np.ndarray]:
    return np.array(x, dtype=np.float64), np.array([0, len(x)], dtype=np.int64)


def _calm(n: int) -> np.ndarray:
    """Return restart flags for ``n`` rows in one calendar block (no restart)."""
    return np.zeros(n, dtype=np.bool_)


def test_rolling_sum_is_nan_in_the_warm_up_and_wherever_the_window_holds_a_nan() -> None:
    x, offsets = _one([1.0, 2.0, NAN, 4.0, 5.0, 6.0, 7.0])
    got = rolling_sum_nb(x, offsets, 2)
    np.testing.assert_array_equal(got, [NAN, 3.0, NAN, NAN, 9.0, 11.0, 13.0])


def test_rolling_kernels_restart_at_each_symbol() -> None:
    x = np.array([1.0, 2.0, 3.0, 10.0, 20.0, 30.0, 40.0])
    offsets = np.array([0, 3, 7], dtype=np.int64)
    np.testing.assert_array_equal(
        rolling_sum_nb(x, offsets, 2), [NAN, 3.0, 5.0, NAN, 30.0, 50.0, 70.0]
    )
    np.testing.assert_array_equal(
        rolling_max_nb(x, offsets, 3), [NAN, NAN, 3.0, NAN, NAN, 30.0, 40.0]
    )
    np.testing.assert_array_equal(
        ema_nb(x, offsets, _calm(7), 3), [NAN, NAN, 2.0, NAN, NAN, 20.0, 30.0]
    )


def test_rolling_max_and_min_with_ties_and_a_nan() -> None:
    x, offsets = _one([3.0, 1.0, 3.0, 2.0, NAN, 5.0, 0.5, 0.5])
    np.testing.assert_array_equal(
        rolling_max_nb(x, offsets, 3), [NAN, NAN, 3.0, 3.0, NAN, NAN, NAN, 5.0]
    )
    np.testing.assert_array_equal(
        rolling_min_nb(x, offsets, 2), [NAN, 1.0, 1.0, 2.0, NAN, NAN, 0.5, 0.5]
    )


def _exact_moments(window: np.ndarray) -> tuple[float, float, float]:
    values = [Fraction(float(v)) for v in window]
    mean = sum(values) / len(values)
    return (
        float(mean),
        float(sum((v - mean) ** 2 for v in values)),
        float(sum((v - mean) ** 3 for v in values)),
    )


def test_moments_stay_exact_over_a_long_history_whose_level_changes() -> None:
    # Sums anchored at the first value (1e9) would lose every digit once the level drops to
    # ~1: the kernel re-anchors each window's sums every ``window`` bars.
    rng = np.random.default_rng(1)
    x = rng.normal(0, 1, 5_000)
    x[:100] += 1e9
    x[3_000:3_050] = 0.1  # a flat stretch: exactly zero spread there
    mean, m2, m3 = rolling_moments_nb(x, np.array([0, x.size], dtype=np.int64), 20)
    assert np.isnan(mean[:19]).all()
    for t in [*range(19, x.size, 23), x.size - 1]:
        want = _exact_moments(x[t - 19 : t + 1])
        assert (mean[t], m2[t], m3[t]) == pytest.approx(want, rel=1e-9, abs=1e-9), t
    assert (m2[3_019:3_050] == 0.0).all() and (m3[3_019:3_050] == 0.0).all()
    assert (m2[3_050:] > 0.0).all()


def test_ema_hand_computed() -> None:
    # Span 3: alpha 0.5, seeded with the mean of the first three values (after leading NaNs).
    x, offsets = _one([NAN, 1.0, 2.0, 3.0, 4.0, 5.0])
    np.testing.assert_array_equal(ema_nb(x, offsets, _calm(6), 3), [NAN, NAN, NAN, 2.0, 3.0, 4.0])


def test_drawdown_hand_computed() -> None:
    x, offsets = _one([10.0, 12.0, 9.0, 11.0, 6.0, 8.0, 13.0, 14.0])
    got = rolling_drawdown_nb(x, offsets, 4)
    # Windows of 4: 12 -> 9; 12 -> 6; 11 -> 6; 11 -> 6; then 6, 8, 13, 14 only rise.
    want = [NAN, NAN, NAN, 0.25, 0.5, 1 - 6 / 11, 1 - 6 / 11, 0.0]
    np.testing.assert_allclose(got, want, rtol=1e-15)


def test_atr_hand_computed() -> None:
    # Period 2 (bar 0 has no previous close, so no true range).
    high = np.array([11.0, 12.0, 11.0, 13.0, 11.0])
    low = np.array([9.0, 10.0, 9.0, 10.0, 10.0])
    close = np.array([10.0, 9.0, 10.0, 12.0, 11.0])
    atr = wilder_atr_nb(high, low, close, np.array([0, 5], dtype=np.int64), _calm(5), 2)
    # TR1 = max(2, |12-10|, |10-10|) = 2; TR2 = max(2, |11-9|, |9-9|) = 2;
    # TR3 = max(3, |13-10|, |10-10|) = 3; TR4 = max(1, |11-12|, |10-12|) = 2.
    # ATR2 = (2+2)/2 = 2; ATR3 = (2*1+3)/2 = 2.5; ATR4 = (2.5+2)/2 = 2.25.
    np.testing.assert_array_equal(atr, [NAN, NAN, 2.0, 2.5, 2.25])


def test_adx_hand_computed() -> None:
    # Period 2. Bar 1: up 1, down -1 -> +DM 1; bar 2: up -2, down 2 -> -DM 2;
    # bar 3: up 3, down -1 -> +DM 3. True ranges 2, 3, 4.
    high = np.array([10.0, 11.0, 9.0, 12.0])
    low = np.array([8.0, 9.0, 7.0, 8.0])
    close = np.array([9.0, 10.0, 8.0, 11.0])
    adx, di_diff = wilder_adx_nb(high, low, close, np.array([0, 4], dtype=np.int64), _calm(4), 2)
    # Bar 2: sums TR 2+3 = 5, +DM 1, -DM 2 -> (+DI - -DI)/100 = -1/5, DX = 100 * 1/3.
    # Bar 3: TR 5 - 2.5 + 4 = 6.5 (TR3 = max(4, |12-8|, |8-8|) = 4), +DM 0.5 + 3 = 3.5,
    # -DM 2 - 1 = 1 -> di_diff 2.5/6.5, DX = 100 * 2.5/4.5; ADX = mean(DX2, DX3).
    assert np.isnan(di_diff[:2]).all() and np.isnan(adx[:3]).all()
    assert di_diff[2:] == pytest.approx([-0.2, 2.5 / 6.5])
    assert adx[3] == pytest.approx((100 / 3 + 100 * 2.5 / 4.5) / 2)


def _restart_oracle(x: list[float], day: list[int], span: int, settle: int) -> list[float]:
    """The finite-memory EMA by its definition: for each bar, the restart that serves it (the
    latest block start at least ``settle`` bars back, else the first bar), then the textbook
    seed and recursion from there, one bar at a time."""
    alpha, out = 2.0 / (span + 1.0), []
    starts = [0] + [i for i in range(1, len(x)) if day[i] // BLOCK_DAYS != day[i - 1] // BLOCK_DAYS]
    for t in range(len(x)):
        r = max(s for s in starts if s == 0 or s + settle - 1 <= t)
        if t < r + span - 1:
            out.append(NAN)
            continue
        value = 0.0
        for j in range(r, r + span):
            value += x[j]
        value /= span
        for i in range(r + span, t + 1):
            value = alpha * x[i] + (1.0 - alpha) * value
        out.append(value)
    return out


def test_finite_memory_ema_follows_its_definition_and_the_textbook_within_1e_12() -> None:
    rng = np.random.default_rng(4)
    n, span = 1_500, 12
    x = 50.0 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
    day = np.cumsum(rng.integers(1, 4, n))  # sessions with weekends and holidays between
    offsets = np.array([0, n], dtype=np.int64)
    restart = restarts_of(day, np.arange(n))
    got = ema_nb(x, offsets, restart, span)
    assert restart.sum() > 10  # the smoothing restarts many times in this history
    want = _restart_oracle(x.tolist(), day.tolist(), span, ema_settle(span))
    np.testing.assert_array_equal(got, want)
    textbook = ema_nb(x, offsets, _calm(n), span)
    np.testing.assert_allclose(got[span - 1 :], textbook[span - 1 :], rtol=1e-12, atol=0)
