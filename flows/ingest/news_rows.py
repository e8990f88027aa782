"""Pure steps from fetched news items to lakehouse rows: ids, tone, novelty, raw, curated, tags.

No I/O: the news ingest flow reads what these need and writes what they return.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping, Sequence

import polars as pl

from flows.sources import sentiment
from warehouse import schemas

ITEM_KEY = ["content_id", "symbol"]


def content_id(publisher: str, published_at: dt.datetime | None, headline: str) -> str:
    """Return the id of an item: a hash of its publisher, publication instant and text."""
    at = published_at.astimezone(dt.UTC).isoformat() if published_at is not None else ""
    digest = hashlib.sha256(f"{publisher}\0{at}\0{headline}".encode())
    return digest.hexdigest()[:32]


def with_derived(items: pl.DataFrame, *, ingested_at: dt.datetime) -> pl.DataFrame:
    """Return ``items`` with content_id, sentiment, sentiment_words and knowledge_time.

    The tone is scored on the headline and body together. knowledge_time is ``known_by``,
    never after ``ingested_at`` (we hold the item then, whatever its stamp says).
    """
    if ingested_at.tzinfo is None:
        raise ValueError("ingested_at must be timezone-aware (UTC)")
    ids = [
        content_id(p, t, h)
        for p, t, h in items.select("publisher", "published_at", "headline").iter_rows()
    ]
    texts = items.select(
        pl.concat_str("headline", "body", separator=" ", ignore_nulls=True)
    ).to_series()
    scores, words = sentiment.tones(texts.to_list())
    now = pl.lit(ingested_at).cast(pl.Datetime("us", "UTC"))
    return items.with_columns(
        content_id=pl.Series(ids, dtype=pl.String),
        sentiment=pl.Series(scores, dtype=pl.Float64),
        sentiment_words=pl.Series(words, dtype=pl.Int32),
        knowledge_time=pl.when(pl.col("known_by").is_null())
        .then(None)
        .otherwise(pl.min_horizontal("known_by", now)),
    )


def new_items(items: pl.DataFrame, stored: pl.DataFrame) -> pl.DataFrame:
    """Return the items whose (content_id, symbol) is not in ``stored`` (earlier passed rows)."""
    return items.join(stored.select(ITEM_KEY), on=ITEM_KEY, how="anti", nulls_equal=True)


def raw_rows(
    items: pl.DataFrame, *, source: str, batch_id: str, ingested_at: dt.datetime
) -> pl.DataFrame:
    """Return derived items as raw.news rows, numbered in file then row order."""
    return items.with_row_index("row_number").select(
        pl.lit(batch_id).alias("batch_id"),
        pl.lit(source).alias("source"),
        pl.lit(ingested_at).cast(pl.Datetime("us", "UTC")).alias("ingested_at"),
        pl.col("row_number").cast(pl.Int64),
        *schemas.RAW_NEWS.column_names[4:],
    )


def curated_rows(passed: pl.DataFrame) -> pl.DataFrame:
    """Return one curated.news row per content id of validated raw rows (the last received)."""
    unique = passed.unique(subset="content_id", keep="last", maintain_order=True)
    return unique.select(schemas.CURATED_NEWS.column_names)


def symbol_rows(passed: pl.DataFrame, *, aliases: Mapping[str, Sequence[str]]) -> pl.DataFrame:
    """Return curated.news_symbols rows: the inputs' own tags, then names found in headlines.

    A name matches as a whole word, case-sensitively ("Apple" tags AAPL, "apple" does not).
    """
    own = passed.filter(pl.col("symbol").is_not_null()).select(
        "content_id", "symbol", tagged_by=pl.lit("source"), batch_id="batch_id"
    )
    named = [
        passed.filter(pl.col("headline").str.contains(_pattern(names))).select(
            "content_id", symbol=pl.lit(symbol), tagged_by=pl.lit("alias"), batch_id="batch_id"
        )
        for symbol, names in sorted(aliases.items())
        if names
    ]
    tags = pl.concat([own, *named]) if named else own
    return tags.unique(subset=["content_id", "symbol"], keep="first", maintain_order=True).select(
        schemas.CURATED_NEWS_SYMBOLS.column_names
    )


def _pattern(names: Sequence[str]) -> str:
    # Rust regex \b is Unicode-aware, so "Tesla's" matches "Tesla" and "Teslas" does not.
    return r"\b(?:" + "|".join(re.escape(n) for n in names) + r")\b"
