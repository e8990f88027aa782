"""validate_bars on hostile rows: infinities, bad symbols, placeholder runs, one broken symbol.

Each case is checked against the row-by-row oracle (tests/unit/validations/oracle.py), and every
row is accounted for: passed + quarantined = received.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from tests.unit.validations.oracle import expected_quarantine
from tests.unit.validations.test_validate import TODAY, bar, raw_frame
from validations.result import ValidationOutcome
from validations.validate import validate_bars
from warehouse.calendar import sessions

INF = float("inf")
DAYS = sessions(dt.date(2024, 1, 2), TODAY, exchange="XNYS")
CRYPTO = r"^[A-Z0-9]{2,10}/[A-Z0-9]{2,10}$"


def _history(symbol: str, first: int, n: int, **values: float) -> list[dict[str, object]]:
    """Return ``n`` good consecutive bars of ``symbol`` (row numbers from ``first``)."""
    return [bar(first + i, symbol, DAYS[i], **values) for i in range(n)]


def _pairs(outcome: ValidationOutcome) -> set[tuple[int, str]]:
    return set(outcome.quarantined.select("row_number", "rule").iter_rows())


def _accounted(outcome: ValidationOutcome, received: int) -> None:
    assert outcome.passed.height + outcome.rows_quarantined == received


def test_infinite_prices_and_volume_are_quarantined() -> None:
    rows = [
        bar(1, "AAA", DAYS[0]),
        bar(2, "AAA", DAYS[1], high=INF, close=INF),
        bar(3, "AAA", DAYS[2], open=INF, high=INF, low=INF, close=INF),
        bar(4, "AAA", DAYS[3], volume=INF),
    ]
    outcome = validate_bars(raw_frame(rows), today=TODAY)
    assert {n for n, r in _pairs(outcome) if r == "values_finite"} == {2, 3, 4}
    assert _pairs(outcome) == expected_quarantine(rows, today=TODAY)
    assert outcome.passed.get_column("row_number").to_list() == [1]
    detail = outcome.quarantined.filter(
        pl.col("row_number") == 2, pl.col("rule") == "values_finite"
    )
    assert detail.item(0, "detail") == "high inf, close inf"


def test_symbols_must_match_the_asset_class_pattern() -> None:
    hostile = ["A'; DROP TABLE x;--", "../../etc/passwd", "X" * 300, "", "aapl", "AAPL\n"]
    good = ["BRK.B", "BF-B", "AAPL", "A"]
    rows = [bar(i, s, DAYS[0]) for i, s in enumerate(hostile + good)]
    outcome = validate_bars(raw_frame(rows), today=TODAY, max_quarantine_fraction=1.0)
    failing = {n for n, r in _pairs(outcome) if r == "symbol_pattern"}
    assert failing == set(range(len(hostile)))
    assert _pairs(outcome) == expected_quarantine(rows, today=TODAY)
    assert sorted(outcome.passed.get_column("symbol").to_list()) == sorted(good)
    long = outcome.quarantined.filter(pl.col("row_number") == 2).item(0, "detail")
    assert long.startswith("symbol " + "X" * 40 + "... (300 characters) does not match")


def test_a_crypto_pattern_takes_pairs_only() -> None:
    rows = [bar(1, "BTC/USD", DAYS[0]), bar(2, "BTCUSD", DAYS[0]), bar(3, "ETH/USDT", DAYS[0])]
    outcome = validate_bars(
        raw_frame(rows), today=TODAY, symbol_pattern=CRYPTO, max_quarantine_fraction=1.0
    )
    assert _pairs(outcome) == {(2, "symbol_pattern")}


def test_placeholder_runs_are_quarantined_from_the_threshold_on() -> None:
    flat = {"open": 10.0, "high": 10.0, "low": 10.0, "close": 10.0, "volume": 0.0}
    rows = [
        *_history("PRE", 0, 7, **flat),  # seven placeholder bars before the listing
        *(bar(7 + i, "PRE", DAYS[7 + i]) for i in range(30)),  # then trading
        *_history("FOUR", 100, 4, **flat),  # four: below the threshold of five
        *(bar(104 + i, "FOUR", DAYS[4 + i]) for i in range(30)),
        bar(200, "ODD", DAYS[0], **flat),  # zero volume, but each bar differs from the last
        bar(201, "ODD", DAYS[1], **{**flat, "close": 10.5, "high": 10.5}),
    ]
    outcome = validate_bars(raw_frame(rows), today=TODAY)
    stale = {n for n, r in _pairs(outcome) if r == "stale_run"}
    assert stale == set(range(7))
    assert _pairs(outcome) == expected_quarantine(rows, today=TODAY)
    # Placeholders count on neither side of the limits: 7 of 37 PRE rows, yet PRE's 30 trading
    # rows are stored and the batch passes.
    assert outcome.status == "passed"
    assert outcome.passed.filter(pl.col("symbol") == "PRE").height == 30
    _accounted(outcome, len(rows))
    rule = {r.rule: r for r in outcome.rules}["stale_run"]
    assert (rule.success, rule.unexpected_count) == (False, 7)


def test_the_stale_run_threshold_is_a_parameter() -> None:
    flat = {"open": 10.0, "high": 10.0, "low": 10.0, "close": 10.0, "volume": 0.0}
    rows = _history("FOUR", 0, 4, **flat)
    outcome = validate_bars(raw_frame(rows), today=TODAY, stale_run_bars=4)
    assert _pairs(outcome) == {(n, "stale_run") for n in range(4)}
    assert _pairs(outcome) == expected_quarantine(rows, today=TODAY, stale_run_bars=4)


def _broken_symbol() -> list[dict[str, object]]:
    """Return 37 bars of BAD, 3 of them (8.1%) with low above high."""
    rows = _history("BAD", 0, 37)
    for n in (5, 15, 25):
        rows[n] = bar(n, "BAD", DAYS[n], low=102.0)
    return rows


def test_a_symbol_over_the_limit_fails_a_batch_of_its_own() -> None:
    rows = _broken_symbol()
    outcome = validate_bars(raw_frame(rows), today=TODAY)
    assert outcome.status == "failed" and outcome.passed.is_empty()
    by_rule = dict(outcome.quarantined.group_by("rule").len().iter_rows())
    assert by_rule == {
        "low_le_high": 3,
        "low_le_open": 3,
        "low_le_close": 3,
        "symbol_quarantine_share": 34,
    }
    _accounted(outcome, len(rows))


def test_a_symbol_over_the_limit_cannot_hide_in_a_large_batch() -> None:
    rows = _broken_symbol() + [
        row
        for k, s in enumerate(("GOOD", "FINE", "OKAY", "SOUND", "CLEAN", "RIGHT", "WELL", "SAFE"))
        for row in _history(s, 1000 * (k + 1), 37)
    ]
    outcome = validate_bars(raw_frame(rows), today=TODAY)
    # 3 of 333 rows (0.9%) break a rule: the batch passes, but not BAD's other 34 rows.
    assert outcome.status == "passed"
    assert outcome.passed.filter(pl.col("symbol") == "BAD").is_empty()
    assert outcome.passed.height == 8 * 37
    share = outcome.quarantined.filter(pl.col("rule") == "symbol_quarantine_share")
    assert share.height == 34
    assert share.item(0, "detail") == (
        "3 of the symbol's 37 judged rows (8.1%) quarantined, over the 5.0% limit"
    )
    result = {r.rule: r for r in outcome.rules}["symbol_quarantine_share"]
    assert (result.success, result.unexpected_count) == (False, 34)
    _accounted(outcome, len(rows))


def test_a_short_symbol_history_is_not_judged_per_symbol() -> None:
    # Two sessions of a symbol, one bad: one bad row alone may not cost it its good rows.
    rows = [bar(1, "AAA", DAYS[0], low=102.0), bar(2, "AAA", DAYS[1])]
    outcome = validate_bars(raw_frame(rows), today=TODAY, max_quarantine_fraction=0.6)
    assert outcome.passed.get_column("row_number").to_list() == [2]
