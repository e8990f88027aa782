"""The macro and sentiment feature assets: curated macro vintages and news in, one row per session
(macro) or per symbol and session (sentiment) out, as of each session's close.

Both follow the bar features asset: session partitions, one read, compute and commit per run of
partitions, rows merged (a rerun writes nothing), the snapshot read and written in metadata. A
source that is empty (macro or news ingest not configured, the default) is not a failure: the
asset materializes 0 rows and says why under ``skipped``. A run reads only what its range needs:
macro vintages known by the last close (and, before the first close, only each series' newest
observation on), news items seen after the close ``SENTIMENT_WINDOW`` sessions before the first.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg
import polars as pl

from assets import keys
from assets.features.assets import known_at
from assets.features.macro import as_of_close, macro_features
from assets.features.sentiment import sentiment_features
from assets.features.sessions import checked_sessions
from assets.features.window import sessions_before
from assets.partitions import EXCHANGE, SESSIONS, session_of
from assets.resources import LakehouseResource
from assets.snapshots import last_change
from warehouse import calendar
from warehouse.lake import Lakehouse
from warehouse.schemas import (
    CURATED_MACRO,
    CURATED_MACRO_VINTAGES,
    CURATED_NEWS,
    CURATED_NEWS_SYMBOLS,
    MACRO_FEATURES,
    SENTIMENT_FEATURES,
    Dataset,
)

TERM_SPREAD = ("DGS10", "DGS2")  # long, short: the spread is DGS10 - DGS2, percentage points
VIX = "VIXCLS"
VIX_CHANGE_SESSIONS = 5
SENTIMENT_WINDOW = 5
MACRO_SERIES = (*TERM_SPREAD, VIX)
# Sessions of history behind each column (the model's feature-set hash records them).
CONTEXT_LOOKBACK = {
    "term_spread": 1,
    "vix": 1,
    f"vix_change_{VIX_CHANGE_SESSIONS}": VIX_CHANGE_SESSIONS + 1,
    f"sentiment_mean_{SENTIMENT_WINDOW}": SENTIMENT_WINDOW,
    f"news_count_{SENTIMENT_WINDOW}": SENTIMENT_WINDOW,
}
MACRO_KEY = keys.key_of(MACRO_FEATURES)
SENTIMENT_KEY = keys.key_of(SENTIMENT_FEATURES)


def session_frame(first: dt.date, last: dt.date) -> pl.DataFrame:
    """Return (session, session_close_utc) for the exchange sessions in [first, last]."""
    days = calendar.sessions(first, last, exchange=EXCHANGE)
    closes = [calendar.session_close(d, exchange=EXCHANGE) for d in days]
    return pl.DataFrame(
        {"session": days, "session_close_utc": closes},
        schema={"session": pl.Date, "session_close_utc": pl.Datetime("us", "UTC")},
    )


def macro_frame(
    sessions: pl.DataFrame, observations: pl.DataFrame
) -> tuple[pl.DataFrame, list[str]]:
    """Return the macro features per session and the required series that are missing.

    A missing series leaves its columns null (never 0); the others are computed as usual.
    """
    present = set(observations.drop_nulls("value").get_column("series_id").unique())
    missing = [s for s in MACRO_SERIES if s not in present]
    if not missing:
        return macro_features(sessions, observations, term_spread=TERM_SPREAD, vix=VIX), []
    frame = checked_sessions(sessions)
    null = pl.Series([None] * frame.height, dtype=pl.Float64)

    def level(series: str) -> pl.Series:
        return as_of_close(frame, observations, series) if series in present else null

    vix = level(VIX)
    return frame.select(
        "session",
        term_spread=level(TERM_SPREAD[0]) - level(TERM_SPREAD[1]),
        vix=vix,
        **{f"vix_change_{VIX_CHANGE_SESSIONS}": vix - vix.shift(VIX_CHANGE_SESSIONS)},
    ), missing


def keep_stored_snapshot(
    frame: pl.DataFrame, stored: pl.DataFrame, dataset: Dataset, *, snapshot: str, new: int
) -> pl.DataFrame:
    """Add column ``snapshot``: the stored one where a row's values are unchanged, else ``new``.

    So a source commit that leaves a row's values as they were does not rewrite the row.
    """
    values = [c for c in dataset.column_names if c not in (*dataset.key, snapshot)]
    previous = stored.select(
        *dataset.key, pl.col(snapshot).alias("_was"), *(pl.col(c).alias(f"_{c}") for c in values)
    )
    same = pl.all_horizontal([pl.col(c).eq_missing(pl.col(f"_{c}")) for c in values])
    joined = frame.join(previous, on=list(dataset.key), how="left")
    kept = pl.when(same & pl.col("_was").is_not_null()).then("_was").otherwise(pl.lit(new))
    return joined.select(*frame.columns, kept.cast(pl.Int64).alias(snapshot))


def _skipped(reason: str, first: dt.date, last: dt.date, read_at: int) -> dg.MaterializeResult:
    return dg.MaterializeResult(
        metadata={
            "rows": 0,
            "rows_written": 0,
            "sessions": 0,
            "first_session": str(first),
            "last_session": str(last),
            "skipped": reason,
            "snapshot_read": read_at,
            "snapshot_written": dg.MetadataValue.null(),
        }
    )


def _commit(
    lake: Lakehouse, dataset: Dataset, frame: pl.DataFrame, *, read_at: int, meta: dict
) -> dg.MaterializeResult:
    """Merge ``frame`` into ``dataset`` and return the run's metadata."""
    with lake.transaction(dataset.name, asset=dataset.table, read_at=read_at) as txn:
        written = txn.merge(dataset, frame)
    committed = dg.MetadataValue.null() if txn.snapshot_id is None else txn.snapshot_id
    return dg.MaterializeResult(
        metadata={
            "rows": frame.height,
            "rows_written": written,
            "sessions": frame.get_column("session").n_unique(),
            **meta,
            "snapshot_read": read_at,
            "snapshot_written": committed,
        }
    )


def read_vintages(
    lake: Lakehouse, *, first_close: dt.datetime, cutoff: dt.datetime, as_of: int
) -> pl.DataFrame:
    """Return the required series' vintages known by ``cutoff`` that can matter from
    ``first_close`` on: before it, only each series' newest observation date and later ones."""
    at = f" AT (VERSION => {int(as_of)})"
    return lake.query(
        "WITH vintages AS (SELECT series_id, observation_date, value, knowledge_time "
        f"FROM curated.macro_vintages{at} "
        "WHERE list_contains($series, series_id) AND knowledge_time <= $cutoff), "
        "floor AS (SELECT series_id, max(observation_date) AS since FROM vintages "
        "WHERE knowledge_time <= $first AND value IS NOT NULL GROUP BY series_id) "
        "SELECT v.series_id, v.observation_date, v.value, v.knowledge_time "
        "FROM vintages v LEFT JOIN floor f USING (series_id) "
        "WHERE v.knowledge_time > $first OR v.observation_date >= f.since "
        "ORDER BY v.series_id, v.observation_date, v.knowledge_time",
        {"series": list(MACRO_SERIES), "first": first_close, "cutoff": cutoff},
    )


def _range(context: dg.AssetExecutionContext, warmup: int) -> tuple[dt.date, dt.date, dt.date]:
    keys_range = context.partition_key_range
    first, last = session_of(keys_range.start), session_of(keys_range.end)
    return sessions_before(first, warmup, exchange=EXCHANGE), first, last


@dg.asset(
    key=MACRO_KEY,
    deps=[keys.key_of(CURATED_MACRO)],
    group_name="features",
    kinds={"polars", "duckdb"},
    partitions_def=SESSIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    automation_condition=dg.AutomationCondition.eager(),
    description=(
        f"Macro features per exchange session as of its close: term spread ({TERM_SPREAD[0]} - "
        f"{TERM_SPREAD[1]}), {VIX} level and its {VIX_CHANGE_SESSIONS}-session change; "
        "point in time by each vintage's knowledge time."
    ),
    metadata={"table": MACRO_FEATURES.table, "series": list(MACRO_SERIES)},
)
def macro_features_asset(
    context,  # noqa: ANN001 - Dagster rejects string annotations here
    lakehouse: LakehouseResource,
) -> dg.MaterializeResult:
    """Compute the partitions' macro features and merge them (a rerun writes nothing)."""
    start, first, last = _range(context, VIX_CHANGE_SESSIONS)
    with lakehouse.open() as lake:
        read_at = lake.current_snapshot()
        if lake.count(CURATED_MACRO_VINTAGES, as_of=read_at) == 0:
            reason = "no macro observations in curated macro: configure QUANTLAKE_MACRO__DIRECTORY"
            return _skipped(reason, first, last, read_at)
        source = last_change(lake, CURATED_MACRO_VINTAGES, as_of=read_at)
        sessions = session_frame(start, last)
        closes = sessions.get_column("session_close_utc")
        cutoff = min(known_at(context), closes.max())
        obs = read_vintages(lake, first_close=closes.min(), cutoff=cutoff, as_of=read_at)
        frame, missing = macro_frame(sessions, obs)
        frame = frame.filter(pl.col("session") >= first)
        stored = lake.read(
            MACRO_FEATURES, where="session BETWEEN ? AND ?", params=[first, last], as_of=read_at
        )
        frame = keep_stored_snapshot(
            frame, stored, MACRO_FEATURES, snapshot="macro_snapshot", new=source
        )
        meta = {
            "first_session": str(first),
            "last_session": str(last),
            "observations_read": obs.height,
            "missing_series": missing,
            "macro_snapshot": source,
        }
        return _commit(lake, MACRO_FEATURES, frame, read_at=read_at, meta=meta)


def read_news(
    lake: Lakehouse, *, after: dt.datetime, cutoff: dt.datetime, as_of: int
) -> pl.DataFrame:
    """Return (symbol, knowledge_time, sentiment) of tagged items seen in (after, cutoff]."""
    at = f" AT (VERSION => {int(as_of)})"
    return lake.query(
        "SELECT s.symbol, n.knowledge_time, n.sentiment "
        f"FROM (SELECT * FROM curated.news{at}) n "
        f"JOIN (SELECT * FROM curated.news_symbols{at}) s USING (content_id) "
        "WHERE n.knowledge_time > ? AND n.knowledge_time <= ? AND n.sentiment IS NOT NULL "
        "ORDER BY n.knowledge_time, s.symbol",
        [after, cutoff],
    )


@dg.asset(
    key=SENTIMENT_KEY,
    deps=[keys.key_of(CURATED_NEWS), keys.key_of(CURATED_NEWS_SYMBOLS)],
    group_name="features",
    kinds={"polars", "duckdb"},
    partitions_def=SESSIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    automation_condition=dg.AutomationCondition.eager(),
    description=(
        f"News tone (mean) and item count per symbol over the {SENTIMENT_WINDOW} sessions up to "
        "each close, by knowledge time; a symbol with no item in the window has no row."
    ),
    metadata={"table": SENTIMENT_FEATURES.table, "window_sessions": SENTIMENT_WINDOW},
)
def sentiment_features_asset(
    context,  # noqa: ANN001 - Dagster rejects string annotations here
    lakehouse: LakehouseResource,
) -> dg.MaterializeResult:
    """Compute the partitions' sentiment features and merge them (a rerun writes nothing)."""
    start, first, last = _range(context, SENTIMENT_WINDOW)
    with lakehouse.open() as lake:
        read_at = lake.current_snapshot()
        if lake.count(CURATED_NEWS, as_of=read_at) == 0:
            reason = "no news items in curated news: configure QUANTLAKE_NEWS__DIRECTORY"
            return _skipped(reason, first, last, read_at)
        source = last_change(lake, CURATED_NEWS, CURATED_NEWS_SYMBOLS, as_of=read_at)
        sessions = session_frame(start, last)
        closes = sessions.get_column("session_close_utc")
        cutoff = min(known_at(context), closes.max())
        news = read_news(lake, after=closes.min(), cutoff=cutoff, as_of=read_at)
        frame = sentiment_features(
            sessions, news, window=SENTIMENT_WINDOW, time_column="knowledge_time"
        )
        count = pl.col(f"news_count_{SENTIMENT_WINDOW}")
        frame = frame.filter((pl.col("session") >= first) & (count > 0))
        stored = lake.read(
            SENTIMENT_FEATURES, where="session BETWEEN ? AND ?", params=[first, last], as_of=read_at
        )
        frame = keep_stored_snapshot(
            frame, stored, SENTIMENT_FEATURES, snapshot="news_snapshot", new=source
        )
        meta = {
            "first_session": str(first),
            "last_session": str(last),
            "items_read": news.height,
            "symbols": frame.get_column("symbol").n_unique(),
            "news_snapshot": source,
        }
        return _commit(lake, SENTIMENT_FEATURES, frame, read_at=read_at, meta=meta)


CONTEXT_ASSETS = (macro_features_asset, sentiment_features_asset)
