"""Pure steps from a source batch to lakehouse zones: batch identity, raw rows, curated rows.

No I/O here: the ingest flow reads what these need and writes what they return.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import polars as pl

from flows.sources.base import BAR_COLUMNS, SourceBatch
from warehouse import schemas


def batch_id(batch: SourceBatch) -> str:
    """Return a content hash of the batch, so the same data always gets the same id."""
    digest = hashlib.sha256(batch.source.encode())
    for frame in (batch.bars, batch.splits):
        digest.update(frame.hash_rows(seed=0).to_numpy().tobytes())
        digest.update(str(frame.schema).encode())
    for rejection in batch.rejections:
        digest.update(f"{rejection.origin}\0{rejection.reason}".encode())
    for skip in batch.skipped:
        digest.update(f"{skip.origin}\0{skip.reason}\0{skip.rows}".encode())
    return f"{batch.source}-{digest.hexdigest()[:16]}"


def raw_rows(batch: SourceBatch, *, batch_id: str, ingested_at: dt.datetime) -> pl.DataFrame:
    """Return the batch's bars as raw rows, numbered in arrival order and stamped."""
    bars = batch.bars.select([pl.col(c).cast(t) for c, t in BAR_COLUMNS.items()])
    return bars.with_row_index("row_number").select(
        pl.lit(batch_id).alias("batch_id"),
        pl.lit(batch.source).alias("source"),
        pl.lit(ingested_at).cast(pl.Datetime("us", "UTC")).alias("ingested_at"),
        pl.col("row_number").cast(pl.Int64),
        *BAR_COLUMNS,
    )


def split_rows(batch: SourceBatch, *, batch_id: str, ingested_at: dt.datetime) -> pl.DataFrame:
    """Return the batch's splits as raw corporate-action rows."""
    return batch.splits.select(
        pl.lit(batch_id).alias("batch_id"),
        pl.lit(batch.source).alias("source"),
        pl.lit(ingested_at).cast(pl.Datetime("us", "UTC")).alias("ingested_at"),
        "symbol",
        "ex_session",
        "split_ratio",
    ).unique(subset=["symbol", "ex_session"], keep="last", maintain_order=True)


def split_factors(bars: pl.DataFrame, splits: pl.DataFrame) -> pl.Series:
    """Return, per bar, the product of ratios of the symbol's splits after the bar's session."""
    if splits.is_empty() or bars.is_empty():
        return pl.Series("split_factor", [1.0] * len(bars), dtype=pl.Float64)
    keyed = bars.select("symbol", "session").with_row_index("_i")
    joined = keyed.join(splits.select("symbol", "ex_session", "split_ratio"), on="symbol")
    factors = (
        joined.filter(pl.col("ex_session") > pl.col("session"))
        .group_by("_i")
        .agg(pl.col("split_ratio").product().alias("split_factor"))
    )
    out = keyed.join(factors, on="_i", how="left").sort("_i")
    return out.get_column("split_factor").fill_null(1.0)


def curated_rows(
    passed: pl.DataFrame, *, splits: pl.DataFrame, knowledge_time: dt.datetime
) -> pl.DataFrame:
    """Return validated raw rows as curated rows, adjusted for every split known so far."""
    factor = split_factors(passed, splits)
    return passed.with_columns(factor.alias("split_factor")).select(
        "symbol",
        "session",
        *(pl.col(c) / pl.col("split_factor") for c in ("open", "high", "low", "close")),
        pl.col("volume") * pl.col("split_factor"),
        "split_factor",
        "source",
        "batch_id",
        pl.lit(knowledge_time).cast(pl.Datetime("us", "UTC")).alias("knowledge_time"),
    )


def readjusted_rows(
    stored: pl.DataFrame, *, new_splits: pl.DataFrame, knowledge_time: dt.datetime
) -> pl.DataFrame:
    """Return stored curated rows re-adjusted for splits they did not know about yet.

    ``stored`` holds curated rows of the split symbols; each row earlier than a new split's
    ex_session is divided by its ratio (volume multiplied), and its split_factor grows.
    """
    if stored.is_empty() or new_splits.is_empty():
        return stored.clear()
    extra = split_factors(stored, new_splits)
    touched = stored.with_columns(extra.alias("_extra")).filter(pl.col("_extra") != 1.0)
    return touched.with_columns(
        *(pl.col(c) / pl.col("_extra") for c in ("open", "high", "low", "close")),
        pl.col("volume") * pl.col("_extra"),
        pl.col("split_factor") * pl.col("_extra"),
        pl.lit(knowledge_time).cast(pl.Datetime("us", "UTC")).alias("knowledge_time"),
    ).select(schemas.CURATED_BARS.column_names)
