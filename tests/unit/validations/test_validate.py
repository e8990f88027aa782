"""validate_bars on hand-built batches: one row per defect, the schema rules, the threshold."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from tests.unit.validations.oracle import expected_quarantine
from validations.result import ValidationOutcome
from validations.validate import rule_rows, validate_bars
from warehouse.calendar import sessions
from warehouse.lake import Lakehouse
from warehouse.schemas import QUARANTINE_BARS, RAW_BARS, VALIDATION_RESULTS

TODAY = dt.date(2024, 8, 9)  # a Friday
D = dt.date
NAN = float("nan")


def bar(n: int, symbol: str | None, day: dt.date, **values: float | None) -> dict[str, object]:
    """Return a raw bar row (a valid one unless ``values`` say otherwise)."""
    row = {"open": 100.0, "high": 101.0, "low": 99.0, "close": 100.5, "volume": 1000.0}
    return {"row_number": n, "symbol": symbol, "session": day, **row, **values}


ROWS = [
    bar(1, "AAA", D(2024, 8, 5)),
    bar(2, "AAA", D(2024, 8, 6)),
    bar(3, "AAA", D(2024, 8, 7), close=None),
    bar(4, "BBB", D(2024, 8, 5), low=-1.0),
    bar(5, "BBB", D(2024, 8, 6), open=100.5, high=102.0, low=101.2, close=101.5),
    bar(6, "BBB", D(2024, 8, 7), open=100.0, high=101.0, low=99.0, close=102.0),
    bar(7, "CCC", D(2024, 8, 5), volume=-5.0),
    bar(8, "CCC", D(2024, 8, 6), close=100.2),
    bar(9, "CCC", D(2024, 8, 6), close=100.7),
    bar(10, "CCC", D(2024, 8, 3)),  # Saturday
    bar(11, "DDD", D(2012, 10, 29)),  # Hurricane Sandy closure
    bar(12, "DDD", D(2024, 7, 4)),  # Independence Day
    bar(13, "DDD", D(2024, 8, 12)),  # a session, but after today
    bar(14, None, D(2024, 8, 5)),
    bar(15, "EEE", D(2024, 8, 5), open=None, high=None, low=None, close=None, volume=None),
    bar(16, "EEE", D(2024, 8, 6), open=50.0, high=50.0, low=50.0, close=50.0, volume=0.0),
    bar(17, "EEE", D(2024, 8, 7)),
    bar(18, "EEE", D(2024, 8, 7)),  # an identical resend of row 17
    bar(19, "FFF", D(2024, 8, 5), close=NAN),
]
EXPECTED = {
    (3, "prices_not_null"),
    (4, "prices_positive"),
    (5, "low_le_open"),
    (6, "close_le_high"),
    (7, "volume_nonnegative"),
    (8, "unique_symbol_session"),
    (10, "trading_session"),
    (11, "trading_session"),
    (12, "trading_session"),
    (13, "session_not_future"),
    (14, "keys_not_null"),
    (15, "prices_not_null"),
    (15, "volume_not_null"),
    (17, "unique_symbol_session"),
    (19, "prices_not_null"),
}


def raw_frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    """Return ``rows`` as a raw.bars frame (with batch columns, as the ingest flow has them)."""
    frame = pl.DataFrame(rows, schema_overrides={"row_number": pl.Int64, "volume": pl.Float64})
    at = dt.datetime(2024, 8, 9, 22, tzinfo=dt.UTC)
    return frame.with_columns(
        batch_id=pl.lit("b1"), source=pl.lit("test"), ingested_at=pl.lit(at)
    ).select(RAW_BARS.column_names)


@pytest.fixture(scope="module")
def outcome() -> ValidationOutcome:
    return validate_bars(raw_frame(ROWS), today=TODAY, batch_id="b1")


def pairs(outcome: ValidationOutcome) -> set[tuple[int, str]]:
    return set(outcome.quarantined.select("row_number", "rule").iter_rows())


def details(outcome: ValidationOutcome) -> dict[tuple[int, str], str]:
    rows = outcome.quarantined.select("row_number", "rule", "detail").iter_rows()
    return {(n, rule): detail for n, rule, detail in rows}


def test_each_defect_is_quarantined_under_its_rule_and_nothing_else(outcome) -> None:
    assert pairs(outcome) == EXPECTED
    assert expected_quarantine(ROWS, today=TODAY) == EXPECTED


def test_good_rows_and_the_last_duplicate_pass_with_all_columns(outcome) -> None:
    assert sorted(outcome.passed["row_number"]) == [1, 2, 9, 16, 18]
    assert outcome.passed.columns == RAW_BARS.column_names
    assert outcome.passed.filter(pl.col("row_number") == 9)["close"].item() == 100.7
    assert outcome.quarantined.columns == [*RAW_BARS.column_names, "rule", "detail"]
    assert set(outcome.quarantined["batch_id"]) == {"b1"}


def test_details_say_what_is_wrong(outcome) -> None:
    got = details(outcome)
    assert got[(3, "prices_not_null")] == "null close"
    assert got[(15, "prices_not_null")] == "null open, high, low, close"
    assert got[(4, "prices_positive")] == "low -1.0 <= 0"
    assert got[(5, "low_le_open")] == "low 101.2 > open 100.5"
    assert got[(6, "close_le_high")] == "close 102.0 > high 101.0"
    assert got[(7, "volume_nonnegative")] == "volume -5.0 < 0"
    assert (
        got[(8, "unique_symbol_session")]
        == "superseded by row 9, values differ: close 100.2 vs 100.7"
    )
    assert got[(17, "unique_symbol_session")] == "superseded by row 18"
    assert got[(10, "trading_session")] == "2024-08-03 (Sat) is not a trading session"
    assert got[(11, "trading_session")] == "2012-10-29 (Mon) is not a trading session"
    assert got[(13, "session_not_future")] == "session 2024-08-12 is after today 2024-08-09"


def test_rule_results_come_from_gx_and_warnings_do_not_quarantine(outcome) -> None:
    rules = {r.rule: r for r in outcome.rules}
    assert rules["volume_positive"].severity == "warning"
    assert (rules["volume_positive"].success, rules["volume_positive"].unexpected_count) == (
        False,
        2,
    )
    assert (16, "volume_positive") not in pairs(outcome)
    # GX flags every row of a duplicated key, including the kept ones.
    assert rules["unique_symbol_session"].unexpected_count == 4
    assert rules["trading_session"].unexpected_count == 3
    assert rules["low_le_high"].success and rules["low_le_high"].unexpected_count == 0
    assert all(r.element_count == len(ROWS) for r in outcome.rules)


def test_too_many_quarantined_rows_fail_the_batch(outcome) -> None:
    assert outcome.status == "failed"
    assert outcome.message.startswith("19 rows: 5 passed, 14 quarantined (")
    assert "2 unique_symbol_session" in outcome.message
    assert "exceeds the 5.0% limit" in outcome.message
    assert outcome.rows_quarantined == 14


@pytest.mark.parametrize(("limit", "status"), [(0.05, "passed"), (0.049, "failed")])
def test_quarantine_threshold_flips_status(limit: float, status: str) -> None:
    days = sessions(D(2024, 6, 3), D(2024, 8, 9))[:20]
    rows = [bar(i, "AAA", day) for i, day in enumerate(days)]
    rows[7]["close"] = None  # 1 of 20 rows = 5%
    result = validate_bars(raw_frame(rows), today=TODAY, max_quarantine_fraction=limit)
    assert (result.status, result.passed.height, result.rows_quarantined) == (status, 19, 1)


def test_missing_column_rejects_the_batch_and_names_it() -> None:
    result = validate_bars(raw_frame(ROWS[:2]).drop("volume"), today=TODAY)
    assert result.status == "failed"
    assert "missing columns volume" in result.message
    assert "found: batch_id, source, ingested_at, row_number" in result.message
    assert result.passed.is_empty() and result.quarantined.is_empty()
    assert not {r.rule: r for r in result.rules}["columns_present"].success


def test_wrong_type_and_repeated_row_number_reject_the_batch() -> None:
    typed = validate_bars(
        raw_frame(ROWS[:2]).with_columns(pl.col("open").cast(pl.String)), today=TODAY
    )
    assert typed.status == "failed"
    assert "open is String (expected Float64)" in typed.message
    repeated = validate_bars(
        raw_frame(ROWS[:2]).with_columns(row_number=pl.lit(1, pl.Int64)), today=TODAY
    )
    assert repeated.status == "failed" and "row_number is not unique" in repeated.message
    assert repeated.passed.is_empty()


def test_empty_batch_passes() -> None:
    result = validate_bars(raw_frame(ROWS).clear(), today=TODAY)
    assert (result.status, result.message) == ("passed", "0 rows: 0 passed, 0 quarantined")
    assert all(r.success for r in result.rules)


def test_results_and_quarantine_store_in_the_lakehouse(outcome, lake: Lakehouse) -> None:
    at = dt.datetime(2024, 8, 9, 22, 5, tzinfo=dt.UTC)
    results = rule_rows(outcome, batch_id="b1", validated_at=at)
    with lake.transaction("validate b1") as txn:
        txn.append(VALIDATION_RESULTS, results)
        txn.append(QUARANTINE_BARS, outcome.quarantined)
    stored = lake.read(VALIDATION_RESULTS, order_by="rule")
    assert stored.height == len(outcome.rules) == results["rule"].n_unique()
    assert set(stored["suite"]) == {"daily_bars"}
    assert stored.filter(pl.col("rule") == "low_le_open")["unexpected_count"].item() == 1
    assert lake.count(QUARANTINE_BARS) == len(EXPECTED)


def test_rule_rows_refuse_a_naive_time(outcome) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        rule_rows(outcome, batch_id="b1", validated_at=dt.datetime(2024, 8, 9))
