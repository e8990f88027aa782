"""Momentum and trend features against slow, obvious per-symbol oracles (plain Python loops).

The bars mix symbols of different lengths (a full year and more, a few weeks, a single bar), a
flat stretch, a missing open and a missing volume, in shuffled row order. The helpers here are
shared by the other feature-library test files.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Callable

import numpy as np
import polars as pl
import pytest

from assets.features.compute import compute_features
from assets.features.library.registry import BAR_FAMILIES

NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
LENGTHS = {"AAA": 300, "BBB": 45, "CCC": 1, "DDD": 270}
Series = list[float | None]
Oracle = Callable[[dict[str, list]], Series]


def make_bars(
    lengths: dict[str, int], *, seed: int, flat: tuple[int, int] = (0, 0)
) -> pl.DataFrame:
    """Return curated-like bars: each symbol its own length, shuffled rows.

    Rows ``flat[0]:flat[1]`` of every symbol repeat one price and volume (zero variance and zero
    range there); bar 30 has no open and bar 40 no volume.
    """
    rng = np.random.default_rng(seed)
    frames = []
    for symbol, n in lengths.items():
        close = 20 * np.exp(np.cumsum(rng.normal(0, 0.03, n)))
        high = close * (1 + rng.uniform(0.001, 0.04, n))
        low = close * (1 - rng.uniform(0.001, 0.04, n))
        open_ = low + (high - low) * rng.uniform(0, 1, n)
        volume = rng.integers(1_000, 50_000, n).astype(float)
        a, b = flat
        level = close[min(a, n - 1)]
        for column in (close, high, low, open_):
            column[a:b] = level
        volume[a:b] = 7_000.0
        frame = pl.DataFrame(
            {
                "symbol": symbol,
                "session": [dt.date(2020, 1, 1) + dt.timedelta(days=t) for t in range(n)],
                "open": [None if t == 30 else v for t, v in enumerate(open_)],
                "high": high,
                "low": low,
                "close": close,
                "volume": [None if t == 40 else v for t, v in enumerate(volume)],
            },
            schema_overrides={"open": pl.Float64, "volume": pl.Float64},
        )
        frames.append(frame)
    bars = pl.concat(frames).with_columns(knowledge_time=pl.lit(NOW - dt.timedelta(days=1)))
    return bars.sample(fraction=1.0, shuffle=True, seed=seed)


def symbol_columns(bars: pl.DataFrame, symbol: str) -> dict[str, list]:
    """Return one symbol's bars as plain lists, oldest first."""
    mine = bars.filter(pl.col("symbol") == symbol).sort("session")
    return {c: mine.get_column(c).to_list() for c in ("open", "high", "low", "close", "volume")}


def assert_matches(got: Series, want: Series, label: object) -> None:
    """Nulls exactly where the oracle has None; values equal to 1e-9 (relative) elsewhere."""
    assert [v is None for v in got] == [v is None for v in want], label
    pairs = [(g, w) for g, w in zip(got, want, strict=True) if w is not None]
    assert [g for g, _ in pairs] == pytest.approx([w for _, w in pairs], rel=1e-9, abs=1e-12), label


def check_oracles(oracles: dict[str, Oracle], *, flat: tuple[int, int]) -> None:
    """Compare each named feature with its oracle for every symbol of the standard bars."""
    bars = make_bars(LENGTHS, seed=11, flat=flat)
    features = compute_features(bars, known_at=NOW)
    for symbol in LENGTHS:
        bars_of = symbol_columns(bars, symbol)
        mine = features.filter(pl.col("symbol") == symbol).sort("session")
        for name, oracle in oracles.items():
            assert_matches(mine.get_column(name).to_list(), oracle(bars_of), (symbol, name))


def windowed(n: int, lookback: int, value: Callable[[int], float | None]) -> Series:
    """Return ``value(t)`` from bar ``lookback - 1`` on, None before."""
    return [value(t) if t >= lookback - 1 else None for t in range(n)]


# -- momentum ----------------------------------------------------------------------------------


def ret(k: int) -> Oracle:
    return lambda b: windowed(
        len(b["close"]), k + 1, lambda t: b["close"][t] / b["close"][t - k] - 1
    )


def log_ret(k: int) -> Oracle:
    c = "close"
    return lambda b: windowed(len(b[c]), k + 1, lambda t: math.log(b[c][t] / b[c][t - k]))


def momentum_12_1(b: dict[str, list]) -> Series:
    c = b["close"]
    return windowed(len(c), 253, lambda t: c[t - 21] / c[t - 252] - 1)


def wilder_average(values: list[float], period: int) -> list[float | None]:
    """Wilder's average of ``values``: the mean of the first ``period``, then smoothed."""
    out: list[float | None] = [None] * len(values)
    if len(values) < period:
        return out
    avg = sum(values[:period]) / period
    out[period - 1] = avg
    for i in range(period, len(values)):
        avg = (avg * (period - 1) + values[i]) / period
        out[i] = avg
    return out


def rsi_14(b: dict[str, list]) -> Series:
    c = b["close"]
    changes = [c[t] - c[t - 1] for t in range(1, len(c))]
    gains = wilder_average([max(x, 0.0) for x in changes], 14)
    losses = wilder_average([max(-x, 0.0) for x in changes], 14)
    out: Series = [None]
    for g, loss in zip(gains, losses, strict=True):
        if g is None:
            out.append(None)
        elif loss == 0:
            out.append(100.0 if g > 0 else 50.0)
        else:
            out.append(100 - 100 / (1 + g / loss))
    return out


# -- trend -------------------------------------------------------------------------------------


def ema(values: list[float | None], span: int) -> list[float | None]:
    """EMA seeded with the mean of the first ``span`` values, as a closed-form weighted sum."""
    out: list[float | None] = [None] * len(values)
    first = next((i for i, v in enumerate(values) if v is not None), len(values))
    seed_at = first + span - 1
    if seed_at >= len(values):
        return out
    alpha, seed = 2 / (span + 1), statistics.fmean(values[first : seed_at + 1])
    for t in range(seed_at, len(values)):
        weights = [alpha * (1 - alpha) ** (t - j) for j in range(seed_at + 1, t + 1)]
        rest = sum(w * values[j] for w, j in zip(weights, range(seed_at + 1, t + 1), strict=True))
        out[t] = (1 - alpha) ** (t - seed_at) * seed + rest
    return out


def ema_ratio(k: int) -> Oracle:
    def oracle(b: dict[str, list]) -> Series:
        e = ema(b["close"], k)
        return [None if v is None else c / v - 1 for c, v in zip(b["close"], e, strict=True)]

    return oracle


def ma_ratio(k: int) -> Oracle:
    c = "close"
    return lambda b: windowed(
        len(b[c]), k, lambda t: b[c][t] / statistics.fmean(b[c][t - k + 1 : t + 1]) - 1
    )


def macd_parts(b: dict[str, list]) -> tuple[Series, Series]:
    fast, slow = ema(b["close"], 12), ema(b["close"], 26)
    line = [None if s is None else f - s for f, s in zip(fast, slow, strict=True)]
    return line, ema(line, 9)


def macd(part: str) -> Oracle:
    def oracle(b: dict[str, list]) -> Series:
        line, signal = macd_parts(b)
        out: Series = []
        for c, m, s in zip(b["close"], line, signal, strict=True):
            value = {"macd": m, "macd_signal": s, "macd_hist": None if s is None else m - s}[part]
            out.append(None if value is None else value / c)
        return out

    return oracle


def directional(b: dict[str, list]) -> tuple[list[float], list[float], list[float]]:
    """True range, +DM and -DM of bars 1.. (bar 0 has no previous bar)."""
    h, lo, c = b["high"], b["low"], b["close"]
    tr, plus, minus = [], [], []
    for t in range(1, len(c)):
        tr.append(max(h[t] - lo[t], abs(h[t] - c[t - 1]), abs(lo[t] - c[t - 1])))
        up, down = h[t] - h[t - 1], lo[t - 1] - lo[t]
        plus.append(up if up > down and up > 0 else 0.0)
        minus.append(down if down > up and down > 0 else 0.0)
    return tr, plus, minus


def wilder_sums(values: list[float], period: int) -> list[float | None]:
    """Wilder's running sums: the plain sum of the first ``period``, then S - S/period + x."""
    out = [v if v is None else v * period for v in wilder_average(values, period)]
    return out


def adx_parts(b: dict[str, list]) -> tuple[Series, Series]:
    tr, plus, minus = (wilder_sums(x, 14) for x in directional(b))
    di_diff: Series = [None]
    dx: list[float] = []
    for t, p, m in zip(tr, plus, minus, strict=True):
        if t is None:
            di_diff.append(None)
            continue
        di_diff.append((p - m) / t if t > 0 else None)
        dx.append(100 * abs(p - m) / (p + m) if p + m > 0 else 0.0)
    adx = wilder_average(dx, 14)
    return [None] * (len(b["close"]) - len(adx)) + adx, di_diff


ORACLES: dict[str, Oracle] = {
    **{f"ret_{k}": ret(k) for k in (1, 5, 10, 20, 60, 120, 252)},
    **{f"log_ret_{k}": log_ret(k) for k in (1, 5, 20)},
    "mom_252_21": momentum_12_1,
    "rsi_14": rsi_14,
    **{f"ma_ratio_{k}": ma_ratio(k) for k in (5, 10, 20, 50, 200)},
    **{f"ema_ratio_{k}": ema_ratio(k) for k in (12, 26, 50)},
    **{part: macd(part) for part in ("macd", "macd_signal", "macd_hist")},
    "adx_14": lambda b: adx_parts(b)[0],
    "di_diff_14": lambda b: adx_parts(b)[1],
}


def test_every_momentum_and_trend_feature_has_an_oracle() -> None:
    declared = [s.name for f in BAR_FAMILIES if f.name in ("momentum", "trend") for s in f.specs]
    assert sorted(declared) == sorted(ORACLES)


@pytest.mark.parametrize("flat", [(0, 0), (60, 90)], ids=["random", "flat-stretch"])
def test_momentum_and_trend_features_match_their_oracles(flat: tuple[int, int]) -> None:
    check_oracles(ORACLES, flat=flat)
