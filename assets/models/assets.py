"""The model asset: walk-forward train on features + labels, save the artifact, register it.

The model version hashes settings, features, data snapshot and train window, so it is known
before training: a version already in the registry is verified and (re)made champion instead of
being trained again, which makes a rerun over unchanged features write nothing.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import polars as pl

from assets import keys
from assets.models.artifact import ModelArtifact, load_artifact, model_version, save_artifact
from assets.models.registry import CHAMPION, registry_row, retired
from assets.models.train import (
    ModelParams,
    WalkForward,
    model_frame,
    plan_walk_forward,
    train_model,
)
from assets.resources import LakehouseResource, ModelResource
from assets.snapshots import last_change
from warehouse.lake import Lakehouse
from warehouse.schemas import FEATURE_COLUMNS, FEATURES, LABELS, MODELS


def _train(
    frame: pl.DataFrame,
    plan: WalkForward,
    params: ModelParams,
    *,
    version: str,
    data_snapshot: int,
    models_dir: Path,
) -> pl.DataFrame:
    trained = train_model(frame, plan=plan, params=params)
    artifact = ModelArtifact(version, FEATURE_COLUMNS, params.horizon, trained.pipeline)
    path, sha256 = save_artifact(artifact, models_dir=models_dir)
    return registry_row(
        version=version,
        model=trained,
        params=params,
        data_snapshot=data_snapshot,
        artifact_path=path,
        artifact_sha256=sha256,
        created_at=dt.datetime.now(dt.UTC),
    )


def _make_champion(lake: Lakehouse, row: pl.DataFrame) -> int:
    version = row.item(0, "model_version")
    others = lake.read(
        MODELS, where="status = ? AND model_version <> ?", params=[CHAMPION, version]
    )
    with lake.transaction("model", asset="models/registry", model_version=version) as txn:
        txn.merge(MODELS, retired(others))
        written = txn.merge(MODELS, row.with_columns(status=pl.lit(CHAMPION)))
    return written


def _read_frame(lake: Lakehouse, *, horizon: int, as_of: int) -> pl.DataFrame:
    features = lake.read(FEATURES, as_of=as_of)
    labels = lake.read(LABELS, where="horizon = ?", params=[horizon], as_of=as_of)
    return model_frame(features, labels, horizon=horizon)


def _metadata(row: pl.DataFrame, plan: WalkForward) -> dict[str, object]:
    r = row.row(0, named=True)
    return {
        **{k: r[k] for k in ("model_version", "oos_ic", "oos_rank_ic", "oos_hit_rate")},
        **{k: r[k] for k in ("n_train", "n_test", "data_snapshot")},
        "eval_train_window": f"{plan.train_start} .. {plan.train_end}",
        "test_window": f"{plan.test_start} .. {plan.test_end}",
        "train_window": f"{plan.final_start} .. {plan.final_end}",
    }


@dg.asset(
    key=keys.MODELS,
    deps=[keys.FEATURES],
    group_name="models",
    kinds={"scikitlearn", "duckdb"},
    automation_condition=dg.AutomationCondition.eager(),
    description="Walk-forward Ridge model of forward returns; the newest is the champion.",
    metadata={"table": MODELS.table},
)
def model(lakehouse: LakehouseResource, model_settings: ModelResource) -> dg.MaterializeResult:
    """Train (or reuse) the model for the current features and register it as champion."""
    params = model_settings.params()
    with lakehouse.open() as lake:
        read_at = lake.current_snapshot()
        data_snapshot = last_change(lake, FEATURES, LABELS, as_of=read_at)
        frame = _read_frame(lake, horizon=params.horizon, as_of=read_at)
        plan = plan_walk_forward(frame, params=params)
        version = model_version(
            params=params,
            feature_names=FEATURE_COLUMNS,
            data_snapshot=data_snapshot,
            train_start=plan.final_start,
            train_end=plan.final_end,
        )
        row = lake.read(MODELS, where="model_version = ?", params=[version])
        trained = row.is_empty()
        if trained:
            row = _train(
                frame,
                plan,
                params,
                version=version,
                data_snapshot=data_snapshot,
                models_dir=model_settings.artifacts,
            )
        else:
            load_artifact(Path(row.item(0, "artifact_path")), sha256=row.item(0, "artifact_sha256"))
        rows_written = _make_champion(lake, row)
    return dg.MaterializeResult(
        metadata={**_metadata(row, plan), "trained": trained, "rows_written": rows_written}
    )
