"""macro_as_of: a vintage is invisible before its knowledge time and visible from it on."""

from __future__ import annotations

import datetime as dt

import pytest

from flows.ingest.macro_reads import macro_as_of
from warehouse import schemas
from warehouse.lake import Lakehouse

D = dt.date
JAN, FEB = D(2024, 1, 1), D(2024, 2, 1)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


FIRST, REVISED, FEB_OUT = utc(2024, 2, 15, 22), utc(2024, 3, 15, 22), utc(2024, 3, 15, 22)
VINTAGES = [
    ("CPI", JAN, FIRST, 1.0),
    ("CPI", JAN, REVISED, 1.1),
    ("CPI", FEB, FEB_OUT, None),  # published as missing
    ("GDP", JAN, utc(2024, 4, 30, 22), 5.0),
]


@pytest.fixture
def stored(lake: Lakehouse) -> Lakehouse:
    rows = [
        {
            "series_id": s,
            "observation_date": d,
            "knowledge_time": k,
            "value": v,
            "source": "fred",
            "batch_id": "b",
            "ingested_at": utc(2024, 6, 1),
        }
        for s, d, k, v in VINTAGES
    ]
    with lake.transaction("test vintages") as txn:
        txn.append(schemas.CURATED_MACRO_VINTAGES, schemas.CURATED_MACRO_VINTAGES.frame(rows))
    return lake


def values(lake: Lakehouse, known_at: dt.datetime, series: list[str] | None = None) -> list:
    found = macro_as_of(lake, series=series, known_at=known_at)
    return found.select("series_id", "observation_date", "value").rows()


def test_nothing_is_visible_before_its_knowledge_time(stored: Lakehouse) -> None:
    assert values(stored, FIRST - dt.timedelta(microseconds=1)) == []


def test_a_value_is_visible_from_its_knowledge_time(stored: Lakehouse) -> None:
    assert values(stored, FIRST) == [("CPI", JAN, 1.0)]


def test_the_latest_vintage_known_then_wins(stored: Lakehouse) -> None:
    just_before = REVISED - dt.timedelta(seconds=1)
    assert values(stored, just_before) == [("CPI", JAN, 1.0)]
    assert values(stored, REVISED) == [("CPI", JAN, 1.1), ("CPI", FEB, None)]


def test_missing_values_are_returned_as_null_not_zero(stored: Lakehouse) -> None:
    found = macro_as_of(stored, series=["cpi"], known_at=utc(2025, 1, 1))
    assert found.filter(found["observation_date"] == FEB)["value"].to_list() == [None]


def test_series_and_date_filters(stored: Lakehouse) -> None:
    later = utc(2025, 1, 1)
    assert values(stored, later, ["GDP"]) == [("GDP", JAN, 5.0)]
    found = macro_as_of(stored, series=None, known_at=later, start=FEB, end=FEB)
    assert found.select("series_id", "observation_date").rows() == [("CPI", FEB)]


def test_a_snapshot_read_sees_what_that_commit_left(stored: Lakehouse) -> None:
    before = stored.current_snapshot()
    with stored.transaction("more") as txn:
        extra = {"series_id": "CPI", "observation_date": JAN, "knowledge_time": utc(2024, 5, 1)}
        extra |= {"value": 1.2, "source": "fred", "batch_id": "c", "ingested_at": utc(2024, 6, 2)}
        txn.append(schemas.CURATED_MACRO_VINTAGES, schemas.CURATED_MACRO_VINTAGES.frame([extra]))
    later = utc(2025, 1, 1)
    old = macro_as_of(stored, series=["CPI"], known_at=later, snapshot=before)
    assert old["value"].to_list() == [1.1, None]
    assert macro_as_of(stored, series=["CPI"], known_at=later)["value"].to_list() == [1.2, None]


def test_a_naive_time_is_refused(stored: Lakehouse) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        macro_as_of(stored, series=None, known_at=dt.datetime(2024, 1, 1))
