"""The news data contract ("news_items"): its rules, checked on raw.news rows.

Error row rules quarantine the row with the rule's name and a readable detail; the warning
(text damaged in decoding) passes the rows and is counted; batch rules (columns, types, row
numbers) reject the whole batch. ``validate_news`` is what the ingest flow calls.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from validations.macro_news_contract import Contract
from validations.macro_news_validate import validate_contract
from validations.result import ValidationOutcome
from validations.rules import Check, Rule

SUITE = "news_items"
KEYS = ("content_id", "symbol")
REPLACEMENT = "\ufffd"  # what undecodable bytes became

COLUMNS: dict[str, pl.DataType] = {
    "publisher": pl.String(),
    "symbol": pl.String(),
    "time_text": pl.String(),
    "published_at": pl.Datetime("us", "UTC"),
    "knowledge_time": pl.Datetime("us", "UTC"),
    "ingested_at": pl.Datetime("us", "UTC"),
    "headline": pl.String(),
    "content_id": pl.String(),
    "sentiment": pl.Float64(),
}


def _where() -> pl.Expr:
    """Return "(line N of FILE.csv)" for a row (its file's name, not the whole path)."""
    file = pl.col("origin").str.split("/").list.last()
    return pl.format("(line {} of {})", pl.col("line"), file)


def _time(column: str) -> pl.Expr:
    return pl.col(column).dt.strftime("%Y-%m-%d %H:%M UTC")


def _not_null(*columns: str) -> tuple[Check, ...]:
    return tuple(Check("ExpectColumnValuesToNotBeNull", {"column": c}) for c in columns)


ROW_RULES: tuple[Rule, ...] = (
    Rule(
        "ids_not_null",
        "error",
        "row",
        "publisher and content_id are set",
        _not_null("publisher", "content_id"),
        lambda _: pl.format("null publisher or content_id {}", _where()),
    ),
    Rule(
        "published_at_readable",
        "error",
        "row",
        "the time stamp could be read",
        _not_null("published_at", "knowledge_time"),
        lambda _: pl.format("time {} could not be read {}", pl.col("time_text"), _where()),
    ),
    Rule(
        "published_not_future",
        "error",
        "row",
        "published_at is not after the ingest",
        (
            Check(
                "ExpectColumnPairValuesAToBeGreaterThanB",
                {
                    "column_A": "ingested_at",
                    "column_B": "published_at",
                    "or_equal": True,
                    "ignore_row_if": "either_value_is_missing",
                },
            ),
        ),
        lambda _: pl.format(
            "published {} after the ingest at {}", _time("published_at"), _time("ingested_at")
        ),
    ),
    Rule(
        "text_not_empty",
        "error",
        "row",
        "the headline or post text is not empty",
        _not_null("headline")
        + (Check("ExpectColumnValueLengthsToBeBetween", {"column": "headline", "min_value": 1}),),
        lambda _: pl.format("empty headline {}", _where()),
    ),
    Rule(
        "sentiment_in_range",
        "error",
        "row",
        "sentiment is set and within [-1, 1]",
        _not_null("sentiment")
        + (
            Check(
                "ExpectColumnValuesToBeBetween",
                {"column": "sentiment", "min_value": -1, "max_value": 1},
            ),
        ),
        lambda _: pl.format("sentiment {} outside [-1, 1]", pl.col("sentiment")),
    ),
    Rule(
        "unique_item",
        "error",
        "row",
        "one row per (content_id, symbol); the last one received wins",
        (Check("ExpectCompoundColumnsToBeUnique", {"column_list": list(KEYS)}),),
        lambda _: pl.format(
            "same publisher, time and text as row {}", pl.col("row_number").max().over(list(KEYS))
        ),
        kept=pl.col("row_number") == pl.col("row_number").max().over(list(KEYS)),
    ),
    Rule(
        "decoded_cleanly",
        "warning",
        "row",
        "the text holds no U+FFFD (bytes that could not be decoded, here or upstream)",
        (Check("ExpectColumnValuesToNotMatchRegex", {"column": "headline", "regex": REPLACEMENT}),),
        lambda _: pl.format("undecodable bytes replaced by U+FFFD {}", _where()),
    ),
)

CONTRACT = Contract(SUITE, "quantlake news data contract", COLUMNS, ROW_RULES)


def validate_news(
    frame: pl.DataFrame,
    *,
    today: dt.date,
    max_quarantine_fraction: float = 0.05,
    context_dir: Path | None = None,
    batch_id: str = "adhoc",
) -> ValidationOutcome:
    """Validate raw.news rows; quarantine rows breaking an error rule, keep the last duplicate.

    ``frame`` needs row_number (unique Int64), origin, line and COLUMNS; other columns are
    carried through.
    """
    return validate_contract(
        CONTRACT,
        frame,
        today=today,
        max_quarantine_fraction=max_quarantine_fraction,
        context_dir=context_dir,
        batch_id=batch_id,
    )
