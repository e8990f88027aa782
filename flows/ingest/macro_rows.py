"""Pure steps from fetched macro observations to lakehouse rows: novelty, raw, vintages, curated.

No I/O: the macro ingest flow reads what these need and writes what they return. A vintage is
one value of one observation as known from one moment (its knowledge time); curated holds, per
observation, the latest vintage, known since the first vintage that had its value.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from flows.sources.fred import OBS_COLUMNS
from warehouse import schemas

KEY = ["series_id", "observation_date"]
# What stored raw rows the novelty check needs (see ``new_observations``).
STORED_COLUMNS: dict[str, pl.DataType] = {
    "series_id": pl.String(),
    "observation_date": pl.Date(),
    "realtime_start": pl.Date(),
    "value_text": pl.String(),
    "latest": pl.Boolean(),
}


def new_observations(
    observations: pl.DataFrame, stored: pl.DataFrame
) -> tuple[pl.DataFrame, pl.Series]:
    """Return the observations not loaded before, and which of them revise a stored value.

    ``stored`` holds raw rows of earlier passed batches (STORED_COLUMNS); ``latest`` marks, per
    observation, the last row received without a stated vintage. A row with a vintage
    (realtime_start) is old news when that vintage with that value is stored. Rows without one
    say what the files hold now (the last of them per observation): old news when that repeats
    the latest stored value, a revision when it differs from it.
    """
    vintaged = stored.filter(pl.col("realtime_start").is_not_null()).select(
        *KEY, "realtime_start", "value_text"
    )
    latest = stored.filter(pl.col("latest") & pl.col("realtime_start").is_null()).select(
        *KEY, _stored_text=pl.col("value_text")
    )
    marked = (
        observations.with_row_index("_i")
        .join(
            vintaged.with_columns(_seen=pl.lit(True)),
            on=[*KEY, "realtime_start", "value_text"],
            how="left",
            nulls_equal=True,
        )
        .join(latest, on=KEY, how="left", nulls_equal=True)
        .sort("_i")
    )
    plain = pl.col("realtime_start").is_null()
    # What the files say now is the last plain row per observation (earlier ones it supersedes
    # are quarantined as duplicates): when that repeats the stored value, the observation is
    # unchanged, and none of its rows is new.
    said = pl.col("value_text").filter(plain).last().over(KEY)
    repeat = plain & pl.col("_stored_text").eq_missing(said)
    fresh = marked.filter(~(pl.col("_seen").fill_null(False) | repeat))
    revised = plain & pl.col("_stored_text").is_not_null()
    return fresh.select(list(OBS_COLUMNS)), fresh.select(revised).to_series().alias("revised")


def raw_rows(
    observations: pl.DataFrame, *, source: str, batch_id: str, ingested_at: dt.datetime
) -> pl.DataFrame:
    """Return observations (with knowledge_time) as raw.macro rows, numbered in file order."""
    return observations.with_row_index("row_number").select(
        pl.lit(batch_id).alias("batch_id"),
        pl.lit(source).alias("source"),
        pl.lit(ingested_at).cast(pl.Datetime("us", "UTC")).alias("ingested_at"),
        pl.col("row_number").cast(pl.Int64),
        *[c for c in schemas.RAW_MACRO.column_names if c in observations.columns],
    )


def vintage_rows(passed: pl.DataFrame) -> pl.DataFrame:
    """Return validated raw rows as curated.macro_vintages rows."""
    return passed.select(schemas.CURATED_MACRO_VINTAGES.column_names)


def chain(stored: pl.DataFrame, new: pl.DataFrame) -> pl.DataFrame:
    """Return every vintage of the observations in ``new``: stored ones it does not replace,
    then ``new``, sorted by observation and knowledge time."""
    key = [*KEY, "knowledge_time"]
    kept = stored.join(new.select(key), on=key, how="anti")
    return pl.concat([kept, new.select(stored.columns)]).sort(key, maintain_order=True)


def curated_rows(vintages: pl.DataFrame) -> pl.DataFrame:
    """Return one curated.macro row per observation in ``vintages`` (all of its vintages).

    The value is the latest vintage's; knowledge_time, batch and source are those of the first
    vintage in the final run of equal values (a vintage repeating a value tells nothing new);
    ``revisions`` counts vintages whose value differs from the one before.
    """
    first = pl.int_range(pl.len()).over(KEY) == 0
    changed = first | pl.col("value").ne_missing(pl.col("value").shift(1).over(KEY))
    runs = vintages.sort([*KEY, "knowledge_time"]).with_columns(
        _changed=changed, _revision=changed & ~first
    )
    runs = runs.with_columns(
        _run=pl.col("_changed").cast(pl.Int32).cum_sum().over(KEY),
        revisions=pl.col("_revision").sum().over(KEY).cast(pl.Int32),
    )
    start = pl.col("_changed") & (pl.col("_run") == pl.col("_run").max().over(KEY))
    return runs.filter(start).select(schemas.CURATED_MACRO.column_names)


def conflicts(stored: pl.DataFrame, new: pl.DataFrame) -> list[str]:
    """Describe each new vintage that changes a value: a revision of the vintage before it, or a
    different value for a vintage already stored (the new one replaces it)."""
    key = [*KEY, "knowledge_time"]
    replaced = new.join(stored.select(*key, _old=pl.col("value")), on=key, how="inner").filter(
        pl.col("value").ne_missing(pl.col("_old"))
    )
    out = [
        f"{r['series_id']} {r['observation_date']} vintage {_t(r['knowledge_time'])}: "
        f"{r['_old']} replaced by {r['value']}"
        for r in replaced.iter_rows(named=True)
    ]
    vintages = chain(stored, new).with_columns(
        _prev=pl.col("value").shift(1).over(KEY),
        _has_prev=pl.int_range(pl.len()).over(KEY) > 0,
        _new=pl.col("batch_id").is_in(new.get_column("batch_id").unique().implode()),
    )
    revised = vintages.filter(
        pl.col("_new") & pl.col("_has_prev") & pl.col("value").ne_missing(pl.col("_prev"))
    )
    out += [
        f"{r['series_id']} {r['observation_date']}: {r['_prev']} -> {r['value']} "
        f"(revision known {_t(r['knowledge_time'])})"
        for r in revised.iter_rows(named=True)
    ]
    return out


def _t(at: dt.datetime) -> str:
    return at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
