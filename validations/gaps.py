"""Missing sessions in daily bars, found against the exchange calendar.

A symbol is expected on every calendar session between its own first and last bar: a late
start (an IPO, a spin-off) or an early end (a delisting) is not a gap. A session that every
symbol covering it lacks is reported once, as a closure, rather than as one gap per symbol: a
market-wide closure the calendar does not know (a storm, a day of mourning), or an outage of the
whole feed, which the bars alone cannot tell apart. exchange-calendars already knows the
closures of the past (XNYS has no session on 2012-10-29/30, Hurricane Sandy, nor on 2018-12-05,
President Bush's funeral), so a real closure shows up here only with a calendar that has not
learnt of it yet; in the messy appended Yahoo files, 2022-01-27 (a null row in every file) and
2023-11-01 (no row in any) are feed outages of this kind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from warehouse import calendar

GAP_SCHEMA: dict[str, pl.DataType] = {"symbol": pl.String(), "session": pl.Date()}


@dataclass(frozen=True)
class GapReport:
    """Sessions the calendar expects but the bars lack.

    ``gaps`` has one row (symbol, session) per session a symbol lacks inside its own range,
    sorted; ``closures`` lists the sessions every covering symbol lacks (not in ``gaps``).
    """

    gaps: pl.DataFrame
    closures: tuple[dt.date, ...]

    def count_by_symbol(self) -> dict[str, int]:
        """Return how many sessions each symbol with a gap lacks."""
        return dict(self.gaps.group_by("symbol").len().sort("symbol").iter_rows())

    def sessions_of(self, symbol: str) -> list[dt.date]:
        """Return the sessions ``symbol`` lacks, oldest first."""
        return self.gaps.filter(pl.col("symbol") == symbol).get_column("session").to_list()


def find_gaps(
    bars: pl.DataFrame, sessions: Sequence[dt.date], *, min_symbols: int = 2
) -> GapReport:
    """Return each symbol's missing ``sessions`` between its first and last bar.

    ``bars`` needs ``symbol`` and ``session`` (other columns are ignored, repeats are fine).
    A session lacked by every symbol covering it becomes a closure when at least
    ``min_symbols`` symbols cover it; with fewer, one symbol's absence cannot be told from a
    closure of the market, so it stays a gap.
    """
    if min_symbols < 1:
        raise ValueError(f"min_symbols must be at least 1, not {min_symbols}")
    missing_cols = [c for c in GAP_SCHEMA if c not in bars.columns]
    if missing_cols:
        raise ValueError(f"bars lack column(s) {missing_cols}; they need symbol and session")
    seen = bars.select("symbol", "session").drop_nulls().unique()
    if seen.is_empty():
        return GapReport(pl.DataFrame(schema=GAP_SCHEMA), ())
    spans = seen.group_by("symbol").agg(
        pl.col("session").min().alias("first"), pl.col("session").max().alias("last")
    )
    expected_days = pl.DataFrame({"session": sorted(set(sessions))}, schema={"session": pl.Date})
    expected = spans.join_where(
        expected_days, pl.col("session") >= pl.col("first"), pl.col("session") <= pl.col("last")
    ).select("symbol", "session")
    missing = expected.join(seen, on=["symbol", "session"], how="anti")
    closures = _closures(expected, missing, min_symbols=min_symbols)
    gaps = missing.filter(~pl.col("session").is_in(closures)).sort("symbol", "session")
    return GapReport(gaps.select(GAP_SCHEMA.keys()), tuple(closures))


def calendar_gaps(bars: pl.DataFrame, *, exchange: str = "XNYS", min_symbols: int = 2) -> GapReport:
    """Return :func:`find_gaps` against ``exchange``'s sessions over the bars' span."""
    days = bars.get_column("session").drop_nulls()
    if days.is_empty():
        return find_gaps(bars, [], min_symbols=min_symbols)
    expected = calendar.sessions(days.min(), days.max(), exchange=exchange)
    return find_gaps(bars, expected, min_symbols=min_symbols)


def _closures(expected: pl.DataFrame, missing: pl.DataFrame, *, min_symbols: int) -> list[dt.date]:
    """Return the sessions lacked by every symbol covering them (and covered by enough)."""
    covering = expected.group_by("session").len("covering")
    lacking = missing.group_by("session").len("lacking")
    both = lacking.join(covering, on="session")
    found = both.filter(
        (pl.col("lacking") == pl.col("covering")) & (pl.col("covering") >= min_symbols)
    )
    return sorted(found.get_column("session").to_list())
