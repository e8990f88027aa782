"""Sessions come from the exchange calendar, not from weekdays."""

from __future__ import annotations

import datetime as dt

from warehouse import calendar

U = dt.UTC


def test_sessions_skip_weekends_and_holidays() -> None:
    got = calendar.sessions(dt.date(2024, 12, 20), dt.date(2025, 1, 3))
    assert dt.date(2024, 12, 25) not in got
    assert dt.date(2025, 1, 1) not in got
    assert dt.date(2024, 12, 21) not in got
    assert len(got) == 9


def test_hurricane_sandy_closure_is_not_a_session() -> None:
    assert not calendar.is_session(dt.date(2012, 10, 29))
    assert calendar.is_session(dt.date(2012, 10, 31))


def test_last_completed_session_respects_the_close() -> None:
    # 2026-11-20 is a Friday; NYSE closes 21:00 UTC in November.
    assert calendar.last_completed_session(dt.datetime(2026, 11, 20, 20, 59, tzinfo=U)) == dt.date(
        2026, 11, 19
    )
    assert calendar.last_completed_session(dt.datetime(2026, 11, 20, 21, 0, tzinfo=U)) == dt.date(
        2026, 11, 20
    )
    assert calendar.last_completed_session(dt.datetime(2026, 11, 22, 12, tzinfo=U)) == dt.date(
        2026, 11, 20
    )


def test_half_day_closes_early() -> None:
    # The day after Thanksgiving closes at 13:00 New York = 18:00 UTC.
    assert calendar.last_completed_session(dt.datetime(2026, 11, 27, 18, 0, tzinfo=U)) == dt.date(
        2026, 11, 27
    )


def test_sessions_behind_counts_completed_sessions_only() -> None:
    now = dt.datetime(2026, 11, 22, tzinfo=U)
    assert calendar.sessions_behind(dt.date(2026, 11, 20), now) == 0
    assert calendar.sessions_behind(dt.date(2026, 11, 18), now) == 2


def test_next_and_previous_session_cross_holidays() -> None:
    assert calendar.next_session(dt.date(2024, 12, 24)) == dt.date(2024, 12, 26)
    assert calendar.previous_session(dt.date(2024, 12, 26)) == dt.date(2024, 12, 24)
