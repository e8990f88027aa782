"""News headlines and social posts from CSV files: CNBC/Guardian/Reuters exports, StockNet tweets.

Decoding (:func:`flows.sources.decoding.decode`): a file that is valid UTF-8 is read as UTF-8;
any other in the configured encoding (Windows-1252 for these exports: the Guardian file has a
0x91 curly quote on row 2). Bytes that encoding cannot decode become U+FFFD and are reported
with their lines, never a crash.

Columns, matched case-insensitively: a headline (``Headlines``, ``headline``, ``title``,
``text``), a time (``Time``, ``date``, ``published_at``, ``created_at_utc``...), and optionally a
body (``Description``), ``url``/``link`` and ``symbol``/``ticker``. The publisher is the file
name up to its first "_" (``cnbc_headlines.csv`` -> cnbc). Blank rows (",,") are skipped and
counted; whitespace inside texts is collapsed. Times are read by :mod:`flows.sources.news_times`.
"""

from __future__ import annotations

import io
import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl

from flows.sources.base import Rejection, SourceError
from flows.sources.decoding import decode
from flows.sources.files import gunzip
from flows.sources.news_times import read_time

# Columns of NewsBatch.items, in order. ``line`` numbers the CSV records of the file (the header
# is 1; a quoted text spanning several lines counts once). ``known_by`` is the first moment the
# item was surely out (the end of the day for a date without a time); null where the time could
# not be read.
ITEM_COLUMNS: dict[str, pl.DataType] = {
    "origin": pl.String(),
    "line": pl.Int64(),
    "publisher": pl.String(),
    "symbol": pl.String(),
    "time_text": pl.String(),
    "published_at": pl.Datetime("us", "UTC"),
    "time_precision": pl.String(),
    "known_by": pl.Datetime("us", "UTC"),
    "headline": pl.String(),
    "body": pl.String(),
    "url": pl.String(),
}
ROLES = {
    "headline": ("headlines", "headline", "title", "text"),
    # Exact instants first: a file with a day column and an instant column is read by the instant.
    "time": ("published_at", "created_at_utc", "created_at", "time", "published", "date"),
    "body": ("description", "body", "summary"),
    "url": ("url", "link"),
    "symbol": ("symbol", "ticker"),
}
READ_ERRORS = (OSError, EOFError, zlib.error)


@dataclass(frozen=True)
class NewsBatch:
    """What one fetch of news returned: items (ITEM_COLUMNS) in file then row order.

    ``encodings`` names the encoding each file was decoded with.
    """

    source: str
    items: pl.DataFrame
    rejections: tuple[Rejection, ...] = ()
    encodings: dict[str, str] = field(default_factory=dict)


class NewsSource:
    """News CSV files: every item in them, decoded, with times read in the publisher's zone."""

    name = "news"

    def __init__(
        self, paths: Sequence[Path], *, encoding: str, zone_of: Callable[[str], str]
    ) -> None:
        self.paths = tuple(Path(p) for p in paths)
        self.encoding = encoding
        self.zone_of = zone_of

    def fetch(self) -> NewsBatch:
        """Read every file; return its items and what in the files was not news."""
        frames, rejections, encodings = [], [], {}
        for file in files_in(self.paths):
            try:
                text, encoding, notes = decode(_bytes(file), fallback=self.encoding, name=file.name)
                publisher = publisher_of(file)
                zone = ZoneInfo(self.zone_of(publisher))
                frame, more = read_news(text, file=file, publisher=publisher, zone=zone)
            except NotNews as error:
                rejections.append(Rejection(origin=str(file), reason=str(error)))
                continue
            except READ_ERRORS as error:
                reason = f"cannot read {file.name}: {type(error).__name__}: {error}"
                rejections.append(Rejection(origin=str(file), reason=reason))
                continue
            frames.append(frame)
            encodings[str(file)] = encoding
            rejections.extend(Rejection(origin=str(file), reason=n) for n in [*notes, *more])
        items = pl.concat(frames) if frames else pl.DataFrame(schema=ITEM_COLUMNS)
        return NewsBatch(self.name, items, tuple(rejections), encodings)


class NotNews(ValueError):
    """A file holds no news items; the message names it and what it held."""


def files_in(paths: Sequence[Path]) -> list[Path]:
    """Return the CSV files of ``paths`` (folders read recursively)."""
    found: list[Path] = []
    for path in paths:
        if not path.exists():
            raise SourceError(
                f"{path} does not exist: set QUANTLAKE_NEWS__DIRECTORY to a folder of news CSVs "
                "or QUANTLAKE_NEWS__FILES to a JSON list of them"
            )
        if path.is_file():
            found.append(path)
            continue
        inside = sorted(
            p for p in path.rglob("*") if p.is_file() and p.name.lower().endswith((".csv", ".gz"))
        )
        if not inside:
            raise SourceError(f"{path} holds no *.csv or *.csv.gz news files")
        found.extend(inside)
    return found


def read_news(
    text: str, *, file: Path, publisher: str, zone: ZoneInfo
) -> tuple[pl.DataFrame, list[str]]:
    """Read one decoded file into ITEM_COLUMNS, with notes on the rows that held nothing."""
    if "\0" in text or not text.strip():
        what = "empty" if not text.strip() else "binary, not text"
        raise NotNews(f"{file.name} is not news data: the file is {what}")
    try:
        frame = pl.read_csv(io.StringIO(text), infer_schema=False)
    except pl.exceptions.PolarsError as error:
        raise NotNews(
            f"{file.name} is not news data: not CSV ({error}); found: {_quote(text)}"
        ) from error
    columns = _columns(frame.columns)
    if "headline" not in columns or "time" not in columns:
        raise NotNews(
            f"{file.name} is not news data: no headline and time columns (found columns "
            f"{frame.columns}; first line {_quote(text.partition(chr(10))[0])})"
        )
    frame = frame.with_row_index("line", offset=2)
    blank = pl.all_horizontal(
        pl.col(c).fill_null("").str.strip_chars() == "" for c in columns.values()
    )
    skipped = frame.filter(blank).height
    items = _items(frame.filter(~blank), columns=columns, file=file, publisher=publisher, zone=zone)
    notes = [f"{file.name}: skipped {skipped} blank rows"] if skipped else []
    return items, notes


def _items(
    frame: pl.DataFrame, *, columns: dict[str, str], file: Path, publisher: str, zone: ZoneInfo
) -> pl.DataFrame:
    def text(role: str) -> pl.Expr:
        if role not in columns:
            return pl.lit(None, pl.String)
        return pl.col(columns[role]).str.replace_all(r"\s+", " ").str.strip_chars()

    times = frame.get_column(columns["time"]).to_list()
    stamps = [read_time(t, zone=zone) for t in times]
    symbol = text("symbol").str.strip_chars_start("$").str.to_uppercase()
    return frame.select(
        origin=pl.lit(str(file)),
        line=pl.col("line").cast(pl.Int64),
        publisher=pl.lit(publisher),
        symbol=pl.when(symbol != "").then(symbol),
        time_text=pl.col(columns["time"]),
        published_at=pl.Series([s.published_at if s else None for s in stamps], dtype=_UTC),
        time_precision=pl.Series([s.precision if s else None for s in stamps], dtype=pl.String),
        known_by=pl.Series([s.known_by if s else None for s in stamps], dtype=_UTC),
        headline=text("headline").fill_null(""),
        body=pl.when(text("body") != "").then(text("body")),
        url=pl.when(text("url") != "").then(text("url")),
    )


_UTC = pl.Datetime("us", "UTC")


def _columns(names: list[str]) -> dict[str, str]:
    """Return, per role, the first column that plays it."""
    lowered = {re.sub(r"[\s\"']", "", n.lower()): n for n in names}
    found = {}
    for role, candidates in ROLES.items():
        match = next((lowered[c] for c in candidates if c in lowered), None)
        if match is not None and match not in found.values():
            found[role] = match
    return found


def publisher_of(file: Path) -> str:
    """Return the publisher a file is named after: ``cnbc_headlines.csv`` -> cnbc."""
    return file.name.split(".")[0].split("_")[0].lower()


def _bytes(file: Path) -> bytes:
    raw = file.read_bytes()
    return gunzip(raw) if file.name.lower().endswith(".gz") else raw


def _quote(text: str, *, limit: int = 120) -> str:
    joined = " ".join(text[: limit * 4].split())
    return repr(joined if len(joined) <= limit else joined[:limit] + "...")
