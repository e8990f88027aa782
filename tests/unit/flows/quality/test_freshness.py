"""Freshness verdicts on hand-made latest data at fixed instants: exchange sessions across DST
and holidays, market phases and crypto weekends, macro cadences and lags (against a slow
day-by-day oracle), news ages, and the per-source summary."""

from __future__ import annotations

import calendar as months
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.quality.freshness import Freshness, FreshnessRules, Latest, age_text, summarize
from flows.quality.freshness_checks import assess
from flows.quality.freshness_macro import cutoff_day, due
from flows.quality.freshness_minute import expected_minute
from quantlake.settings import FreshnessSettings, MacroSettings


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def rules(**limits: object) -> FreshnessRules:
    return FreshnessRules(limits=FreshnessSettings(**limits))


def daily(latest: dt.date | None, now: dt.datetime, **limits: object) -> Freshness:
    return assess("daily_bars", Latest("AAA", latest), now=now, rules=rules(**limits))


# -- daily bars: the last completed exchange session -------------------------------------------
@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # Friday 2024-03-08 closes at 21:00 UTC (EST); Monday 2024-03-11 at 20:00 UTC (EDT).
        (utc(2024, 3, 8, 20, 59), dt.date(2024, 3, 7)),
        (utc(2024, 3, 8, 21, 0), dt.date(2024, 3, 8)),
        (utc(2024, 3, 11, 19, 59), dt.date(2024, 3, 8)),
        (utc(2024, 3, 11, 20, 0), dt.date(2024, 3, 11)),
        # Good Friday 2024-03-29 is a holiday: Thursday stays the last session until Monday's close.
        (utc(2024, 3, 29, 22, 0), dt.date(2024, 3, 28)),
        (utc(2024, 4, 1, 19, 59), dt.date(2024, 3, 28)),
        # 2024-07-03 is a half day (close 13:00 New York = 17:00 UTC); 07-04 a holiday.
        (utc(2024, 7, 3, 17, 0), dt.date(2024, 7, 3)),
        (utc(2024, 7, 5, 12, 0), dt.date(2024, 7, 3)),
    ],
)
def test_daily_bars_are_expected_up_to_the_last_completed_session(
    now: dt.datetime, expected: dt.date
) -> None:
    fresh = daily(expected, now)
    assert (fresh.verdict, fresh.expected, fresh.behind, fresh.unit) == (
        "fresh",
        expected,
        0,
        "sessions",
    )
    # One session short of that, across weekends and holidays alike, is stale.
    earlier = {
        dt.date(2024, 3, 7): dt.date(2024, 3, 6),
        dt.date(2024, 3, 8): dt.date(2024, 3, 7),
        dt.date(2024, 3, 11): dt.date(2024, 3, 8),
        dt.date(2024, 3, 28): dt.date(2024, 3, 27),
        dt.date(2024, 7, 3): dt.date(2024, 7, 2),
    }[expected]
    stale = daily(earlier, now)
    assert (stale.verdict, stale.behind) == ("stale", 1)
    assert "1 sessions behind" in stale.reason


def test_daily_age_runs_from_the_session_close_and_the_limit_is_configurable() -> None:
    now = utc(2024, 3, 11, 20, 0)
    fresh = daily(dt.date(2024, 3, 8), now, daily_max_sessions_behind=1)
    assert (fresh.verdict, fresh.behind) == ("fresh", 1)
    assert fresh.age == now - utc(2024, 3, 8, 21, 0)
    two = daily(dt.date(2024, 3, 7), now, daily_max_sessions_behind=1)
    assert (two.verdict, two.behind) == ("stale", 2)


def test_no_data_is_stale_and_naive_now_is_refused() -> None:
    missing = daily(None, utc(2024, 3, 11, 20, 0))
    assert (missing.verdict, missing.reason, missing.latest) == ("stale", "no validated data", None)
    with pytest.raises(ValueError, match="timezone"):
        daily(dt.date(2024, 3, 8), dt.datetime(2024, 3, 11, 20))
    with pytest.raises(ValueError, match="options"):
        assess("options", Latest("X", None), now=utc(2024, 3, 11), rules=rules())


# -- minute bars: the latest completed minute of the market phases; crypto around the clock -----
def minute(
    latest: dt.datetime | None, now: dt.datetime, *, crypto: bool = False, **limits: object
) -> Freshness:
    item = Latest("BTC/USD" if crypto else "SPY", latest, crypto=crypto)
    return assess("minute_bars", item, now=now, rules=rules(**limits))


def test_equity_minutes_during_the_session_lag_by_at_most_the_limit() -> None:
    now = utc(2024, 3, 11, 15, 0, 30)  # 11:00:30 New York: the 14:59 UTC bar has ended
    assert minute(utc(2024, 3, 11, 14, 59), now).behind == 0
    ok = minute(utc(2024, 3, 11, 14, 44), now)
    assert (ok.verdict, ok.expected, ok.behind) == ("fresh", utc(2024, 3, 11, 14, 59), 15)
    late = minute(utc(2024, 3, 11, 14, 43), now)
    assert (late.verdict, late.behind, late.age) == ("stale", 16, dt.timedelta(minutes=16.5))


def test_after_the_close_the_last_minute_of_the_configured_phases_is_expected() -> None:
    now = utc(2024, 3, 11, 22, 0)  # 18:00 New York (EDT): post-market
    assert expected_minute(now, ("regular",), exchange="XNYS") == utc(2024, 3, 11, 19, 59)
    assert expected_minute(now, ("regular", "post"), exchange="XNYS") == utc(2024, 3, 11, 21, 59)
    # 05:00 New York: pre-market (from 04:00 = 08:00 UTC) has run an hour; regular not yet today.
    early = utc(2024, 3, 11, 9, 0)
    assert expected_minute(early, ("pre",), exchange="XNYS") == utc(2024, 3, 11, 8, 59)
    assert expected_minute(early, ("regular",), exchange="XNYS") == utc(2024, 3, 8, 20, 59)
    with pytest.raises(ValueError, match="overnight"):
        expected_minute(now, ("overnight",), exchange="XNYS")


def test_over_a_weekend_equities_wait_for_monday_while_crypto_must_keep_coming() -> None:
    sunday = utc(2024, 3, 10, 12, 0, 30)
    friday_last = utc(2024, 3, 8, 20, 59)  # Friday's last regular minute (EST close 21:00 UTC)
    equity = minute(friday_last, sunday)
    assert (equity.verdict, equity.expected, equity.behind) == ("fresh", friday_last, 0)
    coin = minute(friday_last, sunday, crypto=True)
    assert (coin.verdict, coin.expected) == ("stale", utc(2024, 3, 10, 11, 59))
    assert coin.behind == (utc(2024, 3, 10, 11, 59) - friday_last) // dt.timedelta(minutes=1)
    assert minute(utc(2024, 3, 10, 11, 50), sunday, crypto=True).verdict == "fresh"


# -- macro: cadence and publication lag --------------------------------------------------------
def macro(
    series: str, latest: dt.date, now: dt.datetime, frequency: str | None, **kw: object
) -> Freshness:
    settings = MacroSettings(**kw) if kw else MacroSettings()
    found = FreshnessRules(macro=settings)
    return assess("macro", Latest(series, latest, frequency=frequency), now=now, rules=found)


def test_a_monthly_series_is_due_its_lag_after_the_month_ends_with_a_grace() -> None:
    october = dt.date(2025, 10, 1)  # CPI: 15 days after the month, at 22:00 UTC
    before = macro("CPIAUCSL", october, utc(2025, 12, 15, 21, 59), "M")
    assert (before.verdict, before.behind, before.expected) == ("fresh", 0, october)
    due_now = macro("CPIAUCSL", october, utc(2025, 12, 15, 22, 0), "M")
    assert (due_now.verdict, due_now.behind, due_now.expected) == ("fresh", 1, dt.date(2025, 11, 1))
    assert "grace" in due_now.reason
    assert macro("CPIAUCSL", october, utc(2025, 12, 18, 21, 59), "M").verdict == "fresh"
    overdue = macro("CPIAUCSL", october, utc(2025, 12, 18, 22, 0), "M")
    assert (overdue.verdict, overdue.behind) == ("stale", 1)
    assert overdue.age == utc(2025, 12, 18, 22, 0) - utc(2025, 11, 1)


def test_a_daily_series_is_expected_on_weekdays_only() -> None:
    friday = dt.date(2024, 4, 5)  # DGS10: one day's lag
    monday = macro("DGS10", friday, utc(2024, 4, 8, 23, 0), "D")
    assert (monday.verdict, monday.behind, monday.expected) == ("fresh", 0, friday)
    tuesday = macro("DGS10", friday, utc(2024, 4, 9, 22, 0), "D")
    assert (tuesday.behind, tuesday.expected, tuesday.verdict) == (1, dt.date(2024, 4, 8), "fresh")
    week = macro("DGS10", friday, utc(2024, 4, 12, 22, 0), "D")
    assert (week.verdict, week.behind, week.expected) == ("stale", 4, dt.date(2024, 4, 11))


def test_weekly_quarterly_annual_and_overridden_cadences() -> None:
    weekly = macro("ICSA", dt.date(2024, 3, 30), utc(2024, 4, 11, 22, 0), "W")  # 5-day lag
    assert (weekly.behind, weekly.expected) == (1, dt.date(2024, 4, 6))
    q2 = dt.date(2024, 4, 1)  # GDP: Q3 ends 09-30, out 30 days later
    assert macro("GDP", q2, utc(2024, 10, 30, 21, 0), "Q").behind == 0
    gdp = macro("GDP", q2, utc(2024, 11, 5), "Q")
    assert (gdp.verdict, gdp.behind, gdp.expected) == ("stale", 1, dt.date(2024, 7, 1))
    # A series FRED calls monthly, configured annual (default lag: 30 days after 12-31).
    annual = macro("XYZ", dt.date(2023, 1, 1), utc(2025, 2, 10), "M", frequencies={"xyz": "A"})
    assert (annual.verdict, annual.behind, annual.expected) == ("stale", 1, dt.date(2024, 1, 1))
    unknown = macro("XYZ", dt.date(2023, 1, 1), utc(2025, 2, 10), None)
    assert (unknown.verdict, unknown.expected) == ("unknown", None)
    assert "QUANTLAKE_MACRO__FREQUENCIES" in unknown.reason


def _end(start: dt.date, frequency: str) -> dt.date:
    """Return the last day of the period starting ``start`` (the slow way)."""
    if frequency in ("D", "W"):
        return start
    month = start.month + {"M": 0, "Q": 2, "A": 11}[frequency]
    return dt.date(start.year, month, months.monthrange(start.year, month)[1])


def _next(start: dt.date, frequency: str) -> dt.date:
    if frequency == "D":
        step = start + dt.timedelta(days=1)
        while step.weekday() >= 5:
            step += dt.timedelta(days=1)
        return step
    if frequency == "W":
        return start + dt.timedelta(weeks=1)
    month = start.month - 1 + {"M": 1, "Q": 3, "A": 12}[frequency]
    return dt.date(start.year + month // 12, month % 12 + 1, 1)


def _aligned(day: dt.date, frequency: str) -> dt.date:
    if frequency == "D":
        while day.weekday() >= 5:
            day -= dt.timedelta(days=1)
        return day
    if frequency == "W":
        return day
    span = {"M": 1, "Q": 3, "A": 12}[frequency]
    return dt.date(day.year, (day.month - 1) // span * span + 1, 1)


@given(
    latest=st.dates(dt.date(2015, 1, 1), dt.date(2024, 12, 31)),
    days_after=st.integers(0, 500),
    hour=st.integers(0, 23),
    frequency=st.sampled_from(["D", "W", "M", "Q", "A"]),
    lag=st.integers(0, 60),
)
def test_due_periods_match_a_period_by_period_count(
    latest: dt.date, days_after: int, hour: int, frequency: str, lag: int
) -> None:
    latest = _aligned(latest, frequency)
    now = dt.datetime.combine(latest + dt.timedelta(days=days_after), dt.time(hour), dt.UTC)
    release = dt.time(22, 0)
    behind, expected, period = 0, latest, _next(latest, frequency)
    while (
        dt.datetime.combine(_end(period, frequency) + dt.timedelta(days=lag), release, dt.UTC)
        <= now
    ):
        behind, expected, period = behind + 1, period, _next(period, frequency)
    found = due(latest, cutoff_day(now, lag_days=lag, release_time=release), frequency)
    assert (found.behind, found.expected) == (behind, expected)


# -- news: a maximum age -----------------------------------------------------------------------
def test_news_is_stale_past_its_maximum_age() -> None:
    now = utc(2024, 3, 11, 19, 30)
    item = Latest("*", utc(2024, 3, 10, 0, 0))
    fresh = assess("news", item, now=now, rules=rules())
    assert (fresh.verdict, fresh.age, fresh.expected) == (
        "fresh",
        dt.timedelta(hours=43.5),
        now - dt.timedelta(hours=48),
    )
    stale = assess("news", item, now=now, rules=rules(news_max_age_hours=24))
    assert stale.verdict == "stale" and "1d 19h old (1d 0h allowed)" in stale.reason


# -- the per-source summary, and how ages read -------------------------------------------------
def test_summary_is_the_worst_verdict_with_the_newest_data_and_the_laggards_named() -> None:
    now = utc(2024, 3, 11, 20, 0)
    items = [
        assess("daily_bars", Latest(symbol, day), now=now, rules=rules())
        for symbol, day in (("AAA", dt.date(2024, 3, 11)), ("BBB", dt.date(2024, 3, 7)),
                            ("CCC", dt.date(2024, 3, 11)))
    ]  # fmt: skip
    whole = summarize(items)
    assert (whole.subject, whole.verdict, whole.stale, whole.subjects) == (
        "*",
        "stale",
        ("BBB",),
        3,
    )
    assert (whole.latest, whole.behind) == (dt.date(2024, 3, 11), 2)
    assert whole.reason == "1 of 3 subjects not fresh: BBB"
    assert summarize([items[0], items[2]]).reason == "all 2 subjects fresh"
    assert summarize([items[1]]).reason == items[1].reason  # one subject speaks for itself
    with pytest.raises(ValueError, match="at least one"):
        summarize([])
    assert whole.as_json()["stale"] == ["BBB"] and whole.as_json()["latest"] == "2024-03-11"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "-"), (0, "0m"), (59, "0m"), (3660, "1h 1m"), (90_000, "1d 1h"), (-120, "-2m")],
)
def test_age_text(seconds: int | None, text: str) -> None:
    assert age_text(seconds) == text
