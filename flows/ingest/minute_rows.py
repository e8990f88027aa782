"""Pure steps from a minute batch to lakehouse rows: batch identity, watermarks, raw, curated.

No I/O here: flows/ingest/minute.py reads what these need and writes what they return.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import polars as pl

from flows.sources.minute_bars import MINUTE_BAR_COLUMNS, MinuteBatch
from validations.minute_bars_phases import with_phases
from warehouse import schemas

UTC_US = pl.Datetime("us", "UTC")
# The bar values two sources must agree on for the same (symbol, ts).
PRICED = ("open", "high", "low", "close", "volume")
EXTRA = ("vwap", "trade_count")
VALUES = PRICED + EXTRA


def minute_batch_id(batch: MinuteBatch) -> str:
    """Return a content hash of the batch, so the same data always gets the same id."""
    digest = hashlib.sha256(f"minute\0{batch.source}".encode())
    digest.update(batch.bars.hash_rows(seed=0).to_numpy().tobytes())
    digest.update(str(batch.bars.schema).encode())
    for rejection in batch.rejections:
        digest.update(f"{rejection.origin}\0{rejection.reason}".encode())
    return f"{batch.source}-1m-{digest.hexdigest()[:16]}"


def after_watermarks(bars: pl.DataFrame, watermarks: pl.DataFrame) -> pl.DataFrame:
    """Return the bars later than their symbol's watermark (symbol, watermark); order kept."""
    if watermarks.is_empty():
        return bars
    joined = bars.join(watermarks, on="symbol", how="left", maintain_order="left")
    keep = pl.col("watermark").is_null() | (pl.col("ts") > pl.col("watermark"))
    return joined.filter(keep).drop("watermark")


def raw_minute_rows(
    batch: MinuteBatch, *, batch_id: str, ingested_at: dt.datetime, exchange: str
) -> pl.DataFrame:
    """Return the batch's bars as raw rows: numbered in arrival order, phased and stamped."""
    bars = batch.bars.select([pl.col(c).cast(t) for c, t in MINUTE_BAR_COLUMNS.items()])
    phased = with_phases(bars, exchange=exchange)
    return phased.with_row_index("row_number").select(
        pl.lit(batch_id).alias("batch_id"),
        pl.lit(batch.source).alias("source"),
        pl.lit(ingested_at).cast(UTC_US).alias("ingested_at"),
        pl.col("row_number").cast(pl.Int64),
        *schemas.RAW_MINUTE_BARS.column_names[4:],
    )


def curated_minute_rows(passed: pl.DataFrame, *, knowledge_time: dt.datetime) -> pl.DataFrame:
    """Return validated raw rows as curated rows stamped with their knowledge time."""
    return passed.select(
        *schemas.CURATED_MINUTE_BARS.column_names[:-1],
        pl.lit(knowledge_time).cast(UTC_US).alias("knowledge_time"),
    )


def in_batch_conflicts(raw: pl.DataFrame, superseded: pl.DataFrame) -> int:
    """Count superseded duplicates whose values differ from their key's newest row.

    ``superseded`` holds the raw rows validation set aside as older duplicates (the
    unique_symbol_ts quarantine); only their keys are looked up in ``raw``.
    """
    if superseded.is_empty():
        return 0
    keys = superseded.select("symbol", "ts").unique()
    newest = (
        raw.join(keys, on=["symbol", "ts"], how="semi")
        .sort("row_number")
        .group_by("symbol", "ts")
        .last()
        .select("symbol", "ts", *[pl.col(c).alias(f"_new_{c}") for c in VALUES])
    )
    joined = superseded.join(newest, on=["symbol", "ts"])
    differs = pl.any_horizontal([pl.col(c).ne_missing(pl.col(f"_new_{c}")) for c in VALUES])
    return int(joined.select(differs.sum()).item())


def settle_with_stored(
    curated: pl.DataFrame, stored: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Split curated rows into new keys and changes to stored bars; count the conflicts.

    ``stored`` holds curated rows already in the lakehouse (at least those sharing a key with
    ``curated``). A shared key whose values differ is a conflict; the bar known later wins, so a
    stored bar with a later knowledge time than the incoming one stays. Returns (rows with new
    keys, to append; rows replacing stored ones, to merge; conflicts).
    """
    old = stored.select(
        "symbol", "ts", *[pl.col(c).alias(f"_old_{c}") for c in VALUES], _known="knowledge_time"
    )
    joined = curated.join(old, on=["symbol", "ts"], how="left", maintain_order="left")
    exists = pl.col("_known").is_not_null()
    # A source without vwap/trade_count does not disagree with one that has them.
    differs = pl.any_horizontal(
        [pl.col(c).ne_missing(pl.col(f"_old_{c}")) for c in PRICED]
        + [(pl.col(c) != pl.col(f"_old_{c}")).fill_null(False) for c in EXTRA]
    )
    conflicts = int(joined.select((exists & differs).sum()).item())
    fresh = joined.filter(~exists).select(curated.columns)
    newer = exists & (pl.col("_known") <= pl.col("knowledge_time"))
    changed = joined.filter(newer).select(curated.columns)
    return fresh, changed, conflicts
