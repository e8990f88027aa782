"""One freshness check per dataset, and :func:`assess` choosing it (pure; time is an argument).

See flows/quality/freshness.py for what the verdicts mean.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import polars as pl

from flows.quality import freshness_macro as macro
from flows.quality.freshness import Freshness, FreshnessRules, Latest, Verdict, When, age_text, text
from flows.quality.freshness_minute import expected_minute
from warehouse import calendar

MINUTE = dt.timedelta(minutes=1)
_DAY = dt.timedelta(days=1)


def assess(dataset: str, item: Latest, *, now: dt.datetime, rules: FreshnessRules) -> Freshness:
    """Return the freshness of one subject of ``dataset`` at ``now``."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    if dataset not in _CHECKS:
        raise ValueError(f"no freshness rule for dataset {dataset!r}; known: {sorted(_CHECKS)}")
    return _CHECKS[dataset](item, now.astimezone(dt.UTC), rules)


def assess_frame(
    dataset: str, frame: pl.DataFrame, *, now: dt.datetime, rules: FreshnessRules
) -> list[Freshness]:
    """Assess each row of (symbol, latest, latest_knowledge_time, crypto[, frequency])."""
    return [
        assess(dataset, latest_of(r), now=now, rules=rules) for r in frame.iter_rows(named=True)
    ]


def latest_of(row: dict[str, Any]) -> Latest:
    """Return a freshness read's row (symbol, latest, latest_knowledge_time, ...) as a Latest."""
    return Latest(
        subject=row["symbol"],
        latest=row["latest"],
        knowledge=row["latest_knowledge_time"],
        crypto=bool(row.get("crypto")),
        frequency=row.get("frequency"),
    )


def _judged(item: Latest, verdict: Verdict, reason: str, **found: Any) -> Freshness:
    return Freshness(item.subject, verdict, reason, item.latest, item.knowledge, **found)


def _behind(
    item: Latest, *, expected: When, behind: int, limit: int, unit: str, age: dt.timedelta
) -> Freshness:
    """Judge a subject ``behind`` units of ``unit`` behind ``expected``, ``limit`` allowed."""
    if behind:
        why = f"{behind} {unit} behind {text(expected)} ({limit} allowed)"
    else:
        why = f"up to date with {text(expected)}"
    verdict: Verdict = "stale" if behind > limit else "fresh"
    return _judged(item, verdict, why, expected=expected, behind=behind, unit=unit, age=age)


def _missing(item: Latest, expected: When | None, unit: str) -> Freshness:
    found = {"expected": expected, "behind": None, "unit": unit, "age": None}
    return _judged(item, "stale", "no validated data", **found)


def _daily(item: Latest, now: dt.datetime, rules: FreshnessRules) -> Freshness:
    exchange = rules.exchange
    expected = calendar.last_completed_session(now, exchange=exchange)
    if item.latest is None:
        return _missing(item, expected, "sessions")
    day = _date(item.latest)
    behind = calendar.sessions_behind(day, now, exchange=exchange)
    if calendar.is_session(day):
        ended = calendar.session_close(day, exchange=exchange)
    else:  # not a session of this exchange: the day's end in UTC
        ended = _instant(day) + _DAY
    limit = rules.limits.daily_max_sessions_behind
    return _behind(
        item, expected=expected, behind=behind, limit=limit, unit="sessions", age=now - ended
    )


def _minute(item: Latest, now: dt.datetime, rules: FreshnessRules) -> Freshness:
    if item.crypto:  # around the clock: the newest bar that has ended
        expected = now.replace(second=0, microsecond=0) - MINUTE
    else:
        expected = expected_minute(now, rules.limits.minute_phases, exchange=rules.exchange)
    if item.latest is None:
        return _missing(item, expected, "minutes")
    latest = _instant(item.latest)
    behind = max(0, int((expected - latest) // MINUTE))
    limit = rules.limits.minute_max_lag_minutes
    age = now - (latest + MINUTE)
    return _behind(item, expected=expected, behind=behind, limit=limit, unit="minutes", age=age)


def _macro(item: Latest, now: dt.datetime, rules: FreshnessRules) -> Freshness:
    if item.latest is None:
        return _missing(item, None, "periods")
    settings = rules.macro
    frequency = settings.frequencies.get(item.subject.upper()) or item.frequency
    if frequency not in ("D", "W", "M", "Q", "A"):
        why = "cadence unknown: set it in QUANTLAKE_MACRO__FREQUENCIES"
        return _judged(item, "unknown", why, expected=None, behind=None, unit="periods", age=None)
    lag = settings.lags.get(item.subject.upper(), settings.default_lag_days)
    latest = _date(item.latest)
    cutoff = macro.cutoff_day(now, lag_days=lag, release_time=settings.release_time)
    found = macro.due(latest, cutoff, frequency)
    grace = rules.limits.macro_grace_days
    overdue = macro.due(latest, cutoff - dt.timedelta(days=grace), frequency).behind
    if overdue:
        why = f"{overdue} period(s) after {latest} overdue by more than {grace} day(s)"
    elif found.behind:
        why = f"{found.behind} period(s) after {latest} due, within the {grace}-day grace"
    else:
        why = f"up to date: the next period is not due yet ({frequency}, {lag}-day lag)"
    age = now - (_instant(macro.period_end(latest, frequency)) + _DAY)
    verdict: Verdict = "stale" if overdue else "fresh"
    return _judged(
        item, verdict, why, expected=found.expected, behind=found.behind, unit="periods", age=age
    )


def _news(item: Latest, now: dt.datetime, rules: FreshnessRules) -> Freshness:
    allowed = dt.timedelta(hours=rules.limits.news_max_age_hours)
    oldest = now - allowed
    if item.latest is None:
        return _missing(item, oldest, "")
    age = now - _instant(item.latest)
    seconds = int(age.total_seconds()), int(allowed.total_seconds())
    why = f"newest item {age_text(seconds[0])} old ({age_text(seconds[1])} allowed)"
    verdict: Verdict = "stale" if age > allowed else "fresh"
    return _judged(item, verdict, why, expected=oldest, behind=None, unit="", age=age)


def _date(value: When) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _instant(value: When) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC)
    return dt.datetime.combine(value, dt.time(), dt.UTC)


_CHECKS: dict[str, Callable[[Latest, dt.datetime, FreshnessRules], Freshness]] = {
    "daily_bars": _daily,
    "minute_bars": _minute,
    "macro": _macro,
    "news": _news,
}
