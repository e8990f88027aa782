"""Schedules fire on sessions only, at exchange-local time."""

from __future__ import annotations

import datetime as dt
import itertools

from prefect.client.schemas.schedules import RRuleSchedule

from flows.schedules import session_rrule
from warehouse import calendar


def test_rrule_fires_on_every_session_and_no_holiday() -> None:
    start = dt.date(2026, 11, 22)
    rule = session_rrule(at=dt.time(17, 30), start=start)
    schedule = RRuleSchedule(rrule=rule, timezone="America/New_York").to_rrule()
    fired = list(itertools.islice(schedule, 300))
    days = [f.date() for f in fired]
    assert days == calendar.sessions(start, days[-1])
    assert all((f.hour, f.minute) == (17, 30) for f in fired)
    assert dt.date(2026, 11, 26) not in days  # Thanksgiving
    assert dt.date(2026, 12, 25) not in days
