"""Features zone: point-in-time features and forward-return labels."""

from __future__ import annotations

from warehouse.schemas.dataset import Dataset

# Feature columns are owned by assets/features; they are listed here so the schema is declared once.
FEATURE_COLUMNS: tuple[str, ...] = (
    # momentum
    "ret_1",
    "ret_5",
    "ret_10",
    "ret_20",
    "ret_60",
    "ret_120",
    "ret_252",
    "log_ret_1",
    "log_ret_5",
    "log_ret_20",
    "mom_252_21",
    "rsi_14",
    # trend
    "ma_ratio_5",
    "ma_ratio_10",
    "ma_ratio_20",
    "ma_ratio_50",
    "ma_ratio_200",
    "ema_ratio_12",
    "ema_ratio_26",
    "ema_ratio_50",
    "macd",
    "macd_signal",
    "macd_hist",
    "adx_14",
    "di_diff_14",
    # position in a range
    "stoch_k_14",
    "bb_pct_b_20",
    "bb_width_20",
    "dist_high_252",
    "dist_low_252",
    "max_drawdown_60",
    # volatility
    "vol_5",
    "vol_20",
    "vol_60",
    "parkinson_20",
    "garman_klass_20",
    "atr_14",
    "skew_20",
    "skew_60",
    # volume and liquidity
    "volume_z_20",
    "obv_slope_20",
    "amihud_20",
    "log_dollar_volume_20",
    # cross-sectional, per session
    "cs_rank_ret_20",
    "cs_rank_ret_252",
    "cs_rank_vol_20",
    "cs_rank_log_dollar_volume_20",
    "cs_z_ret_5",
    "cs_z_rsi_14",
)

FEATURES = Dataset(
    "features",
    "daily",
    (("symbol", "VARCHAR"), ("session", "DATE"))
    + tuple((c, "DOUBLE") for c in FEATURE_COLUMNS)
    + (("curated_snapshot", "BIGINT"),),
    key=("symbol", "session"),
    description="Point-in-time features: the row at session t uses bars up to and including t.",
)

LABELS = Dataset(
    "features",
    "labels",
    (
        ("symbol", "VARCHAR"),
        ("session", "DATE"),
        ("horizon", "INTEGER"),
        ("fwd_return", "DOUBLE"),
        ("label_session", "DATE"),
    ),
    key=("symbol", "session", "horizon"),
    description="Forward close-to-close return from session to label_session (looks ahead).",
)

# -- macro and sentiment features (assets/features/context_assets.py) -----------------------------
# One row per session (macro) or per (symbol, session) (sentiment), as of that session's close.
# A value whose source series or items are missing is NULL, never 0. macro_snapshot/news_snapshot:
# the lakehouse snapshot that last changed the curated macro vintages / news the row was read from.
MACRO_FEATURE_COLUMNS: tuple[str, ...] = ("term_spread", "vix", "vix_change_5")

SENTIMENT_FEATURE_COLUMNS: tuple[str, ...] = ("sentiment_mean_5", "news_count_5")

MACRO_FEATURES = Dataset(
    "features",
    "macro_daily",
    (("session", "DATE"),)
    + tuple((c, "DOUBLE") for c in MACRO_FEATURE_COLUMNS)
    + (("macro_snapshot", "BIGINT"),),
    key=("session",),
    description="Macro features per session as of its close: DGS10 - DGS2, VIX, VIX 5-day change.",
)

SENTIMENT_FEATURES = Dataset(
    "features",
    "sentiment_daily",
    (
        ("symbol", "VARCHAR"),
        ("session", "DATE"),
        ("sentiment_mean_5", "DOUBLE"),
        ("news_count_5", "BIGINT"),
        ("news_snapshot", "BIGINT"),
    ),
    key=("symbol", "session"),
    description="News tone and item count per symbol over the 5 sessions up to each close.",
)
