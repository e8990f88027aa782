"""Range-position, volatility and volume features against slow per-symbol oracles."""

from __future__ import annotations

import math
import statistics

import pytest

from assets.features.library.registry import BAR_FAMILIES
from tests.unit.assets.test_feature_library_oracle import (
    Oracle,
    Series,
    check_oracles,
    directional,
    wilder_average,
    windowed,
)

ANNUAL = math.sqrt(252)
Bars = dict[str, list]


def window(values: list, t: int, k: int) -> list:
    return values[t - k + 1 : t + 1]


def log_returns(b: Bars) -> list[float | None]:
    c = b["close"]
    return [None] + [math.log(c[t] / c[t - 1]) for t in range(1, len(c))]


def complete(values: list) -> bool:
    return all(v is not None for v in values)


# -- position in a range -----------------------------------------------------------------------


def stoch_k(b: Bars) -> Series:
    def value(t: int) -> float | None:
        high, low = max(window(b["high"], t, 14)), min(window(b["low"], t, 14))
        return None if high == low else (b["close"][t] - low) / (high - low)

    return windowed(len(b["close"]), 14, value)


def bollinger(part: str) -> Oracle:
    def value(b: Bars, t: int) -> float | None:
        closes = window(b["close"], t, 20)
        mean, sd = statistics.fmean(closes), statistics.pstdev(closes)
        if part == "width":
            return 4 * sd / mean
        return None if sd == 0 else (b["close"][t] - (mean - 2 * sd)) / (4 * sd)

    return lambda b: windowed(len(b["close"]), 20, lambda t: value(b, t))


def distance(column: str, pick: type[max] | type[min]) -> Oracle:
    c = "close"
    return lambda b: windowed(
        len(b[c]), 252, lambda t: b[c][t] / pick(window(b[column], t, 252)) - 1
    )


def max_drawdown(b: Bars) -> Series:
    def value(t: int) -> float:
        closes = window(b["close"], t, 60)
        falls = [1 - closes[j] / closes[i] for i in range(60) for j in range(i, 60)]
        return max(falls)

    return windowed(len(b["close"]), 60, value)


# -- volatility --------------------------------------------------------------------------------


def realized(k: int) -> Oracle:
    def oracle(b: Bars) -> Series:
        r = log_returns(b)
        return windowed(len(r), k + 1, lambda t: statistics.stdev(window(r, t, k)) * ANNUAL)

    return oracle


def parkinson(b: Bars) -> Series:
    def value(t: int) -> float:
        highs, lows = window(b["high"], t, 20), window(b["low"], t, 20)
        squares = [math.log(h / lo) ** 2 for h, lo in zip(highs, lows, strict=True)]
        return math.sqrt(statistics.fmean(squares) / (4 * math.log(2))) * ANNUAL

    return windowed(len(b["close"]), 20, value)


def garman_klass(b: Bars) -> Series:
    def value(t: int) -> float | None:
        columns = (window(b[c], t, 20) for c in ("open", "high", "low", "close"))
        bars = list(zip(*columns, strict=True))
        if not all(complete(bar) for bar in bars):
            return None
        terms = [
            0.5 * math.log(h / lo) ** 2 - (2 * math.log(2) - 1) * math.log(c / o) ** 2
            for o, h, lo, c in bars
        ]
        mean = statistics.fmean(terms)
        return None if mean < 0 else math.sqrt(mean) * ANNUAL

    return windowed(len(b["close"]), 20, value)


def atr(b: Bars) -> Series:
    true_range = directional(b)[0]
    atr_values = [None, *wilder_average(true_range, 14)]
    return [None if a is None else a / c for a, c in zip(atr_values, b["close"], strict=True)]


def skew(k: int) -> Oracle:
    def value(r: list, t: int) -> float | None:
        x = window(r, t, k)
        if len(set(x)) == 1:
            return None
        m = statistics.fmean(x)
        m2 = sum((v - m) ** 2 for v in x) / k
        m3 = sum((v - m) ** 3 for v in x) / k
        return m3 / m2**1.5 * math.sqrt(k * (k - 1)) / (k - 2)

    def oracle(b: Bars) -> Series:
        r = log_returns(b)
        return windowed(len(r), k + 1, lambda t: value(r, t))

    return oracle


# -- volume ------------------------------------------------------------------------------------


def volume_z(b: Bars) -> Series:
    def value(t: int) -> float | None:
        v = window(b["volume"], t, 20)
        if not complete(v) or statistics.stdev(v) == 0:
            return None
        return (v[-1] - statistics.fmean(v)) / statistics.stdev(v)

    return windowed(len(b["volume"]), 20, value)


def over_volume(kind: str) -> Oracle:
    """obv_slope, amihud or log_dollar_volume over the 20 bars ending at t."""

    def value(b: Bars, t: int) -> float | None:
        c, v = b["close"], window(b["volume"], t, 20)
        if not complete(v):
            return None
        rows = range(t - 19, t + 1)
        dollars = sum(c[i] * b["volume"][i] for i in rows)
        if kind == "log_dollar_volume":
            return math.log(dollars / 20) if dollars > 0 else None
        if kind == "obv_slope":
            signed = sum(
                math.copysign(1, c[i] - c[i - 1]) * b["volume"][i] for i in rows if c[i] != c[i - 1]
            )
            return signed / sum(v) if sum(v) else None
        moves = sum(abs(c[i] / c[i - 1] - 1) for i in rows)
        return 1e6 * moves / dollars if dollars else None

    lookback = 20 if kind == "log_dollar_volume" else 21
    return lambda b: windowed(len(b["close"]), lookback, lambda t: value(b, t))


ORACLES: dict[str, Oracle] = {
    "stoch_k_14": stoch_k,
    "bb_pct_b_20": bollinger("pct_b"),
    "bb_width_20": bollinger("width"),
    "dist_high_252": distance("high", max),
    "dist_low_252": distance("low", min),
    "max_drawdown_60": max_drawdown,
    **{f"vol_{k}": realized(k) for k in (5, 20, 60)},
    "parkinson_20": parkinson,
    "garman_klass_20": garman_klass,
    "atr_14": atr,
    **{f"skew_{k}": skew(k) for k in (20, 60)},
    "volume_z_20": volume_z,
    **{f"{kind}_20": over_volume(kind) for kind in ("obv_slope", "amihud", "log_dollar_volume")},
}


def test_every_position_volatility_and_volume_feature_has_an_oracle() -> None:
    families = ("position", "volatility", "volume")
    declared = [s.name for f in BAR_FAMILIES if f.name in families for s in f.specs]
    assert sorted(declared) == sorted(ORACLES)


@pytest.mark.parametrize("flat", [(0, 0), (60, 90)], ids=["random", "flat-stretch"])
def test_range_volatility_and_volume_features_match_their_oracles(flat: tuple[int, int]) -> None:
    check_oracles(ORACLES, flat=flat)
