"""Curated bars for the asset tests: seeded random walks, and the real 100-symbol Yahoo file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl

from warehouse.calendar import sessions
from warehouse.schemas import CURATED_BARS

YAHOO_100 = Path("equities_daily/yahoo_us_equities_100_daily_2010-2021.csv.gz")


def _known_at(session: pl.Expr) -> pl.Expr:
    # Bars become known the evening after their session (22:00 UTC is after every NYSE close).
    return session.cast(pl.Datetime("us", "UTC")) + pl.duration(hours=22)


def random_walk_bars(
    *, n_symbols: int, n_sessions: int, seed: int, start: dt.date = dt.date(2018, 1, 2)
) -> pl.DataFrame:
    """Return curated bars: ``n_symbols`` seeded random walks over real exchange sessions."""
    days = sessions(start, start + dt.timedelta(days=2 * n_sessions))[:n_sessions]
    rng = np.random.default_rng(seed)
    returns = rng.normal(0.0003, 0.018, size=(n_symbols, n_sessions))
    close = 50.0 * np.exp(np.cumsum(returns, axis=1))
    open_ = close * np.exp(rng.normal(0.0, 0.005, size=close.shape))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0.0, 0.008, size=close.shape)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0.0, 0.008, size=close.shape)))
    volume = np.round(rng.lognormal(13.0, 0.4, size=close.shape))
    frame = pl.DataFrame(
        {
            "symbol": np.repeat([f"S{i:03d}" for i in range(n_symbols)], n_sessions),
            "session": days * n_symbols,
            "open": open_.ravel(),
            "high": high.ravel(),
            "low": low.ravel(),
            "close": close.ravel(),
            "volume": volume.ravel(),
        }
    )
    return _curated(frame, source="test-random-walk")


def yahoo_100_bars(shared_data: Path) -> pl.DataFrame:
    """Return the real 100-symbol daily file in curated.bars shape (already split-adjusted)."""
    raw = pl.read_csv(shared_data / YAHOO_100, try_parse_dates=True)
    frame = raw.select(
        "symbol", pl.col("date").alias("session"), "open", "high", "low", "close", "volume"
    ).with_columns(pl.col("open", "high", "low", "close", "volume").cast(pl.Float64))
    return _curated(frame, source="yahoo-100")


def _curated(frame: pl.DataFrame, *, source: str) -> pl.DataFrame:
    return frame.with_columns(
        split_factor=pl.lit(1.0),
        source=pl.lit(source),
        batch_id=pl.lit(f"{source}-batch"),
        knowledge_time=_known_at(pl.col("session")),
    ).select(CURATED_BARS.column_names)
