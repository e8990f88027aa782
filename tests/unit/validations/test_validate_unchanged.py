"""validate_bars decides as the per-expectation implementation did, on real and odd batches.

The expected outcomes were recorded once from that implementation (daily_cases.py says how);
the messy files are also checked against the row-by-row oracle.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from tests.unit.validations.daily_cases import EXPECTED, HAND_BUILT, REAL, record
from tests.unit.validations.oracle import expected_quarantine
from tests.unit.validations.test_validate import ROWS, TODAY, raw_frame
from validations.validate import validate_bars

BEFORE: dict[str, dict[str, object]] = json.loads(EXPECTED.read_text())


def test_every_case_has_a_recorded_outcome() -> None:
    assert set(BEFORE) == set(REAL) | set(HAND_BUILT)


@pytest.mark.parametrize("name", list(REAL))
def test_real_batch_validates_as_before(name: str, shared_data: Path) -> None:
    build, today = REAL[name]
    outcome = validate_bars(build(shared_data), today=today)
    assert {"today": today.isoformat(), **record(outcome)} == BEFORE[name]


@pytest.mark.parametrize("name", list(HAND_BUILT))
def test_hand_built_batch_validates_as_before(name: str) -> None:
    build, today = HAND_BUILT[name]
    outcome = validate_bars(build(Path()), today=today)
    assert {"today": today.isoformat(), **record(outcome)} == BEFORE[name]


@pytest.mark.parametrize("name", [n for n in REAL if n.startswith("messy")])
def test_messy_quarantine_is_the_oracles(name: str, shared_data: Path) -> None:
    build, today = REAL[name]
    frame = build(shared_data)
    outcome = validate_bars(frame, today=today)
    got = set(outcome.quarantined.select("row_number", "rule").iter_rows())
    assert got == expected_quarantine(frame.to_dicts(), today=today)
    assert outcome.passed.height + outcome.rows_quarantined == frame.height


def test_integer_row_numbers_with_nulls_are_a_wrong_type() -> None:
    # GX saw such a column as float64; the words now say why Int64 was refused.
    frame = raw_frame(ROWS[:3]).with_columns(
        row_number=pl.when(pl.col("row_number") != 2).then(pl.col("row_number"))
    )
    outcome = validate_bars(frame, today=TODAY)
    assert outcome.status == "failed" and outcome.passed.is_empty()
    assert "row_number is Int64 with nulls (expected Int64)" in outcome.message
    assert not {r.rule: r for r in outcome.rules}["column_types"].success


def test_checks_on_a_wrongly_typed_column_count_as_not_run() -> None:
    frame = raw_frame(ROWS).with_columns(pl.col("session").cast(pl.String))
    rules = {r.rule: r for r in validate_bars(frame, today=TODAY).rules}
    # A check GX cannot run counts 1 (the per-expectation suite compared the strings with the
    # session list and counted every row); null and duplicate checks run on any type.
    assert (rules["trading_session"].success, rules["trading_session"].unexpected_count) == (
        False,
        1,
    )
    assert rules["keys_not_null"].unexpected_count == 1
    assert rules["unique_symbol_session"].unexpected_count == 4
