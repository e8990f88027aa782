"""How a minute-bar file is read: the declared layout, column names and a folder's metadata file.

What the shared intraday files hold (checked against the exchange calendar, see
tests/unit/sources/test_minute_files.py):

- ``us_etf_1m_2023-2025/<SYM>_1min_<from>_to_<to>.csv.gz``: ``timestamp`` is written without an
  offset and is UTC (the regular-session open is 13:30 in summer and 14:30 in winter, and
  09:30 New York on both sides of 2023-11-05 and 2024-03-10), the bar's start; sparse (only
  minutes with trades), pre- and post-market included. Naive stamps are read only with a
  declared zone: ``MinuteFileLayout(naive_timezone="UTC")``.
- ``crypto_binanceus_1m_2023-03/<PAIR>_1m_<from>_<to>.csv.gz``: ``open_time`` carries
  ``+00:00`` (UTC), the bar's start; every minute present. ``metadata_*.csv`` beside them lists
  each pair with its interval, UTC range and exchange: listed pairs are crypto.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import polars as pl

from validations.minute_bars_phases import AssetClass

# Lower-cased, space/underscore-free header names and the minute-bar column each one fills.
COLUMN_NAMES: dict[str, str] = {
    "timestamp": "ts",
    "ts": "ts",
    "t": "ts",
    "time": "ts",
    "datetime": "ts",
    "opentime": "ts",
    "symbol": "symbol",
    "ticker": "symbol",
    "pair": "symbol",
    "open": "open",
    "o": "open",
    "high": "high",
    "h": "high",
    "low": "low",
    "l": "low",
    "close": "close",
    "c": "close",
    "volume": "volume",
    "v": "volume",
    "vwap": "vwap",
    "vw": "vwap",
    "tradecount": "trade_count",
    "trades": "trade_count",
    "numberoftrades": "trade_count",
    "n": "trade_count",
}
# Quote currencies, longest first, to write a pair as Alpaca does: BTCUSDT -> BTC/USDT.
QUOTES = ("USDT", "USDC", "USD", "EUR", "GBP", "BTC", "ETH")


@dataclass(frozen=True)
class MinuteFileLayout:
    """What a file cannot say about itself, declared by whoever points quantlake at it.

    ``columns`` names the columns of header-less files, in order (names as in COLUMN_NAMES or
    ``rename``). ``naive_timezone`` is the zone of timestamps written without an offset; without
    it such files are refused rather than guessed. ``epoch_unit`` reads integer timestamps.
    ``asset_class`` None means: crypto for pairs a folder's metadata file lists, else us_equity.
    ``symbol_pattern`` takes the symbol from a file name when the file has no symbol column.
    """

    columns: tuple[str, ...] | None = None
    naive_timezone: str | None = None
    epoch_unit: Literal["s", "ms", "us"] | None = None
    asset_class: AssetClass | None = None
    rename: Mapping[str, str] = field(default_factory=dict)
    symbol_pattern: str = r"^(?P<symbol>[A-Za-z0-9.\-]+?)(_|\.csv|\.parquet)"

    def target(self, column: str) -> str | None:
        """Return the minute-bar column a file column fills, or None to drop it."""
        if column in self.rename:
            return self.rename[column]
        return COLUMN_NAMES.get(re.sub(r"[\s_\"']", "", column.lower()))


@dataclass(frozen=True)
class PairInfo:
    """One row of a folder's metadata file."""

    interval: str
    start: object
    end: object
    exchange: str


def read_metadata(folder: Path) -> dict[str, PairInfo]:
    """Return the pairs listed in ``folder``'s metadata*.csv files (empty when there is none)."""
    found: dict[str, PairInfo] = {}
    for file in sorted(folder.glob("metadata*.csv")):
        frame = pl.read_csv(file, infer_schema=False)
        missing = {"pair", "interval", "start_utc", "end_utc"} - set(frame.columns)
        if missing:
            raise ValueError(f"{file} lacks column(s) {sorted(missing)}; found {frame.columns}")
        stamps = {
            c: frame.get_column(c).str.to_datetime(time_unit="us", time_zone="UTC")
            for c in ("start_utc", "end_utc")
        }
        for i, row in enumerate(frame.iter_rows(named=True)):
            found[row["pair"]] = PairInfo(
                interval=row["interval"],
                start=stamps["start_utc"][i],
                end=stamps["end_utc"][i],
                exchange=row.get("exchange") or "",
            )
    return found


def slash_pair(pair: str) -> str:
    """Write a crypto pair as Alpaca does (BTCUSDT -> BTC/USDT); leave other spellings alone."""
    if "/" in pair:
        return pair
    for quote in QUOTES:
        if pair.endswith(quote) and len(pair) > len(quote):
            return f"{pair[: -len(quote)]}/{quote}"
    return pair


def file_symbol(file: Path, pattern: str) -> str | None:
    """Return the symbol a per-symbol file is named after, or None when the name does not say."""
    match = re.match(pattern, file.name)
    return match.group("symbol") if match else None
