"""Chunk planning, what a recorded window covers, where the scheduled run resumes, gap windows."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.backfill.plan import (
    Recorded,
    Window,
    chunk_state,
    gap_windows,
    plan_chunks,
    resume_point,
    scope_covers,
)
from warehouse import calendar

D = dt.date
# XNYS, January 2024: 1st a holiday, 6-7 / 13-14 weekends, 15th Martin Luther King Day.
JAN = calendar.sessions(D(2024, 1, 1), D(2024, 1, 31))


def test_january_2024_is_what_the_examples_assume() -> None:
    assert JAN[:5] == [D(2024, 1, 2), D(2024, 1, 3), D(2024, 1, 4), D(2024, 1, 5), D(2024, 1, 8)]
    assert D(2024, 1, 15) not in JAN and len(JAN) == 21


def test_chunks_hold_n_sessions_each_and_the_rest_last() -> None:
    chunks = plan_chunks(JAN, chunk_sessions=8)
    assert [(c.first, c.last, len(c.days)) for c in chunks] == [
        (D(2024, 1, 2), D(2024, 1, 11), 8),
        (D(2024, 1, 12), D(2024, 1, 24), 8),
        (D(2024, 1, 25), D(2024, 1, 31), 5),
    ]


def test_a_24_7_market_is_chunked_by_calendar_days() -> None:
    days = calendar.sessions(D(2024, 1, 1), D(2024, 1, 10), exchange="24/7")
    chunks = plan_chunks(days, chunk_sessions=4)
    assert [(c.first, c.last) for c in chunks] == [
        (D(2024, 1, 1), D(2024, 1, 4)),
        (D(2024, 1, 5), D(2024, 1, 8)),
        (D(2024, 1, 9), D(2024, 1, 10)),
    ]


@given(n=st.integers(1, 30), size=st.integers(0, 120), skip=st.integers(0, 200))
def test_chunks_partition_the_sessions_in_order(n: int, size: int, skip: int) -> None:
    days = calendar.sessions(D(2020, 1, 1), D(2021, 12, 31))[skip : skip + size]
    chunks = plan_chunks(days, chunk_sessions=n)
    assert [d for c in chunks for d in c.days] == days
    assert all(len(c.days) == n for c in chunks[:-1])
    assert not chunks or 1 <= len(chunks[-1].days) <= n


def test_chunk_planning_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        plan_chunks(JAN, chunk_sessions=0)
    with pytest.raises(ValueError, match="sorted and distinct"):
        plan_chunks([JAN[1], JAN[0]], chunk_sessions=5)


@pytest.mark.parametrize(
    ("done", "wanted", "covers"),
    [
        ((), (), True),
        ((), ("AAPL",), True),
        (("AAPL", "MSFT"), ("MSFT",), True),
        (("AAPL", "MSFT"), ("AAPL", "MSFT"), True),
        (("AAPL",), ("AAPL", "MSFT"), False),
        (("AAPL",), (), False),
    ],
)
def test_scope_covers(done: tuple[str, ...], wanted: tuple[str, ...], covers: bool) -> None:
    assert scope_covers(done, wanted) is covers


def rec(first: dt.date, last: dt.date, status: str = "passed", *scope: str) -> Recorded:
    return Recorded(first, last, tuple(scope), status)


def test_a_chunk_is_done_only_when_every_session_was_ingested_for_its_scope() -> None:
    chunk = Window(tuple(JAN[4:9]))  # 2024-01-08 .. 2024-01-12
    assert chunk_state(chunk, [], scope=()) == "pending"
    assert chunk_state(chunk, [rec(D(2024, 1, 8), D(2024, 1, 12))], scope=()) == "passed"
    # Done by two smaller windows (an earlier run with another chunk size).
    halves = [rec(D(2024, 1, 2), D(2024, 1, 9)), rec(D(2024, 1, 10), D(2024, 1, 19))]
    assert chunk_state(chunk, halves, scope=()) == "passed"
    assert chunk_state(chunk, halves[:1], scope=()) == "pending"
    # A window for one symbol does not cover a chunk of all of them.
    assert chunk_state(chunk, [rec(D(2024, 1, 8), D(2024, 1, 12), "passed", "A")], scope=()) == (
        "pending"
    )
    failed = [rec(D(2024, 1, 8), D(2024, 1, 10), "failed"), rec(D(2024, 1, 11), D(2024, 1, 12))]
    assert chunk_state(chunk, failed, scope=()) == "failed"


def test_resume_point_continues_only_through_passed_windows_adjoining_the_start() -> None:
    kw = {"scope": (), "sessions": JAN}
    start = D(2024, 1, 6)  # a Saturday after the watermark Friday 5th
    assert resume_point(start, [], **kw) == start
    # Monday 8th .. Friday 12th, then Tuesday 16th .. 19th: contiguous in sessions.
    chain = [rec(D(2024, 1, 8), D(2024, 1, 12)), rec(D(2024, 1, 16), D(2024, 1, 19))]
    assert resume_point(start, chain, **kw) == D(2024, 1, 20)
    # A hole (the 16th not loaded) stops the run there.
    holey = [rec(D(2024, 1, 8), D(2024, 1, 12)), rec(D(2024, 1, 17), D(2024, 1, 19))]
    assert resume_point(start, holey, **kw) == D(2024, 1, 13)
    # Windows after a hole, older windows, failed windows and narrower scopes do not count.
    assert resume_point(start, holey[1:], **kw) == start
    assert resume_point(start, [rec(D(2023, 6, 1), D(2024, 1, 5))], **kw) == start
    assert resume_point(start, [rec(D(2024, 1, 8), D(2024, 1, 12), "failed")], **kw) == start
    assert resume_point(start, [rec(D(2024, 1, 8), D(2024, 1, 12), "passed", "A")], **kw) == start
    # A window that began before the start but reaches past it.
    assert resume_point(start, [rec(D(2023, 12, 1), D(2024, 1, 9))], **kw) == D(2024, 1, 10)


def missing(rows: list[tuple[str, dt.date]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"symbol": pl.String, "session": pl.Date}, orient="row")


def test_gap_windows_group_runs_of_sessions_and_share_identical_ones() -> None:
    rows = [
        ("A", D(2024, 1, 11)), ("A", D(2024, 1, 12)), ("A", D(2024, 1, 16)),  # MLK day between
        ("A", D(2024, 1, 19)),
        ("B", D(2024, 1, 11)), ("B", D(2024, 1, 12)), ("B", D(2024, 1, 16)),
        ("C", D(2024, 1, 19)),
    ]  # fmt: skip
    windows = gap_windows(missing(rows), JAN)
    assert [(w.first, w.last, w.symbols, len(w.days)) for w in windows] == [
        (D(2024, 1, 11), D(2024, 1, 16), ("A", "B"), 3),
        (D(2024, 1, 19), D(2024, 1, 19), ("A", "C"), 1),
    ]
    assert gap_windows(missing([]), JAN) == []


def test_gap_windows_refuse_sessions_the_calendar_does_not_have() -> None:
    with pytest.raises(ValueError, match="not exchange sessions"):
        gap_windows(missing([("A", D(2024, 1, 15))]), JAN)


@given(st.sets(st.tuples(st.sampled_from("ABC"), st.sampled_from(JAN)), max_size=40))
def test_gap_windows_request_exactly_the_missing_sessions(found: set[tuple[str, dt.date]]) -> None:
    windows = gap_windows(missing(sorted(found)), JAN)
    requested = [(s, d) for w in windows for s in w.symbols for d in w.days]
    assert sorted(requested) == sorted(found)  # each once, nothing more
    for w in windows:
        i = JAN.index(w.first)
        assert list(w.days) == JAN[i : i + len(w.days)]  # consecutive sessions
    # Runs are maximal: no symbol has two windows that touch.
    for a in windows:
        for b in windows:
            shared = set(a.symbols) & set(b.symbols)
            assert not (shared and JAN.index(b.first) == JAN.index(a.last) + 1)
