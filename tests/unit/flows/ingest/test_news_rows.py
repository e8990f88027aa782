"""News ids, knowledge times, novelty and symbol tags, against hand-worked cases."""

from __future__ import annotations

import datetime as dt
import hashlib

import polars as pl
import pytest

from flows.ingest import news_rows
from flows.sources.news import ITEM_COLUMNS
from warehouse import schemas

NOW = dt.datetime(2020, 7, 18, 12, tzinfo=dt.UTC)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def items(rows: list[dict[str, object]]) -> pl.DataFrame:
    base = {"origin": "f.csv", "publisher": "reuters", "time_precision": "minute", "body": None}
    full = [
        {**base, "line": i + 2, "time_text": "t", "known_by": r.get("published_at"), **r}
        for i, r in enumerate(rows)
    ]
    return pl.DataFrame(full, schema=ITEM_COLUMNS)


def test_content_id_hashes_publisher_time_and_text() -> None:
    at = utc(2020, 7, 17, 23, 51)
    expected = hashlib.sha256(b"cnbc\x002020-07-17T23:51:00+00:00\x00Stocks rally").hexdigest()[:32]
    assert news_rows.content_id("cnbc", at, "Stocks rally") == expected
    assert (
        news_rows.content_id(
            "cnbc", at.astimezone(dt.timezone(dt.timedelta(hours=-4))), "Stocks rally"
        )
        == expected
    )
    assert news_rows.content_id("reuters", at, "Stocks rally") != expected
    assert news_rows.content_id("cnbc", at, "Stocks fall") != expected


def test_derived_columns_score_and_clamp_knowledge_to_the_ingest() -> None:
    frame = items(
        [
            {"published_at": utc(2020, 7, 17, 9), "headline": "Profits surge", "body": "no losses"},
            # a date-only item of today: known by the end of the day, but we hold it now
            {
                "published_at": utc(2020, 7, 18, 4),
                "known_by": utc(2020, 7, 19, 4),
                "headline": "Shares fall",
            },
            {"published_at": None, "headline": "Undated"},
        ]
    )
    out = news_rows.with_derived(frame, ingested_at=NOW)
    assert out.get_column("sentiment").to_list() == [1.0, -1.0, 0.0]
    assert out.get_column("sentiment_words").to_list() == [3, 1, 0]
    assert out.get_column("knowledge_time").to_list() == [utc(2020, 7, 17, 9), NOW, None]
    assert out.get_column("content_id").n_unique() == 3


def test_novelty_is_by_content_id_and_symbol_including_untagged() -> None:
    frame = news_rows.with_derived(
        items(
            [
                {"published_at": utc(2020, 7, 17), "headline": "A", "symbol": None},
                {"published_at": utc(2020, 7, 17), "headline": "B", "symbol": "AAPL"},
                {"published_at": utc(2020, 7, 17), "headline": "B", "symbol": "GOOG"},
            ]
        ),
        ingested_at=NOW,
    )
    seen = frame.slice(0, 2).select("content_id", "symbol")
    new = news_rows.new_items(frame, seen)
    assert new.select("headline", "symbol").rows() == [("B", "GOOG")]


def test_curated_keeps_one_item_per_content_id_and_tags_each_symbol() -> None:
    frame = news_rows.with_derived(
        items(
            [
                {
                    "published_at": utc(2020, 7, 17),
                    "headline": "Tesla's shares jump",
                    "symbol": None,
                },
                {
                    "published_at": utc(2020, 7, 17),
                    "headline": "apple pie and Teslas",
                    "symbol": None,
                },
                {
                    "published_at": utc(2020, 7, 16),
                    "headline": "$ aapl $ goog up",
                    "symbol": "AAPL",
                },
                {
                    "published_at": utc(2020, 7, 16),
                    "headline": "$ aapl $ goog up",
                    "symbol": "GOOG",
                },
            ]
        ),
        ingested_at=NOW,
    )
    passed = news_rows.raw_rows(frame, source="news", batch_id="b", ingested_at=NOW)
    curated = news_rows.curated_rows(passed)
    assert curated.columns == schemas.CURATED_NEWS.column_names
    assert curated.height == 3
    tags = news_rows.symbol_rows(passed, aliases={"TSLA": ["Tesla"], "AAPL": ["Apple"], "X": []})
    assert tags.columns == schemas.CURATED_NEWS_SYMBOLS.column_names
    by_id = dict(zip(frame.get_column("headline"), frame.get_column("content_id"), strict=False))
    assert sorted(tags.select("content_id", "symbol", "tagged_by").rows()) == sorted(
        [
            (by_id["Tesla's shares jump"], "TSLA", "alias"),
            (by_id["$ aapl $ goog up"], "AAPL", "source"),
            (by_id["$ aapl $ goog up"], "GOOG", "source"),
        ]
    )


def test_naive_ingest_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        news_rows.with_derived(items([]), ingested_at=dt.datetime(2020, 7, 18))
