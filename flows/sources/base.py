"""The one interface every daily-bar source implements, and what a fetch returns."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol

import polars as pl

# Columns of SourceBatch.bars, in order. Prices and volume are Float64 and may be null where the
# source sent something unparseable; validation decides what happens to such rows.
BAR_COLUMNS: dict[str, pl.DataType] = {
    "symbol": pl.String(),
    "session": pl.Date(),
    "open": pl.Float64(),
    "high": pl.Float64(),
    "low": pl.Float64(),
    "close": pl.Float64(),
    "volume": pl.Float64(),
}

SPLIT_COLUMNS: dict[str, pl.DataType] = {
    "symbol": pl.String(),
    "ex_session": pl.Date(),
    "split_ratio": pl.Float64(),
}


class SourceError(RuntimeError):
    """A source could not deliver; the message names what failed and what to do.

    ``transient`` marks failures worth retrying (rate limits, server errors, network); refused
    keys, missing files or bad requests are not, and are reported at once.
    """

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class Rejection:
    """A whole input (file, response) that is not data at all, with what was found in it."""

    origin: str
    reason: str


@dataclass(frozen=True)
class Skipped:
    """Rows an input held that the source did not deliver: how many, and why."""

    origin: str
    reason: str
    rows: int


@dataclass(frozen=True)
class SourceBatch:
    """What one fetch returned.

    ``bars`` has exactly BAR_COLUMNS, in arrival order (a later row for the same key is newer).
    ``splits`` has SPLIT_COLUMNS (empty where the source reports none or delivers adjusted data).
    ``rejections`` lists inputs that held no usable data; they never stop the rest of the batch.
    ``skipped`` counts rows read but not delivered (undated, outside the window, not asked for):
    rows received = bars delivered + skipped rows.
    """

    source: str
    bars: pl.DataFrame
    splits: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=SPLIT_COLUMNS))
    rejections: tuple[Rejection, ...] = ()
    skipped: tuple[Skipped, ...] = ()


class BarSource(Protocol):
    """A source of daily bars."""

    name: str

    def fetch(
        self, *, start: dt.date, end: dt.date, symbols: tuple[str, ...] | None = None
    ) -> SourceBatch:
        """Return bars for sessions in [start, end] (inclusive), for ``symbols`` or all it has."""
        ...
