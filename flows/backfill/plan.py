"""Pure planning for backfills and gap re-requests: chunks of sessions, what is done, windows.

A window is a run of consecutive exchange sessions ingested as one batch, for some symbols or
for all the source serves. For a 24/7 market (``QUANTLAKE_EXCHANGE=24/7``) every calendar day
is a session, so the same code chunks by calendar days.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import polars as pl

ChunkState = Literal["pending", "passed", "failed"]


@dataclass(frozen=True)
class Window:
    """Sessions ``days`` (consecutive, oldest first) to ingest for ``symbols`` (empty: all)."""

    days: tuple[dt.date, ...]
    symbols: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.days:
            raise ValueError("a window holds at least one session")

    @property
    def first(self) -> dt.date:
        return self.days[0]

    @property
    def last(self) -> dt.date:
        return self.days[-1]

    def label(self) -> str:
        """Return ``first .. last`` (and the symbols, when the window names some)."""
        span = f"{self.first} .. {self.last}" if self.first != self.last else str(self.first)
        return f"{span} {','.join(self.symbols)}" if self.symbols else span


@dataclass(frozen=True)
class Recorded:
    """A window that meta.backfill_windows holds: its span, scope and batch status."""

    first: dt.date
    last: dt.date
    scope: tuple[str, ...]  # empty: every symbol the source serves
    status: str  # passed | failed

    def holds(self, day: dt.date, *, scope: tuple[str, ...]) -> bool:
        """Return True when this window ingested ``day`` for every symbol of ``scope``."""
        return self.first <= day <= self.last and scope_covers(self.scope, scope)


def scope_covers(done: tuple[str, ...], wanted: tuple[str, ...]) -> bool:
    """Return True when a window for symbols ``done`` also served every symbol of ``wanted``.

    An empty scope means every symbol the source serves: it covers any scope, and only it
    covers an empty one.
    """
    if not done:
        return True
    return bool(wanted) and set(wanted) <= set(done)


def plan_chunks(sessions: Sequence[dt.date], *, chunk_sessions: int) -> list[Window]:
    """Split sorted, distinct ``sessions`` into consecutive chunks of ``chunk_sessions`` each
    (the last one may be shorter), oldest first."""
    if chunk_sessions < 1:
        raise ValueError(f"chunk_sessions must be at least 1, not {chunk_sessions}")
    days = list(sessions)
    if days != sorted(set(days)):
        raise ValueError("sessions must be sorted and distinct")
    return [
        Window(tuple(days[i : i + chunk_sessions])) for i in range(0, len(days), chunk_sessions)
    ]


def chunk_state(
    chunk: Window, recorded: Sequence[Recorded], *, scope: tuple[str, ...]
) -> ChunkState:
    """Return whether every session of ``chunk`` was ingested for ``scope`` before.

    ``pending``: some session was not; ``passed``: each was, by a window whose batch passed;
    ``failed``: each was, but some only by windows whose batch failed validation (the same
    data would fail again, so the chunk is not fetched again).
    """
    state: ChunkState = "passed"
    for day in chunk.days:
        holding = [r for r in recorded if r.holds(day, scope=scope)]
        if not holding:
            return "pending"
        if all(r.status != "passed" for r in holding):
            state = "failed"
    return state


def resume_point(
    start: dt.date,
    recorded: Sequence[Recorded],
    *,
    scope: tuple[str, ...],
    sessions: Sequence[dt.date],
) -> dt.date:
    """Return the first day from ``start`` on that no passed window holds for ``scope``.

    Passed windows that cover ``start``'s session, and the sessions right after them, are
    skipped one after another; the first session none holds ends the run. ``sessions`` are the
    exchange sessions from ``start`` to at least the last recorded session.
    """
    passed = [r for r in recorded if r.status == "passed"]
    i = bisect.bisect_left(sessions, start)
    covered_to: dt.date | None = None
    while i < len(sessions):
        ends = [r.last for r in passed if r.holds(sessions[i], scope=scope)]
        if not ends:
            break
        covered_to = max(ends)
        i = bisect.bisect_right(sessions, covered_to)
    return start if covered_to is None else max(start, covered_to + dt.timedelta(days=1))


def gap_windows(missing: pl.DataFrame, sessions: Sequence[dt.date]) -> list[Window]:
    """Group each symbol's missing sessions into runs of consecutive ``sessions``; symbols
    missing exactly the same run share one window. Return windows oldest first.

    ``missing`` has symbol and session; every session must be one of ``sessions``.
    """
    position = {day: i for i, day in enumerate(sorted(set(sessions)))}
    if stray := sorted(set(missing.get_column("session")) - set(position)):
        raise ValueError(f"missing sessions {stray[:3]} are not exchange sessions")
    runs: dict[tuple[dt.date, ...], list[str]] = {}
    for (symbol,), part in (
        missing.unique().sort("symbol", "session").group_by("symbol", maintain_order=True)
    ):
        run: list[dt.date] = []
        for day in part.get_column("session"):
            if run and position[day] != position[run[-1]] + 1:
                runs.setdefault(tuple(run), []).append(str(symbol))
                run = []
            run.append(day)
        runs.setdefault(tuple(run), []).append(str(symbol))
    windows = [Window(days, tuple(sorted(symbols))) for days, symbols in runs.items()]
    return sorted(windows, key=lambda w: (w.first, w.last, w.symbols))
