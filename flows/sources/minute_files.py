"""Minute bars from CSV (optionally gzipped) or Parquet files in folders a user points at.

One file per symbol (named ``<SYMBOL>_...``) or long files with a symbol column; headers are
mapped by name (see minute_file_layout.COLUMN_NAMES), header-less files need declared columns.
Timestamps with an offset are converted to UTC; timestamps without one need a declared zone.
A file that cannot be read becomes a Rejection naming it; the other files still load.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zlib
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from flows.sources.base import Rejection, SourceError
from flows.sources.files import gunzip
from flows.sources.minute_bars import MINUTE_BAR_COLUMNS, MinuteBatch, empty_minute_bars
from flows.sources.minute_file_layout import (
    MinuteFileLayout,
    PairInfo,
    file_symbol,
    read_metadata,
    slash_pair,
)

SUFFIXES = (".csv", ".csv.gz", ".parquet")
READ_ERRORS = (OSError, EOFError, zlib.error, UnicodeDecodeError, pl.exceptions.PolarsError)
OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")


class FileRefused(ValueError):
    """A file is readable but cannot be read as minute bars without more declared layout."""


class MinuteFileSource:
    """Minute bars read recursively from folders of files."""

    name = "minute_files"

    def __init__(self, folders: tuple[Path, ...], *, layout: MinuteFileLayout) -> None:
        if not folders:
            raise SourceError("the minute-file source needs at least one folder")
        if layout.naive_timezone is not None:
            try:
                ZoneInfo(layout.naive_timezone)
            except (ZoneInfoNotFoundError, ValueError) as error:
                raise SourceError(
                    f"naive_timezone {layout.naive_timezone!r} is not an IANA zone "
                    "(e.g. 'UTC', 'America/New_York')"
                ) from error
        self.folders = tuple(Path(f) for f in folders)
        self.layout = layout

    def fetch(
        self, *, start: dt.datetime, end: dt.datetime, symbols: tuple[str, ...] | None = None
    ) -> MinuteBatch:
        """Return bars with ``start <= ts < end`` from every file, in file then row order."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("start and end must be timezone-aware instants")
        frames: list[pl.DataFrame] = []
        rejections: list[Rejection] = []
        for folder in self.folders:
            pairs = read_metadata(folder) if folder.is_dir() else {}
            for file in self._files(folder):
                try:
                    frame, notes = read_minute_file(file, layout=self.layout, pairs=pairs)
                except (*READ_ERRORS, FileRefused) as error:
                    reason = f"cannot read {file.name}: {type(error).__name__}: {error}"
                    rejections.append(Rejection(origin=str(file), reason=reason))
                    continue
                frames.append(frame)
                rejections.extend(notes)
        bars = pl.concat(frames) if frames else empty_minute_bars()
        wanted = (pl.col("ts") >= start) & (pl.col("ts") < end)
        if symbols is not None:
            wanted &= pl.col("symbol").is_in(list(symbols))
        return MinuteBatch(self.name, bars.filter(wanted), tuple(rejections))

    def _files(self, folder: Path) -> list[Path]:
        if not folder.exists():
            raise SourceError(
                f"{folder} does not exist: set QUANTLAKE_MINUTE__DIRECTORIES to folders of "
                "minute-bar files (*.csv, *.csv.gz, *.parquet)"
            )
        if folder.is_file():
            return [folder]
        return sorted(
            p
            for p in folder.rglob("*")
            if p.is_file()
            and p.name.lower().endswith(SUFFIXES)
            and not p.name.lower().startswith("metadata")
        )


def read_minute_file(
    file: Path, *, layout: MinuteFileLayout, pairs: dict[str, PairInfo]
) -> tuple[pl.DataFrame, list[Rejection]]:
    """Read one file into MINUTE_BAR_COLUMNS, with notes on rows that were not usable."""
    frame = _read_table(file, layout=layout)
    mapping = {c: layout.target(c) for c in frame.columns}
    mapping = {c: t for c, t in mapping.items() if t is not None}
    frame = frame.rename(mapping).select(list(dict.fromkeys(mapping.values())))
    if "symbol" not in frame.columns:
        symbol = file_symbol(file, layout.symbol_pattern)
        if symbol is None:
            raise FileRefused(f"no symbol column and no symbol in the name {file.name!r}")
        frame = frame.with_columns(symbol=pl.lit(symbol))
    missing = [c for c in ("ts", "open", "high", "low", "close", "volume") if c not in frame]
    if missing:
        raise FileRefused(f"no column(s) {missing}; mapped columns are {frame.columns}")
    if odd := {name: info.interval for name, info in pairs.items() if info.interval != "1m"}:
        raise FileRefused(f"the folder's metadata lists intervals other than 1m: {odd}")
    bars = _typed(frame, layout=layout, crypto=set(pairs))
    undated = bars.get_column("ts").null_count()
    notes = []
    if undated:
        zone = layout.naive_timezone or "the stamps' own offset"
        reason = (
            f"{file.name}: skipped {undated} rows whose time could not be read as an instant "
            f"(unparseable, or ambiguous/nonexistent in {zone} at a daylight-saving change)"
        )
        notes.append(Rejection(origin=str(file), reason=reason))
        bars = bars.filter(pl.col("ts").is_not_null())
    return bars, notes


def _read_table(file: Path, *, layout: MinuteFileLayout) -> pl.DataFrame:
    if file.name.lower().endswith(".parquet"):
        return pl.read_parquet(file)
    raw = file.read_bytes()
    content = gunzip(raw) if file.name.lower().endswith(".gz") else raw
    first = content.lstrip()[:4096].decode("utf-8", errors="replace").partition("\n")[0]
    if not first.strip():
        raise FileRefused("the file is empty")
    header = any(layout.target(name) == "ts" for name in first.split(","))
    if header:
        return pl.read_csv(io.BytesIO(content), infer_schema=False)
    if layout.columns is None:
        raise FileRefused(
            f"no header (first line {first[:80]!r}); declare the columns in order, e.g. "
            'QUANTLAKE_MINUTE__COLUMNS=\'["open_time","open","high","low","close",'
            '"volume"]\', with QUANTLAKE_MINUTE__EPOCH_UNIT (s, ms or us) for epoch times and '
            "QUANTLAKE_MINUTE__ASSET_CLASS (crypto or us_equity) where no metadata file says"
        )
    return pl.read_csv(
        io.BytesIO(content), has_header=False, new_columns=list(layout.columns), infer_schema=False
    )


def _typed(frame: pl.DataFrame, *, layout: MinuteFileLayout, crypto: set[str]) -> pl.DataFrame:
    """Coerce a mapped frame to MINUTE_BAR_COLUMNS; unparseable prices become null."""
    symbols = frame.get_column("symbol").cast(pl.String)
    is_crypto = (
        pl.lit(layout.asset_class == "crypto")
        if layout.asset_class is not None
        else pl.col("symbol").is_in(list(crypto))
    )
    numbers = {
        c: pl.col(c).cast(pl.Float64, strict=False).fill_nan(None)
        for c in ("open", "high", "low", "close", "volume", "vwap")
        if c in frame.columns
    }
    out = frame.with_columns(symbol=symbols).with_columns(
        ts=_instants(frame.get_column("ts"), layout=layout),
        asset_class=pl.when(is_crypto).then(pl.lit("crypto")).otherwise(pl.lit("us_equity")),
        **numbers,
    )
    pairs = out.filter(pl.col("asset_class") == "crypto").get_column("symbol").unique()
    spelled = {p: slash_pair(p) for p in pairs.drop_nulls().to_list()}
    out = out.with_columns(
        symbol=pl.when(pl.col("asset_class") == "crypto")
        .then(pl.col("symbol").replace(spelled))
        .otherwise(pl.col("symbol"))
    )
    if "trade_count" in out.columns:
        out = out.with_columns(pl.col("trade_count").cast(pl.Float64, strict=False).cast(pl.Int64))
    return out.select(
        [
            pl.col(c).cast(t) if c in out.columns else pl.lit(None, t).alias(c)
            for c, t in MINUTE_BAR_COLUMNS.items()
        ]
    )


def _instants(stamps: pl.Series, *, layout: MinuteFileLayout) -> pl.Series:
    """Return the file's timestamps as UTC instants (null where unreadable)."""
    utc = pl.Datetime("us", "UTC")
    if stamps.dtype.is_integer() or layout.epoch_unit is not None:
        if layout.epoch_unit is None:
            raise FileRefused(
                f"integer timestamps like {stamps.drop_nulls().head(1).to_list()} need their "
                "unit: set QUANTLAKE_MINUTE__EPOCH_UNIT to s, ms or us"
            )
        numbers = stamps.cast(pl.Int64, strict=False)
        return pl.from_epoch(numbers, time_unit=layout.epoch_unit).dt.replace_time_zone("UTC")
    if isinstance(stamps.dtype, pl.Datetime):
        if stamps.dtype.time_zone is not None:
            return stamps.dt.convert_time_zone("UTC").cast(utc)
        return _localize(stamps.cast(pl.Datetime("us")), layout=layout)
    text = stamps.cast(pl.String).str.strip_chars()
    sample = text.drop_nulls().head(1)
    if sample.is_empty():
        return pl.Series("ts", [None] * len(text), dtype=utc)
    if OFFSET.search(sample.item()):
        return text.str.to_datetime(time_unit="us", time_zone="UTC", strict=False)
    naive = text.str.to_datetime(time_unit="us", strict=False)
    return _localize(naive, layout=layout)


def _localize(naive: pl.Series, *, layout: MinuteFileLayout) -> pl.Series:
    if layout.naive_timezone is None:
        raise FileRefused(
            f"timestamps like {naive.drop_nulls().head(1).to_list()} carry no zone; declare it "
            "with QUANTLAKE_MINUTE__NAIVE_TIMEZONE (an IANA name, e.g. UTC)"
        )
    zoned = naive.dt.replace_time_zone(layout.naive_timezone, ambiguous="null", non_existent="null")
    return zoned.dt.convert_time_zone("UTC")
