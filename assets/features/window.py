"""Which bars a partition run reads, and which sessions need computing after curated changes.

A run over the sessions [first, last] reads the bars from ``HISTORY_SESSIONS`` sessions before
``first``. That is four times the longest lookback (253 bars): the rolling features need only
their lookback, but EMA and Wilder smoothing have infinite memory, and after ~1,000 sessions the
weight of anything older is below 1e-17 of the value, so a partition computed alone agrees with
one computed inside a long backfill to ~1e-12 (tests/unit/assets/test_feature_partitions.py).
"""

from __future__ import annotations

import datetime as dt

from assets.features.compute import FEATURE_LOOKBACK
from warehouse import calendar
from warehouse.lake import Lakehouse

HISTORY_SESSIONS = 4 * max(FEATURE_LOOKBACK.values())


def sessions_before(first: dt.date, count: int, *, exchange: str) -> dt.date:
    """Return the session ``count`` sessions before ``first`` (the calendar's first if fewer)."""
    span = dt.timedelta(days=2 * count + 10)
    earlier = calendar.sessions(first - span, first - dt.timedelta(days=1), exchange=exchange)
    return earlier[-count] if len(earlier) >= count else earlier[0] if earlier else first


def sessions_after(last: dt.date, count: int, *, exchange: str) -> dt.date:
    """Return the session ``count`` sessions after ``last`` (the calendar's last if fewer)."""
    span = dt.timedelta(days=2 * count + 10)
    later = calendar.sessions(last + dt.timedelta(days=1), last + span, exchange=exchange)
    return later[count - 1] if len(later) >= count else later[-1] if later else last


def history_start(first: dt.date, *, exchange: str) -> dt.date:
    """Return the first session of bars a run starting at ``first`` reads."""
    return sessions_before(first, HISTORY_SESSIONS, exchange=exchange)


def dirty_sessions(lake: Lakehouse, *, as_of: int) -> tuple[dt.date, dt.date] | None:
    """Return the sessions whose features are out of date at snapshot ``as_of``, or None.

    Out of date: every session from the oldest curated row changed (inserted, updated or
    deleted) after the curated snapshot the stored features were computed from, to the latest
    curated session. A split adjustment rewrites a symbol's history, so the range can reach far
    back; a plain new session gives just that session. With no features yet, all sessions.
    """
    latest = lake.query(f"SELECT max(session) FROM curated.bars AT (VERSION => {as_of})").item()
    if latest is None:
        return None
    seen = lake.query(
        f"SELECT max(curated_snapshot) FROM features.daily AT (VERSION => {as_of})"
    ).item()
    if seen is None:
        first = lake.query(f"SELECT min(session) FROM curated.bars AT (VERSION => {as_of})").item()
        return first, latest
    if seen >= as_of:
        return None
    changed = lake.query(
        "SELECT min(session) FROM ducklake_table_changes('lake', 'curated', 'bars', ?, ?)",
        [seen + 1, as_of],
    ).item()
    return None if changed is None else (min(changed, latest), latest)
