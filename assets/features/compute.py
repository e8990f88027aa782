"""Point-in-time features and forward-return labels for all symbols at once (numba + polars).

Bars are sorted by (symbol, session) into one panel; every feature runs over each symbol's own
contiguous rows, so a feature at session t reads only that symbol's bars at or before t, and
the cross-sectional ones only the other symbols' features at the same session. Lookbacks count
the symbol's own bars (a halted symbol's window reaches further back in calendar time). A
feature is null during its warm-up (fewer bars than its lookback), never zero, and null where
it is undefined (a zero-variance window, a zero range, a missing input in the window). The
features are declared in ``assets/features/library`` (see ``registry.FEATURE_SPECS``).

A feature's value at a row is a function of the symbol's last ``FEATURE_MEMORY[name]`` bars up
to it (and their sessions), bit for bit: bars computed in one long range or cut anywhere give
the same values wherever each row has that many bars before it in the input.
"""

from __future__ import annotations

import datetime as dt
import math

import polars as pl

from assets.features.library.cross_section import cross_section_values
from assets.features.library.registry import (
    FEATURE_DOC,
    FEATURE_INPUTS,
    FEATURE_LOOKBACK,
    FEATURE_MEMORY,
    bar_values,
)
from assets.features.library.spec import panel_of
from assets.features.order import sort_by_symbol_session, symbol_session_order
from warehouse.schemas import FEATURE_COLUMNS

__all__ = [
    "BAR_COLUMNS",
    "FEATURE_DOC",
    "FEATURE_INPUTS",
    "FEATURE_LOOKBACK",
    "FEATURE_MEMORY",
    "compute_features",
    "labels",
    "null_share_after_warmup",
    "point_in_time_bars",
]

BAR_COLUMNS = ("symbol", "session", "open", "high", "low", "close", "volume", "knowledge_time")


def _known(bars: pl.DataFrame, *, known_at: dt.datetime) -> pl.DataFrame:
    """Return the checked bars known at ``known_at``, in their input order."""
    if known_at.tzinfo is None:
        raise ValueError("known_at must be timezone-aware (UTC)")
    missing = [c for c in BAR_COLUMNS if c not in bars.columns]
    if missing:
        raise ValueError(f"bars lack column(s) {missing}; pass curated.bars rows")
    if bars.get_column("knowledge_time").null_count():
        raise ValueError("bars with a null knowledge_time cannot be placed in time; fix the ingest")
    # Compare in UTC whatever zone the input carries (polars compares within one zone only).
    known_time = pl.col("knowledge_time").dt.convert_time_zone("UTC")
    known = bars.filter(known_time <= known_at)
    bad = known.filter(
        pl.any_horizontal(
            [pl.col(c).is_null() | (pl.col(c) <= 0) for c in ("close", "high", "low")]
        )
    )
    if len(bad):
        first = bad.sort("symbol", "session").row(0, named=True)
        raise ValueError(
            f"{len(bad)} bar(s) have a missing or non-positive close/high/low, first "
            f"{first['symbol']} {first['session']}: fix or quarantine them in curated.bars"
        )
    return known


def point_in_time_bars(bars: pl.DataFrame, *, known_at: dt.datetime) -> pl.DataFrame:
    """Return the bars known at ``known_at``, checked and sorted by (symbol, session)."""
    return sort_by_symbol_session(_known(bars, known_at=known_at))


def compute_features(bars: pl.DataFrame, *, known_at: dt.datetime) -> pl.DataFrame:
    """Return (symbol, session, *FEATURE_COLUMNS) for every bar known at ``known_at``."""
    known = _known(bars, known_at=known_at)
    order = symbol_session_order(known)
    panel = panel_of(known, rows=order.rows, offsets=order.offsets(), day=order.day)
    values = bar_values(panel)
    values.update(cross_section_values(order.day, values))
    # pop: each array is freed once its column is built, so they are not all held twice.
    columns = [pl.Series(name, values.pop(name), nan_to_null=True) for name in FEATURE_COLUMNS]
    return pl.DataFrame([order.symbols(), order.sessions(), *columns])


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
