"""Prefect schedules on the exchange calendar: weekdays at an exchange-local time, holidays out."""

from __future__ import annotations

import datetime as dt

from warehouse import calendar

TIMEZONES = {"XNYS": "America/New_York", "XNAS": "America/New_York"}


def session_rrule(*, at: dt.time, start: dt.date, years: int = 2, exchange: str = "XNYS") -> str:
    """Return an RFC 5545 rule for every session from ``start`` at local time ``at``.

    Weekdays that are exchange holidays become EXDATEs, so the Prefect UI shows the real
    upcoming runs. The list covers ``years`` ahead; `quantlake serve` rebuilds it at start.
    """
    end = start + dt.timedelta(days=366 * years)
    open_days = set(calendar.sessions(start, end, exchange=exchange))
    holidays = [
        start + dt.timedelta(days=i)
        for i in range((end - start).days + 1)
        if (start + dt.timedelta(days=i)).weekday() < 5
        and (start + dt.timedelta(days=i)) not in open_days
    ]
    stamp = at.strftime("T%H%M%S")
    lines = [
        f"DTSTART:{start:%Y%m%d}{stamp}",
        f"RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;UNTIL={end:%Y%m%d}T235959",
    ]
    if holidays:
        lines.append("EXDATE:" + ",".join(f"{d:%Y%m%d}{stamp}" for d in holidays))
    return "\n".join(lines)
