"""Freshness: is a source's newest data as new as it should be by now? (pure; time is an argument)

Per subject (a symbol, a macro series, a source's news) the newest data is compared with the
newest there should be: daily bars with the last completed exchange session; minute bars with
the latest completed minute of the configured market phases (crypto: of now, weekends too); a
macro series with the latest period its cadence and publication lag say is out; news with a
maximum age. The verdict is ``fresh``, ``stale`` (behind by more than allowed, or no validated
data), or ``unknown`` (a macro series whose cadence is not known: nothing to compare with).
The checks themselves are in flows/quality/freshness_checks.py; this module holds what they return.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from quantlake.settings import FreshnessSettings, MacroSettings, Settings

Verdict = Literal["fresh", "stale", "unknown"]
VERDICT_ORDER: dict[str, int] = {"stale": 0, "unknown": 1, "fresh": 2}
When = dt.date | dt.datetime


@dataclass(frozen=True)
class FreshnessRules:
    """What counts as fresh: the freshness group, the macro lags and cadences, the exchange."""

    limits: FreshnessSettings = field(default_factory=FreshnessSettings)
    macro: MacroSettings = field(default_factory=MacroSettings)
    exchange: str = "XNYS"


def rules_from(settings: Settings) -> FreshnessRules:
    """Return the freshness rules the settings configure."""
    return FreshnessRules(settings.freshness, settings.macro, settings.exchange)


@dataclass(frozen=True)
class Latest:
    """One subject's newest data (None: nothing validated) and when it was first known."""

    subject: str
    latest: When | None
    knowledge: dt.datetime | None = None
    crypto: bool = False
    frequency: str | None = None  # macro: D | W | M | Q | A from the data (settings override)


@dataclass(frozen=True)
class Freshness:
    """How current one subject (or, summarized, a whole source) is at a given instant."""

    subject: str
    verdict: Verdict
    reason: str
    latest: When | None
    latest_knowledge: dt.datetime | None
    expected: When | None  # the newest data there should be (news: the oldest newest allowed)
    behind: int | None  # periods of ``unit`` from latest to expected
    unit: str  # sessions | minutes | periods | "" (news)
    age: dt.timedelta | None  # from the end of the latest data to now
    stale: tuple[str, ...] = ()  # summarized: the subjects that are not fresh
    subjects: int = 1

    def as_json(self) -> dict[str, Any]:
        """Return the verdict as JSON-ready values (times as text, age in whole seconds)."""
        age = None if self.age is None else int(self.age.total_seconds())
        return {
            "verdict": self.verdict,
            "reason": self.reason,
            "latest": text(self.latest),
            "latest_knowledge": text(self.latest_knowledge),
            "expected": text(self.expected),
            "behind": self.behind,
            "unit": self.unit,
            "age_seconds": age,
            "stale": list(self.stale),
            "subjects": self.subjects,
        }


def text(value: When | None) -> str | None:
    """Return a date as ISO text and an instant as ``YYYY-MM-DD HH:MM UTC``."""
    if isinstance(value, dt.datetime):
        return f"{value.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"
    return None if value is None else value.isoformat()


def age_text(seconds: int | None) -> str:
    """Return an age as ``3d 4h``, ``5h 12m`` or ``7m`` (negative: ahead of now)."""
    if seconds is None:
        return "-"
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    days, rest = divmod(seconds, 86_400)
    hours, minutes = rest // 3600, rest % 3600 // 60
    if days:
        return f"{sign}{days}d {hours}h"
    return f"{sign}{hours}h {minutes}m" if hours else f"{sign}{minutes}m"


def summarize(items: Sequence[Freshness], *, subject: str = "*") -> Freshness:
    """Return one verdict for several subjects: the worst one, with the newest data of any."""
    if not items:
        raise ValueError("nothing to summarize: pass at least one subject's freshness")
    worst = min(items, key=lambda f: VERDICT_ORDER[f.verdict])
    behind = [f.behind for f in items if f.behind is not None]
    ages = [f.age for f in items if f.age is not None]
    late = tuple(sorted(f.subject for f in items if f.verdict != "fresh"))
    reason = worst.reason if len(items) == 1 else _many(late, len(items))
    return Freshness(
        subject=subject,
        verdict=worst.verdict,
        reason=reason,
        latest=max((f.latest for f in items if f.latest is not None), default=None),
        latest_knowledge=max(
            (f.latest_knowledge for f in items if f.latest_knowledge is not None), default=None
        ),
        expected=max((f.expected for f in items if f.expected is not None), default=None),
        behind=max(behind, default=None),
        unit=worst.unit,
        age=min(ages, default=None),
        stale=late,
        subjects=len(items),
    )


def _many(late: tuple[str, ...], n: int) -> str:
    if not late:
        return f"all {n} subjects fresh"
    named = ", ".join(late[:5]) + (f" and {len(late) - 5} more" if len(late) > 5 else "")
    return f"{len(late)} of {n} subjects not fresh: {named}"
