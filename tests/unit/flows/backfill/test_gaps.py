"""Gap detection against the exchange calendar: hand-made frames, a brute-force oracle and the
real 100-symbol file (late starts are no gaps; the calendar knows Sandy and the Bush funeral)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.sources.files import read_bars
from validations.gaps import calendar_gaps, find_gaps
from warehouse import calendar

JAN = calendar.sessions(dt.date(2024, 1, 2), dt.date(2024, 1, 31))  # 21 sessions
HUNDRED = "equities_daily/yahoo_us_equities_100_daily_2010-2021.csv.gz"
CLOSURES = [dt.date(2012, 10, 29), dt.date(2012, 10, 30), dt.date(2018, 12, 5)]


def bars(rows: dict[str, list[dt.date]]) -> pl.DataFrame:
    pairs = [(s, d) for s, days in rows.items() for d in days]
    return pl.DataFrame(pairs, schema={"symbol": pl.String, "session": pl.Date}, orient="row")


def test_a_missing_session_inside_the_range_is_a_gap_a_late_start_or_early_end_is_not() -> None:
    frame = bars(
        {
            "AAA": [d for d in JAN if d != JAN[5]],  # lacks the 6th session
            "BBB": JAN[10:],  # starts late
            "CCC": JAN[:15],  # ends early
        }
    )
    found = find_gaps(frame, JAN)
    assert found.gaps.rows() == [("AAA", JAN[5])]
    assert found.closures == ()
    assert found.count_by_symbol() == {"AAA": 1}


def test_a_session_every_symbol_lacks_is_one_closure_not_a_gap_per_symbol() -> None:
    closed = JAN[7]
    frame = bars({s: [d for d in JAN if d != closed] for s in ("AAA", "BBB", "CCC")})
    found = find_gaps(frame, JAN)
    assert found.closures == (closed,)
    assert found.gaps.is_empty()


def test_a_closure_counts_only_the_symbols_trading_around_it() -> None:
    closed = JAN[7]
    frame = bars(
        {
            "AAA": [d for d in JAN if d != closed],
            "BBB": [d for d in JAN if d != closed],
            "NEW": JAN[12:],  # did not trade yet: neither a witness nor a gap
        }
    )
    assert find_gaps(frame, JAN).closures == (closed,)


def test_one_symbol_alone_cannot_tell_a_closure_from_a_gap() -> None:
    frame = bars({"AAA": [d for d in JAN if d != JAN[3]]})
    found = find_gaps(frame, JAN)
    assert found.closures == ()
    assert found.sessions_of("AAA") == [JAN[3]]
    assert find_gaps(frame, JAN, min_symbols=1).closures == (JAN[3],)


def test_repeats_and_null_keys_are_ignored_and_columns_are_checked() -> None:
    frame = pl.concat([bars({"AAA": JAN}), bars({"AAA": JAN[:3]})]).vstack(
        pl.DataFrame(
            {"symbol": [None], "session": [JAN[0]]},
            schema={"symbol": pl.String, "session": pl.Date},
        )
    )
    assert find_gaps(frame, JAN).gaps.is_empty()
    with pytest.raises(ValueError, match="symbol and session"):
        find_gaps(frame.drop("session"), JAN)
    assert find_gaps(frame.clear(), JAN).gaps.is_empty()


def _oracle(rows: dict[str, list[dt.date]], days: list[dt.date]) -> tuple[set, set]:
    """Brute force: per symbol and per session, by the definitions in the module docstring."""
    have = {s: set(v) for s, v in rows.items() if v}
    missing = {
        (s, d)
        for s, got in have.items()
        for d in days
        if min(got) <= d <= max(got) and d not in got
    }
    closures = set()
    for d in days:
        covering = [s for s, got in have.items() if min(got) <= d <= max(got)]
        if len(covering) >= 2 and all((s, d) in missing for s in covering):
            closures.add(d)
    return {(s, d) for s, d in missing if d not in closures}, closures


@given(
    st.dictionaries(
        st.sampled_from(["AAA", "BBB", "CCC", "DDD"]),
        st.lists(st.sampled_from(JAN), max_size=21),
        max_size=4,
    )
)
def test_find_gaps_matches_a_brute_force_oracle(rows: dict[str, list[dt.date]]) -> None:
    found = find_gaps(bars(rows), JAN)
    gaps, closures = _oracle(rows, JAN)
    assert set(found.gaps.rows()) == gaps
    assert set(found.closures) == closures


@pytest.fixture(scope="module")
def hundred(shared_data: Path) -> pl.DataFrame:
    frame, notes = read_bars(shared_data / HUNDRED)
    assert notes == []
    return frame


def test_the_calendar_knows_the_closures_of_the_real_file() -> None:
    assert not any(calendar.is_session(d) for d in CLOSURES)


def test_the_real_100_symbol_file_has_no_gaps_and_late_starts_are_not_gaps(
    hundred: pl.DataFrame,
) -> None:
    found = calendar_gaps(hundred, exchange="XNYS")
    assert found.gaps.is_empty()
    assert found.closures == ()
    first = dict(hundred.group_by("symbol").agg(pl.col("session").min()).iter_rows())
    assert first["DOW"] == dt.date(2019, 3, 20) and first["FB"] == dt.date(2012, 5, 18)


def test_a_calendar_without_the_closures_reports_each_once(hundred: pl.DataFrame) -> None:
    days = hundred.get_column("session")
    unaware = calendar.sessions(days.min(), days.max()) + CLOSURES
    found = find_gaps(hundred, unaware)
    assert list(found.closures) == CLOSURES
    assert found.gaps.is_empty()


def test_rows_removed_from_the_real_file_are_found_exactly(hundred: pl.DataFrame) -> None:
    removed = [
        ("AAPL", dt.date(2015, 3, 2)),
        ("MSFT", dt.date(2019, 7, 1)),
        ("MSFT", dt.date(2019, 7, 2)),
        ("DOW", dt.date(2019, 3, 21)),  # the day after its first session
    ]
    drop = pl.DataFrame(removed, schema={"symbol": pl.String, "session": pl.Date}, orient="row")
    holey = hundred.join(drop, on=["symbol", "session"], how="anti")
    found = calendar_gaps(holey)
    assert found.gaps.rows() == sorted(removed)
    assert found.closures == ()
