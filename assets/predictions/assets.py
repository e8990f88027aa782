"""The predictions asset: score each session partition's features with the champion model."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import polars as pl

from assets import keys
from assets.models.artifact import load_artifact
from assets.models.assets import CONTEXT_TABLES
from assets.models.registry import current_champion
from assets.models.train import CONTEXT_COLUMNS, CONTEXT_KEYS
from assets.partitions import SESSIONS, session_of
from assets.predictions.compute import context_of, score_session
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
    on = ["symbol", "session", "score", "features_snapshot"]
    same = stored.select(*on, pl.col("created_at").alias("_c"))
    return (
        scores.join(same, on=on, how="left")
        .with_columns(pl.coalesce("_c", "created_at").alias("created_at"))
        .drop("_c")
    )


def with_context(
    lake: Lakehouse,
    features: pl.DataFrame,
    extra: tuple[str, ...],
    *,
    first: dt.date,
    last: dt.date,
    as_of: int,
) -> pl.DataFrame:
    """Join the ``extra`` context tables' rows for [first, last] to the features (left join:
    a row without a context value stays and is not scored)."""
    for name in extra:
        on = list(CONTEXT_KEYS[name])
        rows = lake.read(
            CONTEXT_TABLES[name], where="session BETWEEN ? AND ?", params=[first, last], as_of=as_of
        )
        features = features.join(rows.select(*on, *CONTEXT_COLUMNS[name]), on=on, how="left")
    return features


@dg.asset(
    key=keys.PREDICTIONS,
    deps=[keys.MODELS, keys.FEATURES],
    group_name="predictions",
    kinds={"scikitlearn", "duckdb"},
    partitions_def=SESSIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    automation_condition=dg.AutomationCondition.eager(),
    description=(
        "Champion-model score per symbol per session (one partition per exchange session), "
        "with the model version and the features snapshot scored."
    ),
    metadata={"table": PREDICTIONS.table},
)
def predictions(
    context,  # noqa: ANN001 - Dagster rejects string annotations here
    lakehouse: LakehouseResource,
) -> dg.MaterializeResult:
    """Score the partitions' sessions and merge the scores (a rerun over the same features
    writes nothing; corrected features re-score)."""
    keys_range = context.partition_key_range
    first, last = session_of(keys_range.start), session_of(keys_range.end)
    with lakehouse.open() as lake:
        read_at = lake.current_snapshot()
        features_snapshot = last_change(lake, FEATURES, as_of=read_at)
        features = lake.read(
            FEATURES, where="session BETWEEN ? AND ?", params=[first, last], as_of=read_at
        )
        if features.is_empty():
            raise dg.Failure(
                f"features.daily has no rows for sessions {first} .. {last}: materialize those "
                "features partitions first"
            )
        model = current_champion(lake)
        if model is None:
            # No champion is a state, not a failure: the trade flow sees no predictions and
            # holds the book; the coverage check warns with the reason.
            return dg.MaterializeResult(
                metadata={
                    "rows": 0,
                    "rows_written": 0,
                    "session": str(last),
                    "model_version": None,
                    "no_champion": no_champion_reason(lake),
                }
            )
        artifact = load_artifact(Path(model["artifact_path"]), sha256=model["artifact_sha256"])
        extra = context_of(artifact)
        if extra:
            # The scores then depend on the context tables too: the snapshot says which.
            context = [CONTEXT_TABLES[name] for name in extra]
            features_snapshot = last_change(lake, FEATURES, *context, as_of=read_at)
            features = with_context(lake, features, extra, first=first, last=last, as_of=read_at)
        sessions = features.get_column("session").unique().sort().to_list()
        scores = pl.concat(
            [score_session(features, artifact, session=day) for day in sessions]
        ).with_columns(
            model_version=pl.lit(artifact.model_version),
            features_snapshot=pl.lit(features_snapshot, dtype=pl.Int64),
            created_at=pl.lit(dt.datetime.now(dt.UTC)),
        )
        stored = lake.read(
            PREDICTIONS,
            where="session BETWEEN ? AND ? AND model_version = ?",
            params=[first, last, artifact.model_version],
            as_of=read_at,
        )
        scores = keep_unchanged_created_at(scores, stored)
        with lake.transaction("predictions", asset="predictions/daily", read_at=read_at) as txn:
            # Merge, not insert: corrected features for the session must re-score it.
            written = txn.merge(PREDICTIONS, scores)
    committed = dg.MetadataValue.null() if txn.snapshot_id is None else txn.snapshot_id
    return dg.MaterializeResult(
        metadata={
            "rows": len(scores),
            "rows_written": written,
            "session": str(last),
            "sessions": len(sessions),
            "model_version": artifact.model_version,
            "features_snapshot": features_snapshot,
            "snapshot_read": read_at,
            "snapshot_written": committed,
            "symbols_without_score": features.height - scores.height,
        }
    )
