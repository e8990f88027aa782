"""The newest equity minute bar there should be: the latest completed minute of a market phase."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from validations.minute_bars_phases import session_times

MINUTE = dt.timedelta(minutes=1)
# Each phase's [start, end) as columns of validations.minute_bars_phases.session_times.
_BOUNDS = {
    "pre": ("_pre", "_open"),
    "regular": ("_open", "_close"),
    "post": ("_close", "_post_end"),
}


def expected_minute(now: dt.datetime, phases: Sequence[str], *, exchange: str) -> dt.datetime:
    """Return the start of the newest bar of ``phases`` that has ended by ``now``.

    During a phase that is the minute before now; outside them, the last minute of the latest
    phase that ended (over a weekend or holiday: the previous session's).
    """
    if unknown := sorted(set(phases) - set(_BOUNDS)):
        raise ValueError(f"unknown market phase(s) {unknown}: use {sorted(_BOUNDS)}")
    now = now.astimezone(dt.UTC)
    ended = now.replace(second=0, microsecond=0) - MINUTE
    today = now.date()
    first, last = today - dt.timedelta(days=14), today + dt.timedelta(days=1)
    times = session_times(first, last, exchange=exchange)
    for session in reversed(times.rows(named=True)):
        found = [
            min(ended, session[end] - MINUTE)
            for start, end in (_BOUNDS[p] for p in phases)
            if session[start] <= ended
        ]
        if found:
            return max(found)
    raise ValueError(f"no {exchange} session in the two weeks before {now}")
