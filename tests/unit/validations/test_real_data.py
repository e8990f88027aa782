"""validate_bars on real files: the messy appended AAPL file and the clean 100-symbol set."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from tests.unit.validations.oracle import expected_quarantine
from validations.result import ValidationOutcome
from validations.validate import validate_bars

MESSY_AAPL = "messy/yahoo_appended_daily_kcjpop_2024-08-09/AAPL.csv.gz"
EQUITIES = "equities_daily/yahoo_us_equities_100_daily_2010-2021.csv.gz"
BAR_SCHEMA = {
    "session": pl.Date,
    "open": pl.Float64,
    "high": pl.Float64,
    "low": pl.Float64,
    "close": pl.Float64,
    "volume": pl.Float64,
}


def read_messy(path: Path, symbol: str) -> pl.DataFrame:
    """Read a Yahoo per-symbol CSV ("null" strings are missing) as bars in arrival order."""
    frame = pl.read_csv(path, null_values="null", try_parse_dates=True)
    names = dict(zip(["Date", "Open", "High", "Low", "Close", "Volume"], BAR_SCHEMA, strict=True))
    return (
        frame.rename(names)
        .select(*BAR_SCHEMA)
        .cast(BAR_SCHEMA)
        .with_row_index("row_number")
        .with_columns(pl.col("row_number").cast(pl.Int64), symbol=pl.lit(symbol))
    )


def quarantined_pairs(outcome: ValidationOutcome) -> set[tuple[int, str]]:
    return set(outcome.quarantined.select("row_number", "rule").iter_rows())


@pytest.fixture(scope="module")
def aapl(shared_data: Path) -> pl.DataFrame:
    return read_messy(shared_data / MESSY_AAPL, "AAPL")


def test_messy_aapl_quarantines_the_null_row_and_the_superseded_duplicates(aapl) -> None:
    today = dt.date(2024, 8, 9)
    outcome = validate_bars(aapl, today=today)
    assert quarantined_pairs(outcome) == expected_quarantine(aapl.to_dicts(), today=today)
    by_rule = outcome.quarantined.group_by("rule").agg(pl.col("session"))
    sessions = dict(by_rule.iter_rows())
    assert sessions["prices_not_null"] == [dt.date(2022, 1, 27)]
    assert sessions["volume_not_null"] == [dt.date(2022, 1, 27)]
    duplicated = aapl.filter(pl.col("session").is_duplicated())
    assert len(sessions["unique_symbol_session"]) == duplicated["session"].n_unique() == 45
    last = duplicated.group_by("session").agg(pl.col("row_number").max())["row_number"]
    assert set(last) <= set(outcome.passed["row_number"])
    assert not set(last) & set(outcome.quarantined["row_number"])
    assert outcome.status == "passed"  # 48 of 6,233 rows is under the 5% limit


@pytest.fixture(scope="module")
def equities(shared_data: Path) -> pl.DataFrame:
    frame = pl.read_csv(shared_data / EQUITIES, try_parse_dates=True)
    return (
        frame.rename({"date": "session"})
        .select("symbol", *BAR_SCHEMA)
        .cast(BAR_SCHEMA)
        .with_row_index("row_number")
        .with_columns(pl.col("row_number").cast(pl.Int64))
    )


def test_clean_100_symbol_file_has_no_false_positives(equities) -> None:
    today = dt.date(2022, 1, 28)
    assert equities.height == 293_296
    assert expected_quarantine(equities.to_dicts(), today=today) == set()
    outcome = validate_bars(equities, today=today)
    assert outcome.quarantined.is_empty()
    assert outcome.passed.height == equities.height
    assert outcome.status == "passed"
    # The two zero-volume placeholder bars are valid; the warning rule reports them.
    zero = outcome.passed.filter(pl.col("volume") == 0).select("symbol", "session").rows()
    assert sorted(zero) == [("AMD", dt.date(2015, 1, 2)), ("CCI", dt.date(2020, 7, 31))]
    warning = {r.rule: r for r in outcome.rules}["volume_positive"]
    assert (warning.severity, warning.unexpected_count) == ("warning", 2)
