"""The predictions asset: score the latest session's features with the champion model."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import polars as pl

from assets import keys
from assets.models.artifact import load_artifact
from assets.models.registry import current_champion
from assets.predictions.compute import latest_session, score_session
from assets.resources import LakehouseResource
from assets.snapshots import last_change
from warehouse.lake import Lakehouse
from warehouse.schemas import FEATURES, MODELS, PREDICTIONS


def no_champion_reason(lake: Lakehouse) -> str:
    """Return why there is no champion, from the newest model's gate decision."""
    newest = lake.read(MODELS, order_by="created_at DESC, model_version").head(1)
    if newest.is_empty():
        return "no model is registered yet; materialize models/registry"
    version, reason = newest.item(0, "model_version"), newest.item(0, "status_reason")
    return (
        f"the newest model {version} was not promoted ({reason}); the trade flow holds the book "
        "until a model passes the gate or `quantlake models promote VERSION` names one"
    )


def keep_unchanged_created_at(scores: pl.DataFrame, stored: pl.DataFrame) -> pl.DataFrame:
    """Reuse the stored created_at where score and features snapshot are unchanged, so a rerun
    over the same features writes nothing."""
    if stored.is_empty():
        return scores
    same = stored.select("symbol", "score", "features_snapshot", pl.col("created_at").alias("_c"))
    return (
        scores.join(same, on=["symbol", "score", "features_snapshot"], how="left")
        .with_columns(pl.coalesce("_c", "created_at").alias("created_at"))
        .drop("_c")
    )


@dg.asset(
    key=keys.PREDICTIONS,
    deps=[keys.MODELS, keys.FEATURES],
    group_name="predictions",
    kinds={"scikitlearn", "duckdb"},
    automation_condition=dg.AutomationCondition.eager(),
    description="Champion-model score per symbol for the latest feature session.",
    metadata={"table": PREDICTIONS.table},
)
def predictions(lakehouse: LakehouseResource) -> dg.MaterializeResult:
    """Score the latest session and merge the scores (a rerun over the same features writes
    nothing; corrected features re-score)."""
    with lakehouse.open() as lake:
        read_at = lake.current_snapshot()
        features_snapshot = last_change(lake, FEATURES, as_of=read_at)
        session = latest_session(
            lake.query(
                f"SELECT max(session) AS session FROM {FEATURES.table} AT (VERSION => ?)", [read_at]
            ).drop_nulls()
        )
        features = lake.read(FEATURES, where="session = ?", params=[session], as_of=read_at)
        model = current_champion(lake)
        if model is None:
            # No champion is a state, not a failure: the trade flow sees no predictions and
            # holds the book; the coverage check warns with the reason.
            return dg.MaterializeResult(
                metadata={
                    "rows": 0,
                    "rows_written": 0,
                    "session": str(session),
                    "model_version": None,
                    "no_champion": no_champion_reason(lake),
                }
            )
        artifact = load_artifact(Path(model["artifact_path"]), sha256=model["artifact_sha256"])
        scores = score_session(features, artifact, session=session).with_columns(
            model_version=pl.lit(artifact.model_version),
            features_snapshot=pl.lit(features_snapshot, dtype=pl.Int64),
            created_at=pl.lit(dt.datetime.now(dt.UTC)),
        )
        stored = lake.read(
            PREDICTIONS,
            where="session = ? AND model_version = ?",
            params=[session, artifact.model_version],
            as_of=read_at,
        )
        scores = keep_unchanged_created_at(scores, stored)
        with lake.transaction("predictions", asset="predictions/daily") as txn:
            # Merge, not insert: corrected features for the session must re-score it.
            written = txn.merge(PREDICTIONS, scores)
    return dg.MaterializeResult(
        metadata={
            "rows": len(scores),
            "rows_written": written,
            "session": str(session),
            "model_version": artifact.model_version,
            "features_snapshot": features_snapshot,
            "symbols_without_score": features.height - scores.height,
        }
    )
