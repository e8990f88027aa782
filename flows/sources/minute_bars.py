"""The interface every minute-bar source implements, and what a fetch returns."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

import polars as pl

from flows.sources.base import Rejection

# Columns of MinuteBatch.bars, in order. ts is the bar's START instant in UTC (a bar stamped
# 13:30 covers [13:30, 13:31)). vwap and trade_count are null where the source has none.
MINUTE_BAR_COLUMNS: dict[str, pl.DataType] = {
    "symbol": pl.String(),
    "ts": pl.Datetime("us", "UTC"),
    "asset_class": pl.String(),
    "open": pl.Float64(),
    "high": pl.Float64(),
    "low": pl.Float64(),
    "close": pl.Float64(),
    "volume": pl.Float64(),
    "vwap": pl.Float64(),
    "trade_count": pl.Int64(),
}


def empty_minute_bars() -> pl.DataFrame:
    return pl.DataFrame(schema=MINUTE_BAR_COLUMNS)


@dataclass(frozen=True)
class MinuteBatch:
    """What one fetch returned: ``bars`` with exactly MINUTE_BAR_COLUMNS, in arrival order."""

    source: str
    bars: pl.DataFrame
    rejections: tuple[Rejection, ...] = ()


class MinuteSource(Protocol):
    """A source of one-minute bars."""

    name: str

    def fetch(
        self, *, start: dt.datetime, end: dt.datetime, symbols: tuple[str, ...] | None = None
    ) -> MinuteBatch:
        """Return bars with start ``start <= ts < end`` for ``symbols`` or all it has."""
        ...
