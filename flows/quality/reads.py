"""What the data quality report reads from the lakehouse, per dataset of meta.batches.

Every query takes the run's batch ids as a parameter; table and column names come from the
declared datasets below, never from input.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from warehouse import schemas
from warehouse.lake import Lakehouse
from warehouse.schemas import Dataset

ALL_SYMBOLS = "*"  # the symbol of a (source, dataset) total row, and of news
NO_SYMBOL = "(none)"  # raw rows that came without one


@dataclass(frozen=True)
class DatasetSpec:
    """How one dataset of meta.batches is laid out, for the report's queries."""

    dataset: str
    raw: Dataset
    quarantine: Dataset
    curated: Dataset
    symbol: str | None  # the column a row is reported under; None: one row per source
    key: tuple[str, ...]  # with ``symbol``, what identifies an observation (conflicts)
    values: tuple[str, ...]  # what must agree between two rows of one key
    when: str  # the raw column shown with an example (session, ts, ...)
    last: str  # SQL over the curated table: the latest date it holds
    latest: str  # SQL over the curated table: its newest data (a date or an instant)
    # (macro: the newest observation with a value; FRED writes holidays as rows without one)
    asset_class: bool = False  # curated has asset_class (crypto keeps no exchange sessions)


_OHLCV = ("open", "high", "low", "close", "volume")
SPECS: dict[str, DatasetSpec] = {
    s.dataset: s
    for s in (
        DatasetSpec(
            "daily_bars", schemas.RAW_BARS, schemas.QUARANTINE_BARS, schemas.CURATED_BARS,
            "symbol", ("session",), _OHLCV, "session", "max(session)", "max(session)",
        ),
        DatasetSpec(
            "minute_bars", schemas.RAW_MINUTE_BARS, schemas.QUARANTINE_MINUTE_BARS,
            schemas.CURATED_MINUTE_BARS, "symbol", ("ts",), _OHLCV, "ts", "max(session)",
            "max(ts)", asset_class=True,
        ),
        DatasetSpec(
            "macro", schemas.RAW_MACRO, schemas.QUARANTINE_MACRO, schemas.CURATED_MACRO,
            "series_id", ("observation_date", "realtime_start"), ("value_text",),
            "observation_date", "max(observation_date)",
            "max(observation_date) FILTER (value IS NOT NULL)",
        ),
        DatasetSpec(
            "news", schemas.RAW_NEWS, schemas.QUARANTINE_NEWS, schemas.CURATED_NEWS,
            None, (), (), "time_text", "max(published_at)::DATE", "max(published_at)",
        ),
    )
}  # fmt: skip


def run_batches(
    lake: Lakehouse, *, batch_ids: Sequence[str] | None, since_snapshot: int | None
) -> pl.DataFrame:
    """Return the meta.batches rows of the given batches, or of those committed after a snapshot."""
    if (batch_ids is None) == (since_snapshot is None):
        raise ValueError("pass exactly one of batch_ids or since_snapshot")
    if batch_ids is not None:
        found = lake.read(
            schemas.BATCHES, where="list_contains(?, batch_id)", params=[list(batch_ids)]
        )
        unknown = sorted(set(batch_ids) - set(found.get_column("batch_id")))
        if unknown:
            raise ValueError(f"batch(es) {unknown} are not in meta.batches: ingest them first")
        return found.sort("ingested_at", "batch_id")
    before = lake.read(schemas.BATCHES, as_of=since_snapshot).get_column("batch_id")
    now = lake.read(schemas.BATCHES)
    return now.filter(~pl.col("batch_id").is_in(before.implode())).sort("ingested_at", "batch_id")


def _symbol(spec: DatasetSpec, alias: str = "") -> str:
    if spec.symbol is None:
        return f"'{ALL_SYMBOLS}'"
    return f"coalesce(CAST({alias}{spec.symbol} AS VARCHAR), '{NO_SYMBOL}')"


def row_counts(lake: Lakehouse, spec: DatasetSpec, batch_ids: list[str]) -> pl.DataFrame:
    """Return (source, symbol, rows_in): the run's raw rows."""
    return lake.query(
        f"SELECT source, {_symbol(spec)} AS symbol, count(*) AS rows_in FROM {spec.raw.table} "
        "WHERE list_contains(?, batch_id) GROUP BY ALL",
        [batch_ids],
    )


def quarantined(lake: Lakehouse, spec: DatasetSpec, batch_ids: list[str]) -> pl.DataFrame:
    """Return (source, symbol, rule, rows, example): the run's quarantine, rule by rule.

    ``example`` is the time and detail of the rule's first quarantined row.
    """
    return lake.query(
        f"SELECT source, {_symbol(spec)} AS symbol, rule, count(*) AS rows, "
        f"arg_min(coalesce(CAST({spec.when} AS VARCHAR), '?') || ': ' || coalesce(detail, ''), "
        f"(batch_id, row_number)) AS example FROM {spec.quarantine.table} "
        "WHERE list_contains(?, batch_id) GROUP BY ALL ORDER BY ALL",
        [batch_ids],
    )


def quarantined_rows(lake: Lakehouse, spec: DatasetSpec, batch_ids: list[str]) -> pl.DataFrame:
    """Return (source, symbol, rows_quarantined): distinct rows (two failed rules count once)."""
    return lake.query(
        f"SELECT source, {_symbol(spec)} AS symbol, "
        "count(DISTINCT (batch_id, row_number)) AS rows_quarantined "
        f"FROM {spec.quarantine.table} WHERE list_contains(?, batch_id) GROUP BY ALL",
        [batch_ids],
    )


def conflicts(lake: Lakehouse, spec: DatasetSpec, batch_ids: list[str]) -> pl.DataFrame:
    """Return (source, symbol, conflicts): keys of the run whose usable raw rows disagree.

    A key conflicts when the raw rows of it (the run's and any earlier batch's, of any source)
    that no rule but a duplicate rule (``unique_*``) quarantined hold more than one set of
    values: a correction within a batch, a revision, or two sources telling different stories.
    """
    if not spec.values or spec.symbol is None:
        return pl.DataFrame(
            schema={"source": pl.String, "symbol": pl.String, "conflicts": pl.Int64}
        )
    raw, quarantine = spec.raw.table, spec.quarantine.table
    keys = (spec.symbol, *spec.key)
    on = " AND ".join(f"r.{k} IS NOT DISTINCT FROM k.{k}" for k in keys)
    picked = ", ".join([*(f"k.{k}" for k in keys), *(f"r.{v}" for v in spec.values)])
    values = ", ".join(spec.values)
    return lake.query(
        f"WITH k AS (SELECT DISTINCT source, {', '.join(keys)} FROM {raw} "
        "WHERE list_contains(?, batch_id)), "
        f"c AS (SELECT k.source, r.batch_id, r.row_number, {picked} FROM k JOIN {raw} r ON {on}), "
        f"usable AS (SELECT * FROM c WHERE NOT EXISTS (SELECT 1 FROM {quarantine} q "
        "WHERE q.batch_id = c.batch_id AND q.row_number = c.row_number "
        "AND NOT starts_with(q.rule, 'unique_'))), "
        f"disagree AS (SELECT source, {_symbol(spec)} AS symbol FROM usable "
        f"GROUP BY source, {', '.join(keys)} HAVING count(DISTINCT row({values})) > 1) "
        "SELECT source, symbol, count(*) AS conflicts FROM disagree GROUP BY ALL",
        [batch_ids],
    )


def freshness(lake: Lakehouse, spec: DatasetSpec, symbols: list[str] | None) -> pl.DataFrame:
    """Return (source, symbol, last_session, latest, latest_knowledge_time, crypto) per source
    and symbol of the curated table, for ``symbols`` (None: every symbol).

    News has no symbol: its one row per source covers every curated item of that source.
    """
    crypto = "bool_and(asset_class = 'crypto')" if spec.asset_class else "false"
    sql = (
        f"SELECT source, {_symbol(spec)} AS symbol, {spec.last} AS last_session, "
        f"{spec.latest} AS latest, max(knowledge_time) AS latest_knowledge_time, "
        f"{crypto} AS crypto FROM {spec.curated.table}"
    )
    if spec.symbol is None or symbols is None:
        return lake.query(f"{sql} GROUP BY ALL ORDER BY ALL")
    return lake.query(
        f"{sql} WHERE list_contains(?, {spec.symbol}) GROUP BY ALL ORDER BY ALL", [symbols]
    )


def macro_frequencies(lake: Lakehouse, series: list[str] | None) -> dict[str, str]:
    """Return each series' cadence (D, W, M, Q, A) as its latest raw rows state it."""
    sql = (
        "SELECT series_id, arg_max(frequency, (ingested_at, row_number)) FROM raw.macro "
        "WHERE frequency IS NOT NULL AND series_id IS NOT NULL"
    )
    if series is None:
        return dict(lake.query(f"{sql} GROUP BY series_id").iter_rows())
    found = lake.query(f"{sql} AND list_contains(?, series_id) GROUP BY series_id", [series])
    return dict(found.iter_rows())


def failed_rules(lake: Lakehouse, batch_ids: list[str]) -> pl.DataFrame:
    """Return the run's failed expectations (errors and warnings) from meta.validation_results."""
    return lake.read(
        schemas.VALIDATION_RESULTS,
        where="list_contains(?, batch_id) AND NOT success",
        params=[batch_ids],
        order_by="batch_id, rule",
    )


def daily_sessions(lake: Lakehouse) -> pl.DataFrame:
    """Return (symbol, session) of every curated daily bar (gaps are judged market-wide)."""
    return lake.query("SELECT symbol, session FROM curated.bars")


def daily_bars(lake: Lakehouse, batch_ids: list[str]) -> pl.DataFrame:
    """Return the daily bars of ``batch_ids`` as received (raw: unadjusted), for split detection.

    Curated bars are adjusted for every split the ingest knows, including those it detected,
    so the report looks at what arrived. A row repeated within the batches counts once.
    """
    return lake.query(
        "SELECT symbol, session, any_value(open) AS open, any_value(close) AS close, "
        "any_value(volume) AS volume FROM raw.bars WHERE list_contains(?, batch_id) "
        "AND open > 0 AND close > 0 GROUP BY symbol, session ORDER BY symbol, session",
        [batch_ids],
    )
