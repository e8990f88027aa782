"""validate_news on a hand-built batch: one row per defect, the decoding warning, batch rules."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import polars as pl
import pytest

from flows.ingest.news_rows import content_id
from validations.news import KEYS, validate_news
from validations.result import ValidationOutcome
from warehouse.schemas import RAW_NEWS

NOW = dt.datetime(2020, 7, 18, 12, tzinfo=dt.UTC)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def row(n: int, headline: str | None, at: dt.datetime | None, **over: Any) -> dict[str, Any]:
    """Return a raw.news row (valid unless ``over`` says otherwise)."""
    base = {
        "batch_id": "b1",
        "source": "news",
        "ingested_at": NOW,
        "row_number": n,
        "origin": "/data/news/reuters_headlines.csv",
        "line": n + 2,
        "publisher": "reuters",
        "symbol": None,
        "time_text": at.strftime("%b %d %Y") if at else "someday",
        "published_at": at,
        "time_precision": "day",
        "knowledge_time": at,
        "headline": headline,
        "body": None,
        "url": None,
        "content_id": content_id("reuters", at, headline or ""),
        "sentiment": 0.0,
        "sentiment_words": 0,
    }
    return {**base, **over}


JUL17 = utc(2020, 7, 17, 4)
ROWS = [
    row(1, "Markets rally", JUL17),
    row(2, "No time here", None),
    row(3, "From the future", utc(2020, 7, 19, 4)),
    row(4, "", JUL17),
    row(5, "Scored wrongly", JUL17, sentiment=1.5),
    row(6, "Sent twice", JUL17),
    row(7, "Sent twice", JUL17),
    row(8, "Damaged \ufffd text", JUL17),  # a warning: passes
    row(9, "Tagged twice", JUL17, symbol="AAPL"),
    row(10, "Tagged twice", JUL17, symbol="GOOG"),  # same item, another symbol: fine
    row(11, "No score", JUL17, sentiment=None),
]


def oracle(rows: list[dict[str, Any]]) -> set[tuple[int, str]]:
    """Return every (row_number, rule) a correct validation quarantines, row by row."""
    out = set()
    keys = Counter(tuple(r[k] for k in KEYS) for r in rows)
    last = {tuple(r[k] for k in KEYS): r["row_number"] for r in rows}
    for r in rows:
        n = r["row_number"]
        if r["published_at"] is None or r["knowledge_time"] is None:
            out.add((n, "published_at_readable"))
        elif r["published_at"] > r["ingested_at"]:
            out.add((n, "published_not_future"))
        if not r["headline"]:
            out.add((n, "text_not_empty"))
        if r["sentiment"] is None or not -1 <= r["sentiment"] <= 1:
            out.add((n, "sentiment_in_range"))
        key = tuple(r[k] for k in KEYS)
        if keys[key] > 1 and last[key] != n:
            out.add((n, "unique_item"))
    return out


def raw_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=RAW_NEWS.polars_schema())


@pytest.fixture(scope="module")
def outcome() -> ValidationOutcome:
    return validate_news(raw_frame(ROWS), today=NOW.date(), batch_id="b1")


def pairs(outcome: ValidationOutcome) -> set[tuple[int, str]]:
    return set(outcome.quarantined.select("row_number", "rule").iter_rows())


def test_each_defect_is_quarantined_under_its_rule_and_nothing_else(outcome) -> None:
    expected = {
        (2, "published_at_readable"),
        (3, "published_not_future"),
        (4, "text_not_empty"),
        (5, "sentiment_in_range"),
        (6, "unique_item"),
        (11, "sentiment_in_range"),
    }
    assert pairs(outcome) == expected
    assert oracle(ROWS) == expected


def test_good_rows_pass_with_every_column(outcome) -> None:
    assert sorted(outcome.passed["row_number"]) == [1, 7, 8, 9, 10]
    assert outcome.passed.columns == RAW_NEWS.column_names


def test_details_say_what_is_wrong(outcome) -> None:
    got = {
        (n, r): d
        for n, r, d in outcome.quarantined.select("row_number", "rule", "detail").iter_rows()
    }
    assert got[(2, "published_at_readable")] == (
        "time someday could not be read (line 4 of reuters_headlines.csv)"
    )
    assert got[(3, "published_not_future")] == (
        "published 2020-07-19 04:00 UTC after the ingest at 2020-07-18 12:00 UTC"
    )
    assert got[(5, "sentiment_in_range")] == "sentiment 1.5 outside [-1, 1]"
    assert got[(6, "unique_item")] == "same publisher, time and text as row 7"


def test_undecodable_text_is_a_warning_that_passes(outcome) -> None:
    rules = {r.rule: r for r in outcome.rules}
    assert (rules["decoded_cleanly"].success, rules["decoded_cleanly"].unexpected_count) == (
        False,
        1,
    )
    assert 8 in outcome.passed["row_number"]
    assert "warnings: 1 decoded_cleanly" in outcome.message


def test_a_clean_batch_passes() -> None:
    rows = [row(i, f"Headline {i}", JUL17) for i in range(30)]
    result = validate_news(raw_frame(rows), today=NOW.date())
    assert (result.status, result.passed.height) == ("passed", 30)
    assert all(r.success for r in result.rules)


def test_a_missing_column_rejects_the_batch() -> None:
    result = validate_news(raw_frame(ROWS[:2]).drop("sentiment"), today=NOW.date())
    assert result.status == "failed" and result.passed.is_empty()
    assert "missing columns sentiment" in result.message
