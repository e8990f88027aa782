"""Curated zone: validated, deduplicated, adjusted, keyed data."""

from __future__ import annotations

from warehouse.schemas.dataset import _MINUTE_BAR, _OHLCV, Dataset

CURATED_BARS = Dataset(
    "curated",
    "bars",
    (("symbol", "VARCHAR"), ("session", "DATE"))
    + _OHLCV
    + (
        ("split_factor", "DOUBLE"),
        ("source", "VARCHAR"),
        ("batch_id", "VARCHAR"),
        ("knowledge_time", "TIMESTAMPTZ"),
    ),
    key=("symbol", "session"),
    description=(
        "Validated, deduplicated, split-adjusted daily bars. Prices are divided and volume "
        "multiplied by split_factor (the product of later splits), so returns are continuous."
    ),
)

CURATED_MINUTE_BARS = Dataset(
    "curated",
    "minute_bars",
    _MINUTE_BAR
    + (("source", "VARCHAR"), ("batch_id", "VARCHAR"), ("knowledge_time", "TIMESTAMPTZ")),
    key=("symbol", "ts"),
    description=(
        "Validated, deduplicated minute bars as the source sent them (no further adjustment); "
        "where sources disagree on a bar, the one known later wins."
    ),
)

CURATED_MACRO_VINTAGES = Dataset(
    "curated",
    "macro_vintages",
    (
        ("series_id", "VARCHAR"),
        ("observation_date", "DATE"),
        ("knowledge_time", "TIMESTAMPTZ"),
        ("value", "DOUBLE"),
        ("source", "VARCHAR"),
        ("batch_id", "VARCHAR"),
        ("ingested_at", "TIMESTAMPTZ"),
    ),
    key=("series_id", "observation_date", "knowledge_time"),
    description=(
        "Every validated vintage of every macro observation; as-of reads pick, per observation, "
        "the latest vintage known at the time (flows/ingest/macro_reads.py)."
    ),
)

CURATED_MACRO = Dataset(
    "curated",
    "macro",
    (
        ("series_id", "VARCHAR"),
        ("observation_date", "DATE"),
        ("value", "DOUBLE"),
        ("knowledge_time", "TIMESTAMPTZ"),  # when the current value was first known
        ("revisions", "INTEGER"),  # vintages whose value differs from the one before
        ("source", "VARCHAR"),
        ("batch_id", "VARCHAR"),
        ("ingested_at", "TIMESTAMPTZ"),
    ),
    key=("series_id", "observation_date"),
    description="The latest validated vintage per macro observation; value NULL when missing.",
)

CURATED_NEWS = Dataset(
    "curated",
    "news",
    (
        ("content_id", "VARCHAR"),
        ("publisher", "VARCHAR"),
        ("published_at", "TIMESTAMPTZ"),
        ("time_precision", "VARCHAR"),
        ("knowledge_time", "TIMESTAMPTZ"),
        ("headline", "VARCHAR"),
        ("body", "VARCHAR"),
        ("url", "VARCHAR"),
        ("sentiment", "DOUBLE"),
        ("sentiment_words", "INTEGER"),
        ("source", "VARCHAR"),
        ("batch_id", "VARCHAR"),
        ("ingested_at", "TIMESTAMPTZ"),
    ),
    key=("content_id",),
    description="Validated news items, one per content id (the first arrival's body and url).",
)

CURATED_NEWS_SYMBOLS = Dataset(
    "curated",
    "news_symbols",
    (
        ("content_id", "VARCHAR"),
        ("symbol", "VARCHAR"),
        ("tagged_by", "VARCHAR"),  # source (the input's own tag) | alias (a name in the text)
        ("batch_id", "VARCHAR"),
    ),
    key=("content_id", "symbol"),
    description="Which symbols each curated news item is about.",
)
