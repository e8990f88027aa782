"""Momentum: close-to-close returns over several windows, log returns, 12-1 momentum, RSI."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from assets.features.library.spec import Family, FeatureSpec, Panel, Values, lag
from assets.features.library.wilder import rsi_reach, wilder_rsi_nb

RETURN_WINDOWS = (1, 5, 10, 20, 60, 120, 252)
LOG_RETURN_WINDOWS = (1, 5, 20)
RSI_PERIOD = 14
SKIP, YEAR = 21, 252

SPECS = (
    *(
        FeatureSpec(
            f"ret_{k}",
            f"Close-to-close return over {k} session{'s' * (k > 1)}: close / close[t-{k}] - 1.",
            ("close",),
            k + 1,
        )
        for k in RETURN_WINDOWS
    ),
    *(
        FeatureSpec(
            f"log_ret_{k}",
            f"Log return over {k} session{'s' * (k > 1)}: ln(close / close[t-{k}]).",
            ("close",),
            k + 1,
        )
        for k in LOG_RETURN_WINDOWS
    ),
    FeatureSpec(
        "mom_252_21",
        "12-1 momentum: close[t-21] / close[t-252] - 1 (the last month left out).",
        ("close",),
        YEAR + 1,
    ),
    FeatureSpec(
        f"rsi_{RSI_PERIOD}",
        f"Wilder's {RSI_PERIOD}-session relative strength index, 0..100 (50 when flat); "
        "finite-memory smoothing.",
        ("close",),
        RSI_PERIOD + 1,
        rsi_reach(RSI_PERIOD),
    ),
)


def compute(panel: Panel) -> Mapping[str, Values]:
    """Return the momentum features' raw values."""
    close = panel.close
    past = {k: lag(close, k, bar=panel.bar) for k in {*RETURN_WINDOWS, *LOG_RETURN_WINDOWS, SKIP}}
    return {
        **{f"ret_{k}": close / past[k] - 1.0 for k in RETURN_WINDOWS},
        **{f"log_ret_{k}": np.log(close / past[k]) for k in LOG_RETURN_WINDOWS},
        "mom_252_21": past[SKIP] / past[YEAR] - 1.0,
        f"rsi_{RSI_PERIOD}": wilder_rsi_nb(close, panel.offsets, panel.restart, RSI_PERIOD),
    }


FAMILY = Family("momentum", SPECS, compute)
