"""Volume and liquidity: volume z-score, on-balance-volume slope, Amihud illiquidity and the
average dollar volume. All are scale-free or logged, so symbols compare across sizes."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from assets.features.library.rolling import rolling_moments_nb, rolling_sum_nb
from assets.features.library.spec import Family, FeatureSpec, Panel, Values, lag, safe_ratio

WINDOW = 20
PER_MILLION = 1e6

SPECS = (
    FeatureSpec(
        f"volume_z_{WINDOW}",
        f"Volume z-score against the last {WINDOW} sessions' mean and sample std.",
        ("volume",),
        WINDOW,
    ),
    FeatureSpec(
        f"obv_slope_{WINDOW}",
        f"On-balance-volume change over {WINDOW} sessions per share traded: "
        "sum(sign(close - close[t-1]) * volume) / sum(volume), -1..1.",
        ("close", "volume"),
        WINDOW + 1,
    ),
    FeatureSpec(
        f"amihud_{WINDOW}",
        f"Amihud illiquidity over {WINDOW} sessions: sum |daily return| / sum dollar volume, "
        "per $1M traded (a ratio of sums, so a no-trade day stays finite).",
        ("close", "volume"),
        WINDOW + 1,
    ),
    FeatureSpec(
        f"log_dollar_volume_{WINDOW}",
        f"Natural log of the mean close * volume over {WINDOW} sessions.",
        ("close", "volume"),
        WINDOW,
    ),
)


def compute(panel: Panel) -> Mapping[str, Values]:
    """Return the volume features' raw values."""
    close, volume, offsets = panel.close, panel.volume, panel.offsets
    previous = lag(close, 1, bar=panel.bar)
    mean, m2, _ = rolling_moments_nb(volume, offsets, WINDOW)
    dollars = rolling_sum_nb(close * volume, offsets, WINDOW)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_dollars = np.log(dollars / WINDOW)
    return {
        f"volume_z_{WINDOW}": safe_ratio(volume - mean, np.sqrt(m2 / (WINDOW - 1))),
        f"obv_slope_{WINDOW}": safe_ratio(
            rolling_sum_nb(np.sign(close - previous) * volume, offsets, WINDOW),
            rolling_sum_nb(volume, offsets, WINDOW),
        ),
        f"amihud_{WINDOW}": PER_MILLION
        * safe_ratio(rolling_sum_nb(np.abs(close / previous - 1.0), offsets, WINDOW), dollars),
        f"log_dollar_volume_{WINDOW}": log_dollars,
    }


FAMILY = Family("volume", SPECS, compute)
