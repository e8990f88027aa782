"""The features asset: curated bars in, features.daily and features.labels out, one commit per
run of session partitions.

Labels are written by this asset rather than a separate one so that features and the labels
they are trained against always change in the same snapshot.
"""

from __future__ import annotations

import datetime as dt
import time

import dagster as dg
import polars as pl
from dagster import AssetExecutionContext

from assets import keys
from assets.features.compute import (
    FEATURE_DOC,
    FEATURE_INPUTS,
    FEATURE_LOOKBACK,
    compute_features,
    labels,
    point_in_time_bars,
)
from assets.features.provenance import with_curated_snapshot
from assets.features.window import HISTORY_SESSIONS, label_rows, read_bars
from assets.partitions import EXCHANGE, SESSIONS, session_of
from assets.resources import LakehouseResource, ModelResource
from assets.snapshots import last_change
from warehouse.schemas import CURATED_BARS, FEATURES, LABELS

AS_OF_TAG = "quantlake/as_of"

# When curated bars change, also fill the missing sessions of the last three years (as one
# backfill run): on a fresh lakehouse the model's walk-forward window needs them, and eager
# alone would compute only the newest session. Older history is a backfill people launch.
FIRST_FILL = (
    dg.AutomationCondition.in_latest_time_window(dt.timedelta(days=3 * 366))
    & dg.AutomationCondition.missing()
    & dg.AutomationCondition.any_deps_updated()
    & ~dg.AutomationCondition.in_progress()
).with_label("fill the last three years' missing sessions")


def known_at(context: AssetExecutionContext) -> dt.datetime:
    """Return the knowledge cut-off: the run's ``quantlake/as_of`` tag (replays), else now."""
    tag = context.run.tags.get(AS_OF_TAG)
    return dt.datetime.fromisoformat(tag) if tag else dt.datetime.now(dt.UTC)


@dg.asset(
    key=keys.FEATURES,
    deps=[keys.CURATED_BARS],
    group_name="features",
    kinds={"polars", "duckdb"},
    partitions_def=SESSIONS,
    # A range of sessions (a backfill) runs as one job: one read, one compute, one commit.
    backfill_policy=dg.BackfillPolicy.single_run(),
    automation_condition=dg.AutomationCondition.eager() | FIRST_FILL,
    description=(
        "Point-in-time daily features per symbol, plus forward-return labels; one partition per "
        "exchange session, computed from that session's bars and the lookback before them."
    ),
    metadata={
        "table": FEATURES.table,
        "labels_table": LABELS.table,
        "history_sessions_read": HISTORY_SESSIONS,
        "features": {
            name: f"{doc} Inputs: {', '.join(FEATURE_INPUTS[name])}. "
            f"Lookback {FEATURE_LOOKBACK[name]} bars."
            for name, doc in FEATURE_DOC.items()
        },
    },
)
def features(
    context,  # noqa: ANN001 - Dagster rejects string annotations here
    lakehouse: LakehouseResource,
    model_settings: ModelResource,
) -> dg.MaterializeResult:
    """Compute the partitions' features and labels and merge them (a rerun writes nothing)."""
    keys_range = context.partition_key_range
    first, last = session_of(keys_range.start), session_of(keys_range.end)
    horizon = model_settings.params().horizon
    with lakehouse.open() as lake:
        read_at = lake.current_snapshot()
        curated_snapshot = last_change(lake, CURATED_BARS, as_of=read_at)
        # With the h bars after the range: its last labels need them (features do not read
        # them: each row is computed from bars at or before its session).
        bars = read_bars(
            lake, first=first, last=last, horizon=horizon, exchange=EXCHANGE, as_of=read_at
        )
        in_range = pl.col("session").is_between(first, last)
        if bars.filter(in_range).is_empty():
            raise dg.Failure(
                f"no curated bars for sessions {first} .. {last}: ingest them first "
                "(quantlake ingest), then materialize these partitions again"
            )
        now = known_at(context)
        if point_in_time_bars(bars.filter(in_range), known_at=now).is_empty():
            raise dg.Failure(
                f"none of the curated bars for sessions {first} .. {last} was known at "
                f"{now.isoformat()} (the run's knowledge cut-off): they were ingested later. "
                "Materialize with a later quantlake/as_of tag, or without it (now)"
            )
        started = time.perf_counter()
        frame = compute_features(bars.filter(pl.col("session") <= last), known_at=now)
        frame = frame.filter(in_range)
        label_frame = label_rows(
            labels(point_in_time_bars(bars, known_at=now), horizon=horizon),
            first=first,
            last=last,
            horizon=horizon,
        )
        seconds = time.perf_counter() - started
        stored = lake.read(
            FEATURES, where="session BETWEEN ? AND ?", params=[first, last], as_of=read_at
        )
        frame = with_curated_snapshot(frame, stored, curated_snapshot=curated_snapshot)
        with lake.transaction("features", asset="features/daily", read_at=read_at) as txn:
            written = txn.merge(FEATURES, frame)
            labels_written = txn.merge(LABELS, label_frame)
        written_at = last_change(lake, FEATURES, LABELS, as_of=lake.current_snapshot())
    committed = dg.MetadataValue.null() if txn.snapshot_id is None else txn.snapshot_id
    return dg.MaterializeResult(
        metadata={
            "rows": len(frame),
            "sessions": frame.get_column("session").n_unique(),
            "first_session": str(first),
            "last_session": str(last),
            "symbols": frame.get_column("symbol").n_unique(),
            "bars_read": len(bars),
            "curated_snapshot": curated_snapshot,
            "snapshot_read": read_at,
            "snapshot_written": committed,
            "features_snapshot": written_at,
            "rows_written": written,
            "label_rows_written": labels_written,
            "compute_seconds": round(seconds, 3),
        }
    )
