"""Daily bars from CSV or Parquet files a user points at: one file or a folder of them.

Two layouts: long format with a symbol column, or one file per symbol named after it
(``BRK.B.csv.gz`` holds BRK.B). Column names match case-insensitively. Unparseable values become
null and the row is still delivered (validation quarantines it). A file that is not data at all
becomes a Rejection naming it; one bad file never stops the others.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zlib
from pathlib import Path

import polars as pl

from flows.sources.base import BAR_COLUMNS, Rejection, Skipped, SourceBatch, SourceError

SUFFIXES = (".csv", ".csv.gz", ".parquet")
# Lower-cased, space/underscore-free header names and the bar column each one fills.
COLUMN_NAMES = {
    "date": "session",
    "session": "session",
    "timestamp": "session",
    "datetime": "session",
    "time": "session",
    "symbol": "symbol",
    "ticker": "symbol",
    "open": "open",
    "high": "high",
    "low": "low",
    "close": "close",
    "volume": "volume",
}
# Yahoo's download layout, used for header-less files: Date,Open,High,Low,Close,Adj Close,Volume.
POSITIONAL = ("session", "open", "high", "low", "close", "adj_close", "volume")
DATA_LINE = re.compile(r"^\d{4}-\d{2}-\d{2}(,[^,]*){6}$")
READ_ERRORS = (OSError, EOFError, zlib.error, UnicodeDecodeError, pl.exceptions.PolarsError)


class FileSource:
    """Daily bars read from a CSV/Parquet file or, recursively, from a folder of them."""

    name = "file"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def fetch(
        self, *, start: dt.date, end: dt.date, symbols: tuple[str, ...] | None = None
    ) -> SourceBatch:
        """Return the bars of every file with sessions in [start, end], in file then row order."""
        if start > end:
            raise ValueError(f"start {start} is after end {end}")
        frames: list[pl.DataFrame] = []
        rejections: list[Rejection] = []
        skipped: list[Skipped] = []
        for file in self._files():
            try:
                frame, notes, dropped = _read_counted(file)
            except READ_ERRORS as error:
                reason = f"cannot read {file.name}: {type(error).__name__}: {error}"
                rejections.append(Rejection(origin=str(file), reason=reason))
                continue
            frames.append(frame)
            rejections.extend(notes)
            skipped.extend(dropped)
        bars = pl.concat(frames) if frames else pl.DataFrame(schema=BAR_COLUMNS)
        bars, outside = self._window(bars, start=start, end=end, symbols=symbols)
        return SourceBatch(
            source=self.name,
            bars=bars,
            rejections=tuple(rejections),
            skipped=(*skipped, *outside),
        )

    def _window(
        self, bars: pl.DataFrame, *, start: dt.date, end: dt.date, symbols: tuple[str, ...] | None
    ) -> tuple[pl.DataFrame, list[Skipped]]:
        """Return the bars asked for and, per reason, a count of the others."""
        session = pl.col("session")
        reasons = [
            (session < start, f"dated before {start}, the window's first session"),
            (session > end, f"dated after {end}, the window's last session"),
        ]
        if symbols is not None:
            reasons.append((~pl.col("symbol").is_in(list(symbols)), "symbol not asked for"))
        out: list[Skipped] = []
        remaining = bars
        for condition, reason in reasons:
            hit = remaining.select(condition.fill_null(False).sum()).item()
            if hit:
                out.append(Skipped(origin=str(self.path), reason=reason, rows=int(hit)))
                remaining = remaining.filter(~condition.fill_null(False))
        return remaining, out

    def _files(self) -> list[Path]:
        if not self.path.exists():
            raise SourceError(
                f"{self.path} does not exist: set QUANTLAKE_FILE_PATH to a CSV/Parquet file or a "
                "folder of them (*.csv, *.csv.gz, *.parquet)"
            )
        if self.path.is_file():
            return [self.path]
        files = sorted(p for p in self.path.rglob("*") if p.is_file() and _is_data_file(p))
        if not files:
            raise SourceError(
                f"{self.path} holds no *.csv, *.csv.gz or *.parquet files: point "
                "QUANTLAKE_FILE_PATH at a folder of daily bars"
            )
        return files


def read_bars(file: Path) -> tuple[pl.DataFrame, list[Rejection]]:
    """Read one file into BAR_COLUMNS, with notes on whatever in it was not data."""
    frame, notes, _ = _read_counted(file)
    return frame, notes


def _read_counted(file: Path) -> tuple[pl.DataFrame, list[Rejection], list[Skipped]]:
    """Read one file: its bars, notes on what was not data, and counts of rows not delivered."""
    if file.name.lower().endswith(".parquet"):
        return _to_bars(pl.read_parquet(file), file=file, notes=[])
    raw = file.read_bytes()
    content = gunzip(raw) if file.name.lower().endswith(".gz") else raw
    text = content.decode("utf-8")
    first = text.lstrip().partition("\n")[0]
    if not first:
        return _empty(), [Rejection(origin=str(file), reason=f"{file.name} is empty")], []
    if _is_header(first):
        frame = pl.read_csv(io.BytesIO(content), infer_schema=False)
        return _to_bars(frame, file=file, notes=[])
    return _salvage(text.splitlines(), file=file)


def gunzip(raw: bytes) -> bytes:
    """Decompress every member of a gzip stream; raise EOFError when it is truncated."""
    parts = []
    while raw:
        member = zlib.decompressobj(wbits=31)
        try:
            parts.append(member.decompress(raw))
        except zlib.error as error:
            raise OSError(f"not a valid gzip stream ({error})") from error
        if not member.eof:
            raise EOFError("gzip stream ended before its end-of-stream marker (truncated file)")
        raw = member.unused_data.lstrip(b"\0")
    return b"".join(parts)


def _salvage(
    lines: list[str], *, file: Path
) -> tuple[pl.DataFrame, list[Rejection], list[Skipped]]:
    """Keep the Yahoo-layout data lines of a header-less file; report the rest."""
    data = [line.split(",") for line in lines if DATA_LINE.match(line.strip())]
    other = [line for line in lines if line.strip() and not DATA_LINE.match(line.strip())]
    found = _quote(other)
    if not data:
        reason = f"{file.name} holds no CSV data (no header, no dated rows); found: {found}"
        return _empty(), [Rejection(origin=str(file), reason=reason)], []
    frame = pl.DataFrame(data, schema=list(POSITIONAL), orient="row")
    notes, skipped = [], []
    if other:
        reason = (
            f"{file.name}: skipped {len(other)} non-data lines (found: {found}); delivered "
            f"{len(data)} dated rows read as Date,Open,High,Low,Close,Adj Close,Volume"
        )
        notes.append(Rejection(origin=str(file), reason=reason))
        # Lines of a file that also holds data are rows received; a page with no data is not.
        skipped.append(Skipped(str(file), "not a dated data line", len(other)))
    bars, more_notes, more_skipped = _to_bars(frame, file=file, notes=notes)
    return bars, more_notes, [*skipped, *more_skipped]


def _to_bars(
    frame: pl.DataFrame, *, file: Path, notes: list[Rejection]
) -> tuple[pl.DataFrame, list[Rejection], list[Skipped]]:
    """Map a file's columns onto BAR_COLUMNS and coerce the types; unparseable values -> null."""
    mapping = {}
    for column in frame.columns:
        target = COLUMN_NAMES.get(re.sub(r"[\s_]", "", column.lower()))
        if target is not None and target not in mapping.values():
            mapping[column] = target
    frame = frame.rename(mapping).select(list(dict.fromkeys(mapping.values())))
    if "symbol" not in frame.columns:
        frame = frame.with_columns(symbol=pl.lit(_stem(file)))
    missing = [c for c in BAR_COLUMNS if c not in frame.columns]
    if missing:
        reason = f"{file.name} has no column(s) {missing}; its columns are {list(mapping)}"
        return _empty(), [Rejection(origin=str(file), reason=reason)], []
    prices = [
        pl.col(c).cast(pl.Float64, strict=False).fill_nan(None) for c in list(BAR_COLUMNS)[2:]
    ]
    bars = frame.select(
        pl.col("symbol").cast(pl.String), _session(frame.schema["session"]), *prices
    )
    undated = bars.get_column("session").null_count()
    if undated:
        examples = frame.filter(bars.get_column("session").is_null()).get_column("session")
        reason = (
            f"{file.name}: skipped {undated} rows whose date could not be read "
            f"(e.g. {examples.cast(pl.String).head(3).to_list()})"
        )
        notes = [*notes, Rejection(origin=str(file), reason=reason)]
        bars = bars.filter(pl.col("session").is_not_null())
        return bars, notes, [Skipped(str(file), "date unreadable", undated)]
    return bars, notes, []


def _session(dtype: pl.DataType) -> pl.Expr:
    """Return the column ``session`` as a date, whatever the file stored it as."""
    column = pl.col("session")
    if dtype == pl.Date:
        return column
    if isinstance(dtype, pl.Datetime):
        return column.dt.date()
    return column.cast(pl.String).str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)


def _is_header(line: str) -> bool:
    names = {re.sub(r"[\s_\"']", "", field.lower()) for field in line.split(",")}
    targets = {COLUMN_NAMES[n] for n in names if n in COLUMN_NAMES}
    return "session" in targets and len(targets) >= 2


def _is_data_file(path: Path) -> bool:
    return path.name.lower().endswith(SUFFIXES)


def _stem(file: Path) -> str:
    """Return the symbol a per-symbol file is named after: BRK.B.csv.gz -> BRK.B."""
    name = file.name
    for suffix in (".gz", ".csv", ".parquet"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return name


def _quote(lines: list[str], *, limit: int = 120) -> str:
    """Return the start of ``lines`` with whitespace collapsed, quoted, for a message."""
    joined = " ".join(" ".join(lines[:12]).split())
    return repr(joined if len(joined) <= limit else joined[:limit] + "...")


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=BAR_COLUMNS)
