"""Which observation of a macro series should be out by now: its cadence and publication lag.

FRED dates an observation by the start of its period (weekly series by the week's last day, see
flows/ingest/macro_knowledge.py). A period is due once its end plus the series' publication lag has
passed, at the release time of day (UTC). Daily series are expected on weekdays only: FRED
writes holidays as rows without a value, but no rows at all for weekends.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from quantlake.settings import MacroFrequency

_MONTHS = {"M": 1, "Q": 3, "A": 12}


@dataclass(frozen=True)
class Due:
    """The newest observation out by a cutoff day, and how many came after ``latest``."""

    expected: dt.date
    behind: int


def period_end(start: dt.date, frequency: MacroFrequency) -> dt.date:
    """Return the last day of the period an observation dated ``start`` covers."""
    if frequency in ("D", "W"):
        return start
    index = _index(start, frequency)
    return _start(index + 1, frequency) - dt.timedelta(days=1)


def cutoff_day(now: dt.datetime, *, lag_days: int, release_time: dt.time) -> dt.date:
    """Return the last period end whose publication (end + lag, at release_time UTC) is by now."""
    published_today = now.astimezone(dt.UTC).time() >= release_time
    today = now.astimezone(dt.UTC).date()
    return today - dt.timedelta(days=lag_days + (0 if published_today else 1))


def due(latest: dt.date, cutoff: dt.date, frequency: MacroFrequency) -> Due:
    """Return the newest observation whose period ends by ``cutoff``, counted from ``latest``."""
    if frequency == "D":
        expected = np.busday_offset(cutoff, 0, roll="backward").astype(dt.date)
        behind = int(np.busday_count(latest + dt.timedelta(days=1), cutoff + dt.timedelta(days=1)))
        return Due(max(expected, latest), max(behind, 0))
    if frequency == "W":
        weeks = (cutoff - latest).days // 7
        return Due(latest + dt.timedelta(weeks=max(weeks, 0)), max(weeks, 0))
    # The last whole period ending by cutoff is the one before the period holding cutoff + 1.
    last = _index(cutoff + dt.timedelta(days=1), frequency) - 1
    behind = last - _index(latest, frequency)
    return Due(_start(last, frequency) if behind > 0 else latest, max(behind, 0))


def _index(day: dt.date, frequency: MacroFrequency) -> int:
    """Return the number of the period holding ``day`` (months, quarters or years since 0)."""
    months = _MONTHS[frequency]
    return (day.year * 12 + day.month - 1) // months


def _start(index: int, frequency: MacroFrequency) -> dt.date:
    months = index * _MONTHS[frequency]
    return dt.date(months // 12, months % 12 + 1, 1)
