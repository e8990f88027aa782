"""Read the time stamps news exports write, as UTC instants with their precision.

Formats seen in the wild (and in /work/shared/data/news, sentiment):

- ISO 8601 with a zone: ``2014-01-01T03:59:03Z`` (StockNet) -> that instant;
- CNBC: ``" 7:51  PM ET Fri, 17 July 2020"`` (month full or abbreviated) -> US Eastern, DST
  included, whatever the publisher's zone (the text says ET);
- Guardian: ``18-Jul-20``; Reuters: ``Jul 18 2020``; ISO dates and naive ISO times -> read in
  the publisher's zone (``zone``), since the text names none.

A date without a time is published "some time that day": ``published_at`` is the start of the
local day and ``known_by`` its end (the next local midnight), the first moment we can be sure
it was out. For a time to the minute or second, both are the same instant.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

Precision = Literal["second", "minute", "day"]
EASTERN = ZoneInfo("America/New_York")
MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_CNBC = re.compile(
    r"^(\d{1,2}):(\d{2})\s*([AP]M)\s+ET\s+[A-Za-z]{3},\s+(\d{1,2})\s+([A-Za-z]+)\.?\s+(\d{4})$"
)
_DAY_MON_YY = re.compile(r"^(\d{1,2})-([A-Za-z]+)-(\d{2})$")
_MON_DAY_YEAR = re.compile(r"^([A-Za-z]+)\.?\s+(\d{1,2}),?\s+(\d{4})$")


@dataclass(frozen=True)
class Stamp:
    """A time stamp read: when it says the item was published, and by when it surely was."""

    published_at: dt.datetime
    known_by: dt.datetime
    precision: Precision


def read_time(text: str | None, *, zone: ZoneInfo) -> Stamp | None:
    """Return the stamp ``text`` denotes (naive times in ``zone``), or None when unreadable."""
    cleaned = " ".join((text or "").split())
    if not cleaned:
        return None
    if m := _ISO.match(cleaned):
        return _iso(cleaned, zone=zone, precision="second" if m[1] else "minute")
    if m := _ISO_DATE.match(cleaned):
        return _day(int(m[1]), int(m[2]), int(m[3]), zone=zone)
    if m := _CNBC.match(cleaned):
        hour = int(m[1]) % 12 + (12 if m[3] == "PM" else 0)
        month = _month(m[5])
        if month is None:
            return None
        return _exact(int(m[6]), month, int(m[4]), hour, int(m[2]), zone=EASTERN)
    if m := _DAY_MON_YY.match(cleaned):
        month = _month(m[2])
        return None if month is None else _day(2000 + int(m[3]), month, int(m[1]), zone=zone)
    if m := _MON_DAY_YEAR.match(cleaned):
        month = _month(m[1])
        return None if month is None else _day(int(m[3]), month, int(m[2]), zone=zone)
    return None


def _month(name: str) -> int | None:
    """Return the month ``name`` names: in full or abbreviated to 3+ letters ("Sept" too)."""
    lower = name.lower()
    if len(lower) < 3:
        return None
    found = [i for i, full in enumerate(MONTHS, start=1) if full.startswith(lower)]
    if not found and lower == "sept":
        return 9
    return found[0] if len(found) == 1 else None


def _iso(text: str, *, zone: ZoneInfo, precision: Precision) -> Stamp | None:
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:  # an impossible date or time, e.g. 2020-02-30
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    at = parsed.astimezone(dt.UTC)
    return Stamp(at, at, precision)


def _exact(
    year: int, month: int, day: int, hour: int, minute: int, *, zone: ZoneInfo
) -> Stamp | None:
    try:
        at = dt.datetime(year, month, day, hour, minute, tzinfo=zone).astimezone(dt.UTC)
    except ValueError:  # an impossible date, e.g. 31 June
        return None
    return Stamp(at, at, "minute")


def _day(year: int, month: int, day: int, *, zone: ZoneInfo) -> Stamp | None:
    try:
        date = dt.date(year, month, day)
    except ValueError:
        return None
    start = dt.datetime.combine(date, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(date + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    return Stamp(start.astimezone(dt.UTC), end.astimezone(dt.UTC), "day")
