"""Which curated snapshot each feature row comes from, kept stable while its values are."""

from __future__ import annotations

import polars as pl

from warehouse.schemas import FEATURE_COLUMNS


def with_curated_snapshot(
    frame: pl.DataFrame, stored: pl.DataFrame, *, curated_snapshot: int
) -> pl.DataFrame:
    """Add ``curated_snapshot``: the stored one where a row's values are unchanged, else the new.

    A row keeps the snapshot its values were first computed from, so new bars rewrite only the
    feature rows they change (the new sessions), not the whole history.
    """
    previous = stored.select(
        "symbol",
        "session",
        pl.col("curated_snapshot").alias("_stored_snapshot"),
        *(pl.col(c).alias(f"_stored_{c}") for c in FEATURE_COLUMNS),
    )
    joined = frame.join(previous, on=["symbol", "session"], how="left")
    same = (
        pl.all_horizontal([pl.col(c).eq_missing(pl.col(f"_stored_{c}")) for c in FEATURE_COLUMNS])
        & pl.col("_stored_snapshot").is_not_null()
    )
    return joined.select(
        *frame.columns,
        curated_snapshot=pl.when(same)
        .then(pl.col("_stored_snapshot"))
        .otherwise(pl.lit(curated_snapshot, dtype=pl.Int64)),
    )
