"""Curated bars with a learnable cross-sectional signal, for the model and promotion tests.

Each symbol's daily return gives back ``reversal`` of its previous day's idiosyncratic move (a
short-term reversal), so yesterday's return predicts the next sessions' cross-section and a
model trained on the features has a positive out-of-sample IC.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from warehouse.calendar import sessions
from warehouse.schemas import CURATED_BARS


def reversal_bars(
    *,
    n_symbols: int,
    n_sessions: int,
    seed: int,
    reversal: float = 0.3,
    flip_at: int | None = None,
    start: dt.date = dt.date(2018, 1, 2),
) -> pl.DataFrame:
    """Return curated bars of ``n_symbols`` over real exchange sessions with a reversal signal.

    From session index ``flip_at`` on, the signal flips to a continuation: a model fit on the
    earlier sessions then scores a negative IC on the later ones.
    """
    days = sessions(start, start + dt.timedelta(days=2 * n_sessions))[:n_sessions]
    rng = np.random.default_rng(seed)
    market = rng.normal(0.0003, 0.01, size=(1, n_sessions))
    idio = rng.normal(0.0, 0.015, size=(n_symbols, n_sessions))
    returns = market + idio
    sign = np.ones(n_sessions)
    if flip_at is not None:
        sign[flip_at:] = -1.0
    returns[:, 1:] -= reversal * sign[1:] * idio[:, :-1]
    close = 50.0 * np.exp(np.cumsum(returns, axis=1))
    open_ = close * np.exp(rng.normal(0.0, 0.004, size=close.shape))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0.0, 0.006, size=close.shape)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0.0, 0.006, size=close.shape)))
    volume = np.round(rng.lognormal(13.0, 0.4, size=close.shape))
    frame = pl.DataFrame(
        {
            "symbol": np.repeat([f"R{i:03d}" for i in range(n_symbols)], n_sessions),
            "session": days * n_symbols,
            "open": open_.ravel(),
            "high": high.ravel(),
            "low": low.ravel(),
            "close": close.ravel(),
            "volume": volume.ravel(),
        }
    )
    return frame.with_columns(
        split_factor=pl.lit(1.0),
        source=pl.lit("test-reversal"),
        batch_id=pl.lit("test-reversal-batch"),
        # Known the evening after the session (22:00 UTC is after every NYSE close).
        knowledge_time=pl.col("session").cast(pl.Datetime("us", "UTC")) + pl.duration(hours=22),
    ).select(CURATED_BARS.column_names)
