"""Which bars a partition run reads, and which sessions need computing after curated changes.

A feature's value at a session is a function of the symbol's last ``FEATURE_MEMORY`` bars up to
it, bit for bit (the smoothed features have finite memory: assets/features/library/smoothing.py).
A run over the sessions [first, last] therefore reads, for every symbol, the ``HISTORY_SESSIONS``
bars before ``first`` (its whole history if shorter), so a session computed alone equals the
same session computed inside a long backfill (tests/unit/assets/test_feature_partitions.py).
The read is by sessions (``HISTORY_SESSIONS`` sessions back), topped up per symbol for the
symbols with fewer bars than that in it (a halt, a gap in the data).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from assets.features.compute import FEATURE_MEMORY
from warehouse import calendar
from warehouse.lake import Lakehouse
from warehouse.schemas import CURATED_BARS

# The bars before a session that its features can depend on (the session itself is the last).
HISTORY_SESSIONS = max(FEATURE_MEMORY.values()) - 1


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


# A symbol's ``count`` bars before (after) a session, however far back (ahead) they lie.
_BEFORE = (
    "list_contains(?, symbol) AND session < ? QUALIFY "
    "row_number() OVER (PARTITION BY symbol ORDER BY session DESC) <= ?"
)
_AFTER = (
    "list_contains(?, symbol) AND session > ? QUALIFY "
    "row_number() OVER (PARTITION BY symbol ORDER BY session) <= ?"
)


def read_bars(
    lake: Lakehouse, *, first: dt.date, last: dt.date, horizon: int, exchange: str, as_of: int
) -> pl.DataFrame:
    """Return the curated bars a run over sessions [first, last] needs, at snapshot ``as_of``:
    those sessions' bars and, for every symbol with bars from ``first`` on, its
    ``HISTORY_SESSIONS`` bars before ``first`` (the features' memory) and its ``horizon`` bars
    after ``last`` (the labels' forward returns); fewer only where the symbol has fewer.

    One read by sessions; symbols with fewer bars than that in it (a halt, a gap in the data,
    the newest sessions) are topped up with a read of their own bars.
    """
    bars = lake.read(
        CURATED_BARS,
        where="session BETWEEN ? AND ?",
        params=[
            history_start(first, exchange=exchange),
            sessions_after(last, horizon, exchange=exchange),
        ],
        as_of=as_of,
    )
    symbols = bars.filter(pl.col("session") >= first).get_column("symbol").unique()
    bars = bars.filter(pl.col("symbol").is_in(symbols))  # not those gone before ``first``
    parts = [bars.filter(pl.col("session").is_between(first, last))]
    for side, edge, count, sql in (
        (pl.col("session") < first, first, HISTORY_SESSIONS, _BEFORE),
        (pl.col("session") > last, last, horizon, _AFTER),
    ):
        held = bars.filter(side).group_by("symbol").len().filter(pl.col("len") >= count)
        short = symbols.filter(~symbols.is_in(held.get_column("symbol")))
        parts.append(bars.filter(side & ~pl.col("symbol").is_in(short)))
        if not short.is_empty():
            params = [short.to_list(), edge, count]
            parts.append(lake.read(CURATED_BARS, where=sql, params=params, as_of=as_of))
    return pl.concat(parts, how="vertical_relaxed")


def label_rows(frame: pl.DataFrame, *, first: dt.date, last: dt.date, horizon: int) -> pl.DataFrame:
    """Return the labels a run over [first, last] writes: its sessions' and, per symbol, those
    of the ``horizon`` bars before ``first`` (their forward returns end in the range).

    ``frame`` holds labels sorted by (symbol, session), as ``compute.labels`` returns them.
    """
    before = pl.col("session") < first
    from_end = before.cast(pl.Int64).cum_sum(reverse=True).over("symbol")
    return frame.filter(
        pl.col("session").is_between(first, last) | (before & (from_end <= horizon))
    )


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
