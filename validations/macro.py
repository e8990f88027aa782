"""The macro-series data contract ("macro_series"): its rules, checked on raw.macro rows.

Error row rules quarantine the row with the rule's name and a readable detail; the warning
(missing values) passes the rows and is counted; batch rules (columns, types, row numbers)
reject the whole batch. A missing value ("" or "." in FRED files) is data, not an error: it
stays null. ``validate_macro`` is what the ingest flow calls.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import polars as pl

from validations.macro_news_contract import Contract
from validations.macro_news_validate import validate_contract
from validations.result import ValidationOutcome
from validations.rules import Check, Rule

SUITE = "macro_series"
KEYS = ("series_id", "observation_date", "knowledge_time")
# A number as FRED writes one, or nothing ("" / "." mean missing).
NUMBER_OR_MISSING = r"^(?:\.|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)?$"
FREQUENCIES = ["D", "W", "M", "Q", "A"]

COLUMNS: dict[str, pl.DataType] = {
    "series_id": pl.String(),
    "observation_date": pl.Date(),
    "value_text": pl.String(),
    "value": pl.Float64(),
    "frequency": pl.String(),
    "knowledge_time": pl.Datetime("us", "UTC"),
}


def _where() -> pl.Expr:
    """Return "line N of FILE.csv" for a row (its file's name, not the whole path)."""
    return pl.format("line {} of {}", pl.col("line"), pl.col("origin").str.split("/").list.last())


def _null_detail(columns: tuple[str, ...]) -> pl.Expr:
    names = pl.concat_str(
        [pl.when(pl.col(c).is_null()).then(pl.lit(c)) for c in columns],
        separator=", ",
        ignore_nulls=True,
    )
    return pl.format("null {} ({})", names, _where())


def _missing_detail() -> pl.Expr:
    written = pl.when(pl.col("value_text") == "").then(pl.lit("blank"))
    written = written.otherwise(pl.format("'{}'", pl.col("value_text")))
    return pl.format("missing value ({}, {})", written, _where())


def _unknown_time_detail() -> pl.Expr:
    why = (
        pl.when(pl.col("observation_date").is_null())
        .then(pl.lit("its date is unreadable"))
        .otherwise(
            pl.format(
                "no realtime_start, and the frequency of {} cannot be told from its dates; set "
                "QUANTLAKE_MACRO__FREQUENCIES",
                pl.col("series_id"),
            )
        )
    )
    return pl.lit("no knowledge time: ") + why


def _duplicate_detail() -> pl.Expr:
    keys = list(KEYS)
    newest = pl.col("row_number").sort().last().over(keys)
    value = pl.col("value_text").sort_by("row_number").last().over(keys)
    differs = pl.col("value_text").ne_missing(value)
    return pl.format("superseded by row {}", newest) + pl.when(differs).then(
        pl.format(", values differ: {} vs {}", pl.col("value_text"), value)
    ).otherwise(pl.lit(""))


def _time(column: str) -> pl.Expr:
    return pl.col(column).dt.strftime("%Y-%m-%d %H:%M UTC")


ROW_RULES: tuple[Rule, ...] = (
    Rule(
        "keys_not_null",
        "error",
        "row",
        "series_id and observation_date are set",
        tuple(
            Check("ExpectColumnValuesToNotBeNull", {"column": c})
            for c in ("series_id", "observation_date")
        ),
        lambda _: _null_detail(("series_id", "observation_date")),
    ),
    Rule(
        "value_readable",
        "error",
        "row",
        "the value is a number, or empty / '.' for missing",
        (
            Check(
                "ExpectColumnValuesToMatchRegex",
                {"column": "value_text", "regex": NUMBER_OR_MISSING},
            ),
        ),
        lambda _: pl.format(
            "value {} is not a number (nor '' / '.' for missing)", pl.col("value_text")
        ),
    ),
    Rule(
        "value_finite",
        "error",
        "row",
        "a value, when present, is finite",
        (
            Check(
                "ExpectColumnValuesToBeBetween",
                {
                    "column": "value",
                    "min_value": -sys.float_info.max,
                    "max_value": sys.float_info.max,
                },
            ),
        ),
        lambda _: pl.format("value {} is not finite", pl.col("value")),
    ),
    Rule(
        "knowledge_time_known",
        "error",
        "row",
        "the observation has a knowledge time",
        (Check("ExpectColumnValuesToNotBeNull", {"column": "knowledge_time"}),),
        lambda _: _unknown_time_detail(),
    ),
    Rule(
        "known_after_observed",
        "error",
        "row",
        "knowledge_time >= observation_date (a value is not known before its period starts)",
        (
            Check(
                "ExpectColumnPairValuesAToBeGreaterThanB",
                {
                    "column_A": "knowledge_time",
                    "column_B": "observation_date",
                    "or_equal": True,
                    "ignore_row_if": "either_value_is_missing",
                },
            ),
        ),
        lambda _: pl.format(
            "known {} before its observation date {}",
            _time("knowledge_time"),
            pl.col("observation_date"),
        ),
    ),
    Rule(
        "frequency_known",
        "error",
        "row",
        "the frequency is one of D, W, M, Q, A",
        (Check("ExpectColumnValuesToBeInSet", {"column": "frequency", "value_set": FREQUENCIES}),),
        lambda _: pl.format("frequency {} is not one of D, W, M, Q, A", pl.col("frequency")),
    ),
    Rule(
        "unique_vintage",
        "error",
        "row",
        "one value per (series_id, observation_date, knowledge_time); the last one received wins",
        (Check("ExpectCompoundColumnsToBeUnique", {"column_list": list(KEYS)}),),
        lambda _: _duplicate_detail(),
        kept=pl.col("row_number") == pl.col("row_number").max().over(list(KEYS)),
    ),
    Rule(
        "value_present",
        "warning",
        "row",
        "the value is not missing (FRED leaves holidays and unpublished periods blank)",
        (Check("ExpectColumnValuesToNotBeNull", {"column": "value"}),),
        lambda _: _missing_detail(),
    ),
)

CONTRACT = Contract(SUITE, "quantlake macro-series data contract", COLUMNS, ROW_RULES)


def validate_macro(
    frame: pl.DataFrame,
    *,
    today: dt.date,
    max_quarantine_fraction: float = 0.05,
    context_dir: Path | None = None,
    batch_id: str = "adhoc",
) -> ValidationOutcome:
    """Validate raw.macro rows; quarantine rows breaking an error rule, keep the last duplicate.

    ``frame`` needs row_number (unique Int64), origin, line and COLUMNS; other columns are
    carried through. With ``context_dir`` the result is stored in GX's file context there and
    shown in its Data Docs site.
    """
    return validate_contract(
        CONTRACT,
        frame,
        today=today,
        max_quarantine_fraction=max_quarantine_fraction,
        context_dir=context_dir,
        batch_id=batch_id,
    )
