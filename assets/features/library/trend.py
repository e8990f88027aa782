"""Trend: moving-average and EMA ratios, MACD (price-normalised), Wilder's ADX and DI spread."""

from __future__ import annotations

from collections.abc import Mapping

from assets.features.library.rolling import rolling_sum_nb
from assets.features.library.smoothing import ema_nb, ema_settle, reach_of
from assets.features.library.spec import Family, FeatureSpec, Panel, Values
from assets.features.library.wilder import adx_reach, rsi_reach, wilder_adx_nb

MA_WINDOWS = (5, 10, 20, 50, 200)
EMA_SPANS = (12, 26, 50)
MACD_FAST, MACD_SLOW, MACD_SIGNAL = 12, 26, 9
ADX_PERIOD = 14
OHLC = ("high", "low", "close")
_SIGNAL_LOOKBACK = MACD_SLOW + MACD_SIGNAL - 1
_LINE_REACH = reach_of(ema_settle(MACD_SLOW))
_SIGNAL_REACH = reach_of(ema_settle(MACD_SIGNAL), input_reach=_LINE_REACH)

SPECS = (
    *(
        FeatureSpec(
            f"ma_ratio_{k}",
            f"Close over its {k}-session simple moving average, minus 1.",
            ("close",),
            k,
        )
        for k in MA_WINDOWS
    ),
    *(
        FeatureSpec(
            f"ema_ratio_{k}",
            f"Close over its {k}-session EMA (alpha 2/{k + 1}, seeded with {k} closes' mean, "
            "finite memory), minus 1.",
            ("close",),
            k,
            reach_of(ema_settle(k)),
        )
        for k in EMA_SPANS
    ),
    FeatureSpec(
        "macd",
        f"MACD line EMA{MACD_FAST} - EMA{MACD_SLOW} of the close, divided by the close.",
        ("close",),
        MACD_SLOW,
        _LINE_REACH,
    ),
    FeatureSpec(
        "macd_signal",
        f"MACD signal line (EMA{MACD_SIGNAL} of the MACD line), divided by the close.",
        ("close",),
        _SIGNAL_LOOKBACK,
        _SIGNAL_REACH,
    ),
    FeatureSpec(
        "macd_hist",
        "MACD histogram (MACD line minus signal line), divided by the close.",
        ("close",),
        _SIGNAL_LOOKBACK,
        _SIGNAL_REACH,
    ),
    FeatureSpec(
        f"adx_{ADX_PERIOD}",
        f"Wilder's {ADX_PERIOD}-session average directional index, 0..100 (trend strength).",
        OHLC,
        2 * ADX_PERIOD,
        adx_reach(ADX_PERIOD),
    ),
    FeatureSpec(
        f"di_diff_{ADX_PERIOD}",
        f"Wilder's (+DI - -DI) / 100 over {ADX_PERIOD} sessions, -1..1 (trend direction).",
        OHLC,
        ADX_PERIOD + 1,
        rsi_reach(ADX_PERIOD),
    ),
)


def compute(panel: Panel) -> Mapping[str, Values]:
    """Return the trend features' raw values."""
    close, offsets, restart = panel.close, panel.offsets, panel.restart
    ema = {k: ema_nb(close, offsets, restart, k) for k in {*EMA_SPANS, MACD_FAST, MACD_SLOW}}
    line = ema[MACD_FAST] - ema[MACD_SLOW]
    signal = ema_nb(line, offsets, restart, MACD_SIGNAL)
    adx, di_diff = wilder_adx_nb(panel.high, panel.low, close, offsets, restart, ADX_PERIOD)
    return {
        **{
            f"ma_ratio_{k}": close / (rolling_sum_nb(close, offsets, k) / k) - 1.0
            for k in MA_WINDOWS
        },
        **{f"ema_ratio_{k}": close / ema[k] - 1.0 for k in EMA_SPANS},
        "macd": line / close,
        "macd_signal": signal / close,
        "macd_hist": (line - signal) / close,
        f"adx_{ADX_PERIOD}": adx,
        f"di_diff_{ADX_PERIOD}": di_diff,
    }


FAMILY = Family("trend", SPECS, compute)
