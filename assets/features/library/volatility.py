"""Volatility: realized volatility of log returns, Parkinson and Garman-Klass range estimators,
Wilder's ATR, and the skew of returns. Volatilities are annualized by sqrt(252)."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from assets.features.library.rolling import rolling_moments_nb, rolling_sum_nb
from assets.features.library.spec import ANNUALIZE, Family, FeatureSpec, Panel, Values, lag
from assets.features.library.wilder import rsi_reach, wilder_atr_nb

VOL_WINDOWS = (5, 20, 60)
SKEW_WINDOWS = (20, 60)
RANGE_WINDOW = 20
ATR_PERIOD = 14
_GK_OPEN_CLOSE = 2.0 * math.log(2.0) - 1.0

SPECS = (
    *(
        FeatureSpec(
            f"vol_{k}",
            f"Sample std of the last {k} daily log returns, annualized by sqrt(252).",
            ("close",),
            k + 1,
        )
        for k in VOL_WINDOWS
    ),
    FeatureSpec(
        f"parkinson_{RANGE_WINDOW}",
        f"Parkinson high-low volatility over {RANGE_WINDOW} sessions, annualized by sqrt(252).",
        ("high", "low"),
        RANGE_WINDOW,
    ),
    FeatureSpec(
        f"garman_klass_{RANGE_WINDOW}",
        f"Garman-Klass volatility sqrt(mean(ln(H/L)^2 / 2 - (2 ln 2 - 1) ln(C/O)^2)) over "
        f"{RANGE_WINDOW} sessions, annualized by sqrt(252).",
        ("open", "high", "low", "close"),
        RANGE_WINDOW,
    ),
    FeatureSpec(
        f"atr_{ATR_PERIOD}",
        f"Wilder's {ATR_PERIOD}-session average true range divided by the close; "
        "finite-memory smoothing.",
        ("high", "low", "close"),
        ATR_PERIOD + 1,
        rsi_reach(ATR_PERIOD),  # true ranges read the previous close, as RSI's changes do
    ),
    *(
        FeatureSpec(
            f"skew_{k}",
            f"Adjusted Fisher-Pearson skewness of the last {k} daily log returns; null when "
            "they are all equal.",
            ("close",),
            k + 1,
        )
        for k in SKEW_WINDOWS
    ),
)


def _skew(m2: np.ndarray, m3: np.ndarray, n: int) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        g1 = np.where(m2 > 0.0, (m3 / n) / (m2 / n) ** 1.5, np.nan)
    return g1 * math.sqrt(n * (n - 1)) / (n - 2)


def compute(panel: Panel) -> Mapping[str, Values]:
    """Return the volatility features' raw values."""
    close, offsets = panel.close, panel.offsets
    returns = np.log(close / lag(close, 1, bar=panel.bar))
    moments = {k: rolling_moments_nb(returns, offsets, k) for k in {*VOL_WINDOWS, *SKEW_WINDOWS}}
    range_sq = np.log(panel.high / panel.low) ** 2
    gk = 0.5 * range_sq - _GK_OPEN_CLOSE * np.log(close / panel.open) ** 2
    with np.errstate(invalid="ignore"):  # a negative GK mean (open outside the range): NaN
        gk_vol = np.sqrt(rolling_sum_nb(gk, offsets, RANGE_WINDOW) / RANGE_WINDOW)
    park = rolling_sum_nb(range_sq, offsets, RANGE_WINDOW) / (RANGE_WINDOW * 4.0 * math.log(2.0))
    atr = wilder_atr_nb(panel.high, panel.low, close, offsets, panel.restart, ATR_PERIOD)
    return {
        **{f"vol_{k}": np.sqrt(moments[k][1] / (k - 1)) * ANNUALIZE for k in VOL_WINDOWS},
        f"parkinson_{RANGE_WINDOW}": np.sqrt(park) * ANNUALIZE,
        f"garman_klass_{RANGE_WINDOW}": gk_vol * ANNUALIZE,
        f"atr_{ATR_PERIOD}": atr / close,
        **{f"skew_{k}": _skew(moments[k][1], moments[k][2], k) for k in SKEW_WINDOWS},
    }


FAMILY = Family("volatility", SPECS, compute)
