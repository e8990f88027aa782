"""A small lakehouse for the feature-check tests: curated bars, features, labels and a champion.

Every feature is seeded standard normal noise, the same distribution in every session, so the
drift, leakage and row-count checks pass until a test shifts, leaks or drops something.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from tests.unit.assets.registry_rows import model_row, seed_models
from warehouse.calendar import sessions
from warehouse.lake import Lakehouse
from warehouse.schemas import CURATED_BARS, FEATURE_COLUMNS, FEATURES, LABELS

HORIZON = 5
MODEL = {"horizon": HORIZON, "train_sessions": 252, "test_sessions": 63, "seed": 0}


@dataclass(frozen=True)
class Universe:
    """The symbols and sessions of the test lakehouse."""

    symbols: tuple[str, ...]
    sessions: tuple[dt.date, ...]

    @property
    def latest(self) -> dt.date:
        return self.sessions[-1]


def universe(*, n_symbols: int = 20, n_sessions: int = 300) -> Universe:
    """Return ``n_symbols`` symbols over ``n_sessions`` real NYSE sessions from 2023-01-03."""
    days = sessions(dt.date(2023, 1, 3), dt.date(2023, 1, 3) + dt.timedelta(days=2 * n_sessions))
    return Universe(tuple(f"F{i:02d}" for i in range(n_symbols)), tuple(days[:n_sessions]))


def _grid(u: Universe) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "symbol": np.repeat(u.symbols, len(u.sessions)),
            "session": list(u.sessions) * len(u.symbols),
        },
        schema={"symbol": pl.String, "session": pl.Date},
    ).sort("session", "symbol")


def bars(u: Universe) -> pl.DataFrame:
    """Return a flat curated bar for every symbol and session."""
    return (
        _grid(u)
        .with_columns(
            open=pl.lit(10.0),
            high=pl.lit(10.5),
            low=pl.lit(9.5),
            close=pl.lit(10.0),
            volume=pl.lit(1e6),
            split_factor=pl.lit(1.0),
            source=pl.lit("test-feature-checks"),
            batch_id=pl.lit("test-feature-checks-batch"),
            knowledge_time=pl.col("session").cast(pl.Datetime("us", "UTC")) + pl.duration(hours=22),
        )
        .select(CURATED_BARS.column_names)
    )


def features(u: Universe, *, seed: int = 0) -> pl.DataFrame:
    """Return features.daily rows: every feature standard normal noise."""
    grid = _grid(u)
    noise = np.random.default_rng(seed).normal(size=(grid.height, len(FEATURE_COLUMNS)))
    values = pl.DataFrame(noise, schema=list(FEATURE_COLUMNS))
    return pl.concat([grid, values], how="horizontal").with_columns(
        curated_snapshot=pl.lit(1, dtype=pl.Int64)
    )


def labels(u: Universe, *, seed: int = 1) -> pl.DataFrame:
    """Return horizon-5 labels; the last ``HORIZON`` sessions are not known yet (null)."""
    grid = _grid(u)
    fwd = np.random.default_rng(seed).normal(0.0, 0.02, size=grid.height)
    unknown = grid.get_column("session").is_in(u.sessions[-HORIZON:]).to_numpy()
    return grid.with_columns(
        horizon=pl.lit(HORIZON, dtype=pl.Int32),
        fwd_return=pl.Series(np.where(unknown, np.nan, fwd)).fill_nan(None),
        label_session=pl.col("session"),  # not used by the checks
    ).select(LABELS.column_names)


def write(
    lake: Lakehouse, *, bars: pl.DataFrame, features: pl.DataFrame, labels: pl.DataFrame
) -> None:
    """Write the frames in one commit."""
    with lake.transaction("feature check fixture") as txn:
        txn.merge(CURATED_BARS, bars)
        txn.merge(FEATURES, features)
        txn.merge(LABELS, labels)


def seed_champion(lake: Lakehouse, u: Universe, *, models_dir: Path, train_sessions: int) -> str:
    """Register a champion trained on the first ``train_sessions`` sessions; return its version."""
    version = "ridge-test-champion"
    row = model_row(
        version,
        models_dir=models_dir,
        status="champion",
        train_start=u.sessions[0],
        train_end=u.sessions[train_sessions - 1],
    )
    seed_models(lake, [row])
    return version


def shifted(frame: pl.DataFrame, *, column: str, by: float, sessions: int) -> pl.DataFrame:
    """Return features with ``column`` multiplied by ``by`` for a quarter of the symbols in the
    latest ``sessions`` sessions: the cross-section grows outliers (a unit error in part of the
    universe). A move every symbol shares is the market's, which ranks ignore: not drift."""
    latest = frame.get_column("session").unique().sort().tail(sessions)
    symbols = frame.get_column("symbol").unique().sort()
    quarter = symbols.head(max(1, len(symbols) // 4))
    where = pl.col("session").is_in(latest.implode()) & pl.col("symbol").is_in(quarter.implode())
    moved = pl.when(where).then(pl.col(column) * by)
    return frame.with_columns(moved.otherwise(pl.col(column)).alias(column))


def broadly_shifted(frame: pl.DataFrame, *, share: float, by: float, sessions: int) -> pl.DataFrame:
    """Return features with the first ``share`` of FEATURE_COLUMNS shifted (see ``shifted``)."""
    for column in FEATURE_COLUMNS[: math.ceil(share * len(FEATURE_COLUMNS))]:
        frame = shifted(frame, column=column, by=by, sessions=sessions)
    return frame


def leaky(frame: pl.DataFrame, labels: pl.DataFrame, *, column: str) -> pl.DataFrame:
    """Return features whose ``column`` is the forward-return label wherever it is known."""
    label = labels.select("symbol", "session", "fwd_return")
    joined = frame.join(label, on=["symbol", "session"], how="left")
    return joined.with_columns(pl.coalesce("fwd_return", column).alias(column)).drop("fwd_return")
