"""Macro series from FRED-format CSV files: a folder of them (read recursively) or single files.

Layouts, told apart by the header (names match case-insensitively):

- ``date,value`` (fredapi exports): the series is the file's name (``DGS10.csv`` holds DGS10);
- ``DATE,DGS10`` or ``observation_date,DGS10,DGS2`` (FRED downloads): a series per column;
- ``observation_date,GDPC1_20240125,GDPC1_20240228`` (ALFRED downloads): a column per vintage,
  released on the date in its name;
- ``realtime_start,realtime_end,date,value`` with an optional ``series_id`` (the FRED API's
  observations): a row per vintage.

Values are kept as written (``value_text``) and parsed; "" and "." are missing and stay null,
never 0. Files whose names start with "_" or "." are catalogues (``_series_coverage.csv``) and
are skipped. A file that is not FRED data becomes a Rejection naming it and what it held; the
other files still load.
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from flows.ingest.macro_knowledge import infer_frequency
from flows.sources.base import Rejection, SourceError
from flows.sources.files import gunzip

# Columns of MacroBatch.observations, in order. ``line`` is the row's line in its file (the
# header is line 1); ``frequency`` is inferred from the series' dates (null: cannot tell).
OBS_COLUMNS: dict[str, pl.DataType] = {
    "origin": pl.String(),
    "line": pl.Int64(),
    "series_id": pl.String(),
    "observation_date": pl.Date(),
    "realtime_start": pl.Date(),
    "value_text": pl.String(),
    "value": pl.Float64(),
    "frequency": pl.String(),
}
MISSING = ("", ".")
DATE_COLUMNS = ("date", "observation_date")
VINTAGE_COLUMN = re.compile(r"^(.+)_(\d{8})$")
READ_ERRORS = (OSError, EOFError, zlib.error)


@dataclass(frozen=True)
class MacroBatch:
    """What one fetch of macro series returned: observations (OBS_COLUMNS) in file order."""

    source: str
    observations: pl.DataFrame
    rejections: tuple[Rejection, ...] = ()


class FredSource:
    """FRED-format CSV files: every observation of every series in them (or of ``series``)."""

    name = "fred"

    def __init__(self, paths: Sequence[Path], *, series: Sequence[str] = ()) -> None:
        self.paths = tuple(Path(p) for p in paths)
        self.series = tuple(s.upper() for s in series)

    def fetch(self) -> MacroBatch:
        """Read every file; return its observations and what in them was not data."""
        frames: list[pl.DataFrame] = []
        rejections: list[Rejection] = []
        for file in files_in(self.paths):
            try:
                frame = read_fred(file)
            except NotFredData as error:
                rejections.append(Rejection(origin=str(file), reason=str(error)))
                continue
            except READ_ERRORS as error:
                reason = f"cannot read {file.name}: {type(error).__name__}: {error}"
                rejections.append(Rejection(origin=str(file), reason=reason))
                continue
            frames.append(frame)
        found = pl.concat(frames) if frames else pl.DataFrame(schema=OBS_COLUMNS)
        if self.series:
            found = found.filter(pl.col("series_id").is_in(list(self.series)))
            missing = sorted(set(self.series) - set(found.get_column("series_id")))
            rejections.extend(
                Rejection(origin="settings", reason=f"series {s} is in none of the files")
                for s in missing
            )
        return MacroBatch(self.name, with_frequencies(found), tuple(rejections))


class NotFredData(ValueError):
    """A file holds no FRED observations; the message names it and what it held."""


def files_in(paths: Sequence[Path]) -> list[Path]:
    """Return the CSV files of ``paths`` (folders read recursively, catalogues skipped)."""
    found: list[Path] = []
    for path in paths:
        if not path.exists():
            raise SourceError(
                f"{path} does not exist: set QUANTLAKE_MACRO__DIRECTORY to a folder of FRED CSVs "
                "or QUANTLAKE_MACRO__FILES to a JSON list of them"
            )
        if path.is_file():
            found.append(path)
            continue
        inside = sorted(p for p in path.rglob("*") if p.is_file() and _is_series_file(p))
        if not inside:
            raise SourceError(f"{path} holds no *.csv or *.csv.gz files of FRED series")
        found.extend(inside)
    return found


def read_fred(file: Path) -> pl.DataFrame:
    """Read one FRED-format file into OBS_COLUMNS (frequency still null)."""
    raw = file.read_bytes()
    content = gunzip(raw) if file.name.lower().endswith(".gz") else raw
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise NotFredData(f"{file.name} is not FRED data: not text ({error})") from error
    first = text.lstrip().partition("\n")[0]
    if not first:
        raise NotFredData(f"{file.name} is not FRED data: the file is empty")
    try:
        frame = pl.read_csv(
            io.StringIO(text), infer_schema=False, empty_string_is_null=False
        ).with_row_index("line", offset=2)
    except pl.exceptions.PolarsError as error:
        raise NotFredData(
            f"{file.name} is not FRED data: not readable as CSV ({error}); found: {_quote(text)}"
        ) from error
    names = {c.lower().strip(): c for c in frame.columns if c != "line"}
    date = next((names[n] for n in DATE_COLUMNS if n in names), None)
    if date is None:
        raise NotFredData(
            f"{file.name} is not FRED data: no date or observation_date column in its first "
            f"line; found: {_quote(text)}"
        )
    return _observations(frame, file=file, date=date, names=names)


def _observations(
    frame: pl.DataFrame, *, file: Path, date: str, names: dict[str, str]
) -> pl.DataFrame:
    realtime = names.get("realtime_start")
    series_col = names.get("series_id")
    ignored = {date, realtime, series_col, names.get("realtime_end")}
    values = [c for c in frame.columns if c != "line" and c not in ignored]
    if not values:
        raise NotFredData(f"{file.name} is not FRED data: a date column but no value column")
    index = [c for c in ("line", date, realtime, series_col) if c]
    long = frame.unpivot(values, index=index, variable_name="_column", value_name="_text")
    series = pl.col("_column").str.strip_chars().str.to_uppercase()
    vintage = series.str.extract(VINTAGE_COLUMN.pattern, 2)
    if series_col is not None:
        series = pl.col(series_col).str.strip_chars().str.to_uppercase()
    elif len(values) == 1 and values[0].strip().lower() == "value":
        series = pl.lit(_stem(file).upper())
    else:
        series = pl.coalesce(series.str.extract(VINTAGE_COLUMN.pattern, 1), series)
    start = _date(pl.col(realtime)) if realtime else vintage.str.to_date("%Y%m%d", strict=False)
    text = pl.col("_text").str.strip_chars()
    return long.select(
        origin=pl.lit(str(file)),
        line=pl.col("line").cast(pl.Int64),
        series_id=series,
        observation_date=_date(pl.col(date)),
        realtime_start=start,
        value_text=text,
        value=pl.when(text.is_in(MISSING))
        .then(None)
        .otherwise(text.cast(pl.Float64, strict=False)),
        frequency=pl.lit(None, pl.String),
    ).sort("line", maintain_order=True)


def with_frequencies(observations: pl.DataFrame) -> pl.DataFrame:
    """Return ``observations`` with each series' frequency inferred from all its dates."""
    if observations.is_empty():
        return observations
    by_series = observations.group_by("series_id").agg(pl.col("observation_date").unique())
    inferred = {
        series: infer_frequency(pl.Series(dates, dtype=pl.Date))
        for series, dates in by_series.iter_rows()
    }
    frequency = pl.col("series_id").replace_strict(inferred, default=None, return_dtype=pl.String)
    return observations.with_columns(frequency=frequency)


def _date(column: pl.Expr) -> pl.Expr:
    return column.str.strip_chars().str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)


def _is_series_file(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith((".csv", ".csv.gz")) and not name.startswith(("_", "."))


def _stem(file: Path) -> str:
    name = file.name
    for suffix in (".gz", ".csv"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return name


def _quote(text: str, *, limit: int = 120) -> str:
    """Return the start of ``text`` with whitespace collapsed, quoted, for a message."""
    joined = " ".join(text[: limit * 4].split())
    return repr(joined if len(joined) <= limit else joined[:limit] + "...")
