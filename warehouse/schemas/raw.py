"""Raw zone: data as received, append-only, with batch_id, source, ingested_at."""

from __future__ import annotations

from warehouse.schemas.dataset import _BATCH, _MINUTE_BAR, _OHLCV, Dataset

RAW_BARS = Dataset(
    "raw",
    "bars",
    _BATCH + (("row_number", "BIGINT"), ("symbol", "VARCHAR"), ("session", "DATE")) + _OHLCV,
    key=("batch_id", "row_number"),
    description="Daily bars as received, append-only; unparseable values are NULL.",
)

RAW_CORPORATE_ACTIONS = Dataset(
    "raw",
    "corporate_actions",
    _BATCH + (("symbol", "VARCHAR"), ("ex_session", "DATE"), ("split_ratio", "DOUBLE")),
    key=("symbol", "ex_session"),
    description=(
        "Splits as reported by the source, or detected in the bars (source 'detected'): "
        "new shares per old share from ex_session on."
    ),
)

RAW_MINUTE_BARS = Dataset(
    "raw",
    "minute_bars",
    _BATCH + (("row_number", "BIGINT"),) + _MINUTE_BAR,
    key=("batch_id", "row_number"),
    description="Minute bars as received, append-only; ingested_at is their knowledge time.",
)

# -- macro series (flows/ingest/macro.py) ------------------------------------------------------
# observation_date is the start of the observation period (FRED's convention); knowledge_time is
# when the value could first have been known: the vintage's release date (ALFRED realtime_start)
# or the period end plus a per-series publication lag (quantlake.settings.MacroSettings).
RAW_MACRO = Dataset(
    "raw",
    "macro",
    _BATCH
    + (
        ("row_number", "BIGINT"),
        ("origin", "VARCHAR"),  # the file, and the line in it
        ("line", "BIGINT"),
        ("series_id", "VARCHAR"),
        ("observation_date", "DATE"),
        ("realtime_start", "DATE"),  # the vintage's release date, where the file states one
        ("value_text", "VARCHAR"),  # the value as written ("" and "." mean missing)
        ("value", "DOUBLE"),  # NULL where missing or unreadable, never 0
        ("frequency", "VARCHAR"),  # D | W | M | Q | A, inferred from the series' dates
        ("knowledge_time", "TIMESTAMPTZ"),
    ),
    key=("batch_id", "row_number"),
    description="Macro observations as received, append-only, with their derived knowledge time.",
)

# -- news and social sentiment (flows/ingest/news.py) ------------------------------------------
# publisher is who wrote the item (cnbc, reuters, stocknet...); source is the batch's source, as
# everywhere. content_id hashes publisher, published_at and headline. knowledge_time is
# published_at, or the end of the publisher's local day for date-only times, never after ingest.
RAW_NEWS = Dataset(
    "raw",
    "news",
    _BATCH
    + (
        ("row_number", "BIGINT"),
        ("origin", "VARCHAR"),
        ("line", "BIGINT"),
        ("publisher", "VARCHAR"),
        ("symbol", "VARCHAR"),  # as the input tags it; NULL for untagged headlines
        ("time_text", "VARCHAR"),  # the time as written
        ("published_at", "TIMESTAMPTZ"),  # NULL where time_text could not be read
        ("time_precision", "VARCHAR"),  # second | minute | day
        ("knowledge_time", "TIMESTAMPTZ"),
        ("headline", "VARCHAR"),
        ("body", "VARCHAR"),
        ("url", "VARCHAR"),
        ("content_id", "VARCHAR"),
        ("sentiment", "DOUBLE"),  # lexicon tone in [-1, 1] (flows/sources/sentiment.py)
        ("sentiment_words", "INTEGER"),  # lexicon words found; 0 means no evidence either way
    ),
    key=("batch_id", "row_number"),
    description="News items and posts as received (decoded, times parsed), append-only.",
)
