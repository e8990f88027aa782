"""Point-in-time features and forward-return labels for all symbols at once (pure polars + numba).

Frames are sorted by (symbol, session) and every rolling expression runs ``over("symbol")``, so a
feature at session t reads only that symbol's bars at or before t. Lookbacks count the symbol's
own bars (a halted symbol's window reaches further back in calendar time). A value that needs
more bars than exist is null, never zero; an undefined value (a zero-variance window) is null too.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl

from assets.features.kernels import wilder_rsi_nb
from warehouse.schemas import FEATURE_COLUMNS

ANNUALIZE = math.sqrt(252.0)
RSI_PERIOD = 14

# Bars needed to compute each feature at session t, t included.
FEATURE_LOOKBACK: dict[str, int] = {
    "ret_1": 2,
    "ret_5": 6,
    "ret_20": 21,
    "vol_20": 21,
    "ma_ratio_20": 20,
    "rsi_14": RSI_PERIOD + 1,
    "volume_z_20": 20,
    "parkinson_20": 20,
}

FEATURE_DOC: dict[str, str] = {
    "ret_1": "Close-to-close return over 1 session: close / close[t-1] - 1.",
    "ret_5": "Close-to-close return over 5 sessions: close / close[t-5] - 1.",
    "ret_20": "Close-to-close return over 20 sessions: close / close[t-20] - 1.",
    "vol_20": "Sample std of the last 20 daily log returns, annualized by sqrt(252).",
    "ma_ratio_20": "Close over its 20-session simple moving average, minus 1.",
    "rsi_14": "Wilder's 14-session relative strength index, 0..100.",
    "volume_z_20": "Volume z-score against the last 20 sessions' mean and sample std.",
    "parkinson_20": "Parkinson high-low volatility over 20 sessions, annualized by sqrt(252).",
}

if set(FEATURE_LOOKBACK) != set(FEATURE_COLUMNS) or set(FEATURE_DOC) != set(FEATURE_COLUMNS):
    raise ImportError(
        "assets/features/compute.py declares features "
        f"{sorted(FEATURE_LOOKBACK)} but warehouse/schemas.py FEATURE_COLUMNS is "
        f"{sorted(FEATURE_COLUMNS)}: declare a lookback, doc and expression for each"
    )

BAR_COLUMNS = ("symbol", "session", "open", "high", "low", "close", "volume", "knowledge_time")


def point_in_time_bars(bars: pl.DataFrame, *, known_at: dt.datetime) -> pl.DataFrame:
    """Return the bars known at ``known_at``, checked and sorted by (symbol, session)."""
    if known_at.tzinfo is None:
        raise ValueError("known_at must be timezone-aware (UTC)")
    missing = [c for c in BAR_COLUMNS if c not in bars.columns]
    if missing:
        raise ValueError(f"bars lack column(s) {missing}; pass curated.bars rows")
    if bars.get_column("knowledge_time").null_count():
        raise ValueError("bars with a null knowledge_time cannot be placed in time; fix the ingest")
    # Compare in UTC whatever zone the input carries (polars compares within one zone only).
    known_time = pl.col("knowledge_time").dt.convert_time_zone("UTC")
    known = bars.filter(known_time <= known_at).sort("symbol", "session")
    if known.select(pl.struct("symbol", "session").is_duplicated().any()).item():
        raise ValueError("bars hold duplicate (symbol, session) rows; curated bars are keyed")
    bad = known.filter(
        pl.any_horizontal(
            [pl.col(c).is_null() | (pl.col(c) <= 0) for c in ("close", "high", "low")]
        )
    )
    if len(bad):
        first = bad.row(0, named=True)
        raise ValueError(
            f"{len(bad)} bar(s) have a missing or non-positive close/high/low, first "
            f"{first['symbol']} {first['session']}: fix or quarantine them in curated.bars"
        )
    return known


def _feature_exprs() -> dict[str, pl.Expr]:
    close, volume = pl.col("close"), pl.col("volume")
    log_return = (close / close.shift(1)).log()
    range_sq = (pl.col("high") / pl.col("low")).log().pow(2)
    exprs = {
        "ret_1": close / close.shift(1) - 1.0,
        "ret_5": close / close.shift(5) - 1.0,
        "ret_20": close / close.shift(20) - 1.0,
        "vol_20": log_return.rolling_std(20) * ANNUALIZE,
        "ma_ratio_20": close / close.rolling_mean(20) - 1.0,
        "volume_z_20": (volume - volume.rolling_mean(20)) / volume.rolling_std(20),
        "parkinson_20": (range_sq.rolling_mean(20) / (4.0 * math.log(2.0))).sqrt() * ANNUALIZE,
    }
    return {name: expr.over("symbol") for name, expr in exprs.items()}


def _group_offsets(symbols: pl.Series) -> np.ndarray:
    sizes = symbols.rle().struct.field("len").to_numpy()
    return np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)


def compute_features(bars: pl.DataFrame, *, known_at: dt.datetime) -> pl.DataFrame:
    """Return (symbol, session, *FEATURE_COLUMNS) for every bar known at ``known_at``."""
    known = point_in_time_bars(bars, known_at=known_at)
    rsi = wilder_rsi_nb(
        known.get_column("close").to_numpy().astype(np.float64),
        _group_offsets(known.get_column("symbol")),
        RSI_PERIOD,
    )
    frame = known.select(
        "symbol", "session", **_feature_exprs(), rsi_14=pl.Series(rsi, dtype=pl.Float64)
    )
    finite = {c: pl.when(pl.col(c).is_finite()).then(pl.col(c)) for c in FEATURE_COLUMNS}
    return frame.select("symbol", "session", **finite)


def labels(bars: pl.DataFrame, *, horizon: int) -> pl.DataFrame:
    """Return (symbol, session, horizon, fwd_return, label_session); null where t+h is unknown.

    ``fwd_return`` is close[t+h] / close[t] - 1 over the symbol's own bars: the only quantity here
    that looks forward, so it never enters the feature matrix.
    """
    if horizon < 1:
        raise ValueError(f"horizon must be at least 1 session, got {horizon}")
    ordered = bars.sort("symbol", "session")
    close = pl.col("close")
    return ordered.select(
        "symbol",
        "session",
        horizon=pl.lit(horizon, dtype=pl.Int32),
        fwd_return=(close.shift(-horizon) / close - 1.0).over("symbol"),
        label_session=pl.col("session").shift(-horizon).over("symbol"),
    )


def null_share_after_warmup(features: pl.DataFrame) -> dict[str, float]:
    """Return each feature's share of null values among rows past its warm-up (NaN: no such row)."""
    ordered = features.sort("symbol", "session").with_columns(
        bar=pl.int_range(pl.len()).over("symbol")
    )
    shares: dict[str, float] = {}
    for name in FEATURE_COLUMNS:
        warm = ordered.filter(pl.col("bar") >= FEATURE_LOOKBACK[name] - 1).get_column(name)
        shares[name] = warm.null_count() / len(warm) if len(warm) else math.nan
    return shares
