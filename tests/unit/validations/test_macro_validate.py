"""validate_macro on a hand-built batch: one row per defect, warnings, batch rules, threshold."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from typing import Any

import polars as pl
import pytest

from validations.macro import KEYS, NUMBER_OR_MISSING, validate_macro
from validations.result import ValidationOutcome
from warehouse.schemas import RAW_MACRO

D = dt.date
TODAY = D(2024, 8, 9)
NAN, INF = float("nan"), float("inf")


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def row(n: int, series: str | None, day: dt.date | None, text: str, **over: Any) -> dict[str, Any]:
    """Return a raw.macro row (valid unless ``over`` says otherwise)."""
    value = (
        None if text in ("", ".") else float(text) if re.search(NUMBER_OR_MISSING, text) else None
    )
    return {
        "batch_id": "b1",
        "source": "fred",
        "ingested_at": utc(2024, 8, 9, 22),
        "row_number": n,
        "origin": "/data/fred/X.csv",
        "line": n + 2,
        "series_id": series,
        "observation_date": day,
        "realtime_start": None,
        "value_text": text,
        "value": value,
        "frequency": "M",
        "knowledge_time": utc(2024, 7, 15, 22) if day else None,
        **over,
    }


JUN = D(2024, 6, 1)
ROWS = [
    row(1, "CPI", JUN, "313.2"),
    row(2, "CPI", None, "313.2"),
    row(3, "CPI", D(2024, 5, 1), "abc"),
    row(4, "CPI", D(2024, 4, 1), "1e999", value=INF),
    row(5, "CPI", D(2024, 3, 1), "nan", value=NAN),
    row(6, "CPI", D(2024, 8, 1), "1.0"),  # known 07-15, before its period starts
    row(7, "GDP", JUN, "1.0", frequency="X"),
    row(8, "UNRATE", JUN, "4.0"),
    row(9, "UNRATE", JUN, "4.1"),  # the same vintage again: the last one wins
    row(10, "UNRATE", D(2024, 5, 1), ""),  # missing: passes, with a warning
    row(11, "UNRATE", D(2024, 4, 1), "."),
    row(12, None, JUN, "1.0"),
    row(13, "X", D(2024, 1, 1), "2.0", frequency=None, knowledge_time=None),
]


def oracle(rows: list[dict[str, Any]]) -> set[tuple[int, str]]:
    """Return every (row_number, rule) a correct validation quarantines, row by row."""
    out = set()
    keys = Counter(tuple(r[k] for k in KEYS) for r in rows)
    last = {tuple(r[k] for k in KEYS): r["row_number"] for r in rows}
    for r in rows:
        n, value, known = r["row_number"], r["value"], r["knowledge_time"]
        if r["series_id"] is None or r["observation_date"] is None:
            out.add((n, "keys_not_null"))
        if not re.search(NUMBER_OR_MISSING, r["value_text"]):
            out.add((n, "value_readable"))
        if value is not None and math.isinf(value):
            out.add((n, "value_finite"))
        if known is None:
            out.add((n, "knowledge_time_known"))
        elif r["observation_date"] is not None and known.date() < r["observation_date"]:
            out.add((n, "known_after_observed"))
        if r["frequency"] is not None and r["frequency"] not in "DWMQA":
            out.add((n, "frequency_known"))
        key = tuple(r[k] for k in KEYS)
        if keys[key] > 1 and last[key] != n and any(v is not None for v in key):
            out.add((n, "unique_vintage"))
    return out


def raw_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=RAW_MACRO.polars_schema())


@pytest.fixture(scope="module")
def outcome() -> ValidationOutcome:
    return validate_macro(raw_frame(ROWS), today=TODAY, batch_id="b1")


def pairs(outcome: ValidationOutcome) -> set[tuple[int, str]]:
    return set(outcome.quarantined.select("row_number", "rule").iter_rows())


def test_each_defect_is_quarantined_under_its_rule_and_nothing_else(outcome) -> None:
    expected = {
        (2, "keys_not_null"),
        (2, "knowledge_time_known"),
        (3, "value_readable"),
        (4, "value_finite"),
        (5, "value_readable"),
        (6, "known_after_observed"),
        (7, "frequency_known"),
        (8, "unique_vintage"),
        (12, "keys_not_null"),
        (13, "knowledge_time_known"),
    }
    assert pairs(outcome) == expected
    assert oracle(ROWS) == expected


def test_good_rows_missing_values_and_the_last_duplicate_pass(outcome) -> None:
    assert sorted(outcome.passed["row_number"]) == [1, 9, 10, 11]
    assert outcome.passed.columns == RAW_MACRO.column_names
    passed = outcome.passed.sort("row_number")
    assert passed.get_column("value").to_list() == [313.2, 4.1, None, None]


def test_details_say_what_is_wrong(outcome) -> None:
    got = {
        (n, r): d
        for n, r, d in outcome.quarantined.select("row_number", "rule", "detail").iter_rows()
    }
    assert got[(2, "keys_not_null")] == "null observation_date (line 4 of X.csv)"
    assert got[(3, "value_readable")] == "value abc is not a number (nor '' / '.' for missing)"
    assert got[(4, "value_finite")] == "value inf is not finite"
    assert got[(6, "known_after_observed")] == (
        "known 2024-07-15 22:00 UTC before its observation date 2024-08-01"
    )
    assert got[(7, "frequency_known")] == "frequency X is not one of D, W, M, Q, A"
    assert got[(8, "unique_vintage")] == "superseded by row 9, values differ: 4.0 vs 4.1"
    assert got[(13, "knowledge_time_known")].startswith("no knowledge time: no realtime_start")
    assert "QUANTLAKE_MACRO__FREQUENCIES" in got[(13, "knowledge_time_known")]


def test_missing_values_are_a_warning_that_passes(outcome) -> None:
    rules = {r.rule: r for r in outcome.rules}
    warning = rules["value_present"]
    assert (warning.severity, warning.success) == ("warning", False)
    assert warning.unexpected_count == 4  # rows 3 (unreadable), 5 (NaN), 10 and 11 (missing)
    assert warning.detail == "4 rows, e.g. row 3: missing value ('abc', line 5 of X.csv)"
    assert not {n for n, r in pairs(outcome) if r == "value_present"}
    assert "warnings: 4 value_present" in outcome.message


def test_too_many_quarantined_rows_fail_the_batch(outcome) -> None:
    assert outcome.status == "failed"
    assert outcome.message.startswith("13 rows: 4 passed, 9 quarantined (")
    assert "exceeds the 5.0% limit" in outcome.message


def test_a_clean_batch_with_gaps_passes() -> None:
    rows = [row(i, "DGS10", D(2024, 1, 1 + i), "" if i == 3 else "4.0") for i in range(10)]
    result = validate_macro(raw_frame(rows), today=TODAY)
    assert (result.status, result.passed.height, result.rows_quarantined) == ("passed", 10, 0)
    assert "warnings: 1 value_present" in result.message


def test_missing_column_and_wrong_type_reject_the_batch() -> None:
    missing = validate_macro(raw_frame(ROWS[:2]).drop("knowledge_time"), today=TODAY)
    assert missing.status == "failed" and missing.passed.is_empty()
    assert "missing columns knowledge_time" in missing.message
    typed = validate_macro(
        raw_frame(ROWS[:2]).with_columns(pl.col("value").cast(pl.String)), today=TODAY
    )
    assert typed.status == "failed"
    assert "value is String (expected Float64)" in typed.message


def test_empty_batch_passes() -> None:
    result = validate_macro(raw_frame(ROWS).clear(), today=TODAY)
    assert (result.status, result.message) == ("passed", "0 rows: 0 passed, 0 quarantined")
