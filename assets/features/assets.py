"""The features asset: curated bars in, features.daily and features.labels out, one commit.

Labels are written by this asset rather than a separate one so that features and the labels
they are trained against always change in the same snapshot.
"""

from __future__ import annotations

import datetime as dt
import time

import dagster as dg
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
from assets.resources import LakehouseResource, ModelResource
from assets.snapshots import last_change
from warehouse.schemas import CURATED_BARS, FEATURES, LABELS

AS_OF_TAG = "quantlake/as_of"


def known_at(context: AssetExecutionContext) -> dt.datetime:
    """Return the knowledge cut-off: the run's ``quantlake/as_of`` tag (replays), else now."""
    tag = context.run.tags.get(AS_OF_TAG)
    return dt.datetime.fromisoformat(tag) if tag else dt.datetime.now(dt.UTC)


@dg.asset(
    key=keys.FEATURES,
    deps=[keys.CURATED_BARS],
    group_name="features",
    kinds={"polars", "duckdb"},
    automation_condition=dg.AutomationCondition.eager(),
    description="Point-in-time daily features per symbol, plus forward-return labels.",
    metadata={
        "table": FEATURES.table,
        "labels_table": LABELS.table,
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
    """Compute features and labels from curated bars and merge them (rerun writes nothing)."""
    horizon = model_settings.params().horizon
    with lakehouse.open() as lake:
        read_at = lake.current_snapshot()
        curated_snapshot = last_change(lake, CURATED_BARS, as_of=read_at)
        bars = lake.read(CURATED_BARS, as_of=read_at)
        started = time.perf_counter()
        now = known_at(context)
        frame = compute_features(bars, known_at=now)
        label_frame = labels(point_in_time_bars(bars, known_at=now), horizon=horizon)
        seconds = time.perf_counter() - started
        stored = lake.read(FEATURES, as_of=read_at)
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
            "symbols": frame.get_column("symbol").n_unique(),
            "curated_snapshot": curated_snapshot,
            "snapshot_read": read_at,
            "snapshot_written": committed,
            "features_snapshot": written_at,
            "rows_written": written,
            "label_rows_written": labels_written,
            "compute_seconds": round(seconds, 3),
        }
    )
