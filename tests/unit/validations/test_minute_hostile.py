"""validate_minute_bars on hostile rows: infinities and symbols no asset class allows."""

from __future__ import annotations

import datetime as dt

import polars as pl

from tests.unit.validations.test_minute_bars import NOW, quarantined, raw, utc
from validations.minute_bars_validate import validate_minute_bars

INF = float("inf")


def test_infinite_values_and_bad_symbols_are_quarantined() -> None:
    t = utc(2023, 11, 6, 15, 0)
    minute = dt.timedelta(minutes=1)
    equities = raw(
        [
            ("AAA", t, 10.0, 10.5, 9.5, 10.0, 100.0),  # 0 fine
            ("AAA", t + minute, 10.0, INF, 9.5, INF, 100.0),  # 1 infinite high and close
            ("AAA", t + 2 * minute, INF, INF, INF, INF, 100.0),  # 2 all infinite
            ("AAA", t + 3 * minute, 10.0, 10.5, 9.5, 10.0, INF),  # 3 infinite volume
            ("../../etc/passwd", t, 10.0, 10.5, 9.5, 10.0, 1.0),  # 4
            ("A'; DROP TABLE x;--", t, 10.0, 10.5, 9.5, 10.0, 1.0),  # 5
            ("BTC/USD", t, 10.0, 10.5, 9.5, 10.0, 1.0),  # 6 a pair is not an equity
        ]
    )
    pairs = raw(
        [("BTC/USD", t, 1.0, 1.0, 1.0, 1.0, 1.0), ("BTCUSD", t, 1.0, 1.0, 1.0, 1.0, 1.0)],
        asset_class="crypto",
    ).with_columns(pl.col("row_number") + 7)
    outcome = validate_minute_bars(
        pl.concat([equities, pairs]), now=NOW, max_quarantine_fraction=1.0
    )
    got = quarantined(outcome)
    assert [(n, r) for n, r in got if r in ("values_finite", "symbol_pattern")] == [
        (1, "values_finite"),
        (2, "values_finite"),
        (3, "values_finite"),
        (4, "symbol_pattern"),
        (5, "symbol_pattern"),
        (6, "symbol_pattern"),
        (8, "symbol_pattern"),
    ]
    assert outcome.passed.get_column("row_number").sort().to_list() == [0, 7]
    details = dict(outcome.quarantined.select("row_number", "detail").iter_rows())
    assert details[1] == "high inf, close inf"
    assert details[8] == r"crypto symbol BTCUSD does not match ^[A-Z0-9]{2,10}/[A-Z0-9]{2,10}$"
