"""Where the close sits in a range: stochastic %K, Bollinger %B and bandwidth, distance to the
52-week high and low, and the worst drawdown over a window."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from assets.features.library.rolling import (
    rolling_drawdown_nb,
    rolling_max_nb,
    rolling_min_nb,
    rolling_moments_nb,
)
from assets.features.library.spec import Family, FeatureSpec, Panel, Values, safe_ratio

STOCH, BOLLINGER, BAND_WIDTH, YEAR, DRAWDOWN = 14, 20, 2.0, 252, 60

SPECS = (
    FeatureSpec(
        f"stoch_k_{STOCH}",
        f"Stochastic %K: (close - {STOCH}-session low) / (high - low of the window), 0..1; "
        "null when the range is zero.",
        ("high", "low", "close"),
        STOCH,
    ),
    FeatureSpec(
        f"bb_pct_b_{BOLLINGER}",
        f"Bollinger %B: close within the {BOLLINGER}-session SMA +- 2 population std band "
        "(0 lower, 1 upper); null when the std is zero.",
        ("close",),
        BOLLINGER,
    ),
    FeatureSpec(
        f"bb_width_{BOLLINGER}",
        f"Bollinger bandwidth: 4 population std of {BOLLINGER} closes over their SMA.",
        ("close",),
        BOLLINGER,
    ),
    FeatureSpec(
        f"dist_high_{YEAR}",
        f"Close over the highest high of the last {YEAR} sessions, minus 1 (<= 0).",
        ("high", "close"),
        YEAR,
    ),
    FeatureSpec(
        f"dist_low_{YEAR}",
        f"Close over the lowest low of the last {YEAR} sessions, minus 1 (>= 0).",
        ("low", "close"),
        YEAR,
    ),
    FeatureSpec(
        f"max_drawdown_{DRAWDOWN}",
        f"Largest peak-to-trough fall 1 - trough / peak of the close within the last "
        f"{DRAWDOWN} sessions, 0..1.",
        ("close",),
        DRAWDOWN,
    ),
)


def compute(panel: Panel) -> Mapping[str, Values]:
    """Return the range-position features' raw values."""
    close, offsets = panel.close, panel.offsets
    highest = rolling_max_nb(panel.high, offsets, STOCH)
    lowest = rolling_min_nb(panel.low, offsets, STOCH)
    mean, m2, _ = rolling_moments_nb(close, offsets, BOLLINGER)
    band = 2.0 * BAND_WIDTH * np.sqrt(m2 / BOLLINGER)  # upper minus lower band
    return {
        f"stoch_k_{STOCH}": safe_ratio(close - lowest, highest - lowest),
        f"bb_pct_b_{BOLLINGER}": safe_ratio(close - (mean - band / 2.0), band),
        f"bb_width_{BOLLINGER}": band / mean,
        f"dist_high_{YEAR}": close / rolling_max_nb(panel.high, offsets, YEAR) - 1.0,
        f"dist_low_{YEAR}": close / rolling_min_nb(panel.low, offsets, YEAR) - 1.0,
        f"max_drawdown_{DRAWDOWN}": rolling_drawdown_nb(close, offsets, DRAWDOWN),
    }


FAMILY = Family("position", SPECS, compute)
