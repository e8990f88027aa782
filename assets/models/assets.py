"""The model asset: train every configured spec walk-forward, register them, gate promotion.

A model version hashes its spec, settings, feature set, data snapshot and windows, so it is
known before training: a version already registered is only verified (its artifact checksum),
never trained or gated again. A rerun over unchanged features therefore writes nothing, and a
person's rollback is not undone by the next run.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from assets import keys
from assets.features.assets import known_at
from assets.features.compute import FEATURE_LOOKBACK
from assets.features.context_assets import CONTEXT_LOOKBACK
from assets.models.artifact import (
    ModelArtifact,
    feature_set_hash,
    load_artifact,
    model_identity,
    model_version,
    save_artifact,
)
from assets.models.candidates import baseline, candidate
from assets.models.config import ModelConfig, load_config
from assets.models.estimators import Spec
from assets.models.promotion import decide
from assets.models.registry import current_champion, register
from assets.models.rows import registry_row
from assets.models.train import ModelParams, feature_names, model_frame, plan_walk_forward
from assets.models.train import train_model as fit_spec
from assets.models.walk_forward import WalkForward
from assets.resources import LakehouseResource, ModelResource
from assets.snapshots import last_change
from warehouse.lake import Lakehouse
from warehouse.schemas import (
    FEATURES,
    LABELS,
    MACRO_FEATURES,
    MODELS,
    SENTIMENT_FEATURES,
    Dataset,
)

METADATA_COLUMNS = (
    "oos_ic",
    "oos_rank_ic",
    "oos_ic_tstat",
    "oos_hit_rate",
    "oos_decile_spread",
    "oos_positive_fold_share",
    "n_train",
    "n_test",
    "data_snapshot",
    "config_version",
)


# The context tables a model config may opt into ([features] extra), by name.
CONTEXT_TABLES: dict[str, Dataset] = {"macro": MACRO_FEATURES, "sentiment": SENTIMENT_FEATURES}


def _read_frame(
    lake: Lakehouse, *, horizon: int, as_of: int, extra: tuple[str, ...], through: dt.date
) -> pl.DataFrame:
    """Return the model frame of the sessions up to ``through``, with the labels known by then
    (their forward session at or before it)."""
    upto = {"where": "session <= ?", "params": [through], "as_of": as_of}
    features = lake.read(FEATURES, **upto)
    labels = lake.read(
        LABELS,
        where="horizon = ? AND label_session <= ?",
        params=[horizon, through],
        as_of=as_of,
    )
    context = {name: lake.read(CONTEXT_TABLES[name], **upto) for name in extra}
    return model_frame(features, labels, horizon=horizon, context=context)


def _known_through(lake: Lakehouse, *, as_of: int, known_at: dt.datetime) -> dt.date:
    """Return the latest curated session known at ``known_at``: a replay trains on no later."""
    latest = lake.query(
        f"SELECT max(session) FROM curated.bars AT (VERSION => {int(as_of)}) "
        "WHERE knowledge_time <= ?",
        [known_at],
    ).item()
    if latest is None:
        raise dg.Failure(
            f"no curated bar was known at {known_at.isoformat()} (the run's knowledge cut-off): "
            "nothing to train on; materialize with a later quantlake/as_of tag, or without it"
        )
    return latest


def _metadata(stored: pl.DataFrame, *, metric: str, champion: str | None) -> dict[str, Any]:
    """Describe this run's models; the metrics are those of its best one by ``metric``."""
    ranked = stored.sort(
        pl.col(metric).fill_nan(None), "model_version", descending=[True, False], nulls_last=True
    )
    best = ranked.row(0, named=True)
    return {
        "model_version": champion,
        "candidate": best["model_version"],
        **{name: best[name] for name in METADATA_COLUMNS},
        "versions": "; ".join(
            f"{v}: {s}" for v, s in ranked.select("model_version", "status").rows()
        ),
        "test_window": f"{best['test_start']} .. {best['test_end']}",
        "train_window": f"{best['train_start']} .. {best['train_end']}",
        "folds": best["n_folds"],
    }


def _versions(
    config: ModelConfig,
    *,
    params: ModelParams,
    plan: WalkForward,
    feature_set: str,
    data_snapshot: int,
) -> dict[Spec, str]:
    """Return the model version of each configured spec on this data."""
    return {
        spec: model_version(
            algorithm=spec.algorithm,
            identity=model_identity(
                spec=spec,
                params=params,
                plan=plan,
                feature_set=feature_set,
                data_snapshot=data_snapshot,
            ),
        )
        for spec in config.specs()
    }


def _train_and_register(
    lake: Lakehouse,
    frame: pl.DataFrame,
    new: dict[Spec, str],
    *,
    plan: WalkForward,
    params: ModelParams,
    config: ModelConfig,
    feature_set: str,
    data_snapshot: int,
    models_dir: Path,
    names: tuple[str, ...],
) -> tuple[str, int]:
    """Train the ``new`` specs, gate them against the champion, save and register them."""
    champion = current_champion(lake)
    trained = {s: fit_spec(frame, plan=plan, spec=s, seed=params.seed) for s in new}
    metric = config.promotion.metric
    verdict = decide(
        [candidate(new[s], m, metric=metric) for s, m in trained.items()],
        baseline=baseline(
            champion, trained, frame=frame, plan=plan, seed=params.seed, metric=metric
        ),
        policy=config.promotion,
    )
    now = dt.datetime.now(dt.UTC)
    rows = []
    for spec, fitted in trained.items():
        artifact = ModelArtifact(new[spec], names, params.horizon, fitted.pipeline)
        path, sha256 = save_artifact(artifact, models_dir=models_dir)
        rows.append(
            registry_row(
                fitted,
                version=new[spec],
                params=params,
                config=config,
                feature_set=feature_set,
                data_snapshot=data_snapshot,
                artifact_path=path,
                artifact_sha256=sha256,
                created_at=now,
            )
            # The inputs this model was trained on, context columns included.
            | {"feature_names": json.dumps(list(names))}
        )
    before = champion["model_version"] if champion else None
    return verdict.summary, register(lake, rows, verdict, champion_before=before, now=now)


@dg.asset(
    key=keys.MODELS,
    deps=[keys.FEATURES],
    group_name="models",
    kinds={"scikitlearn", "duckdb"},
    # Trained when features first exist; after that by the weekly schedule and when the drift
    # check fails (assets/retrain.py) or by `quantlake run` when a retrain is due, not on
    # every new session.
    automation_condition=(
        dg.AutomationCondition.missing()
        & dg.AutomationCondition.any_deps_updated()
        & ~dg.AutomationCondition.in_progress()
    ).with_label("first training"),
    description=(
        "Walk-forward Ridge and gradient-boosted models of forward returns (purged, embargoed "
        "folds); a new model becomes champion only through the promotion gate."
    ),
    metadata={"table": MODELS.table, "config": "assets/models/config.toml"},
)
def model(
    context,  # noqa: ANN001 - Dagster rejects string annotations here
    lakehouse: LakehouseResource,
    model_settings: ModelResource,
) -> dg.MaterializeResult:
    """Train each configured spec on the features known at the run's knowledge cut-off (its
    ``quantlake/as_of`` tag, else now), register it and gate promotion."""
    params = model_settings.params()
    config = load_config(Path(model_settings.config)) if model_settings.config else load_config()
    wf = config.walk_forward
    with lakehouse.open() as lake:
        read_at = lake.current_snapshot()
        extra = config.features.extra
        tables = [CONTEXT_TABLES[name] for name in extra]
        data_snapshot = last_change(lake, FEATURES, LABELS, *tables, as_of=read_at)
        through = _known_through(lake, as_of=read_at, known_at=known_at(context))
        frame = _read_frame(
            lake, horizon=params.horizon, as_of=read_at, extra=extra, through=through
        )
        plan = plan_walk_forward(frame, params=params, folds=wf.folds, window=wf.window)
        names = feature_names(extra)
        feature_set = feature_set_hash(names, {**FEATURE_LOOKBACK, **CONTEXT_LOOKBACK})
        versions = _versions(
            config, params=params, plan=plan, feature_set=feature_set, data_snapshot=data_snapshot
        )
        run = list(versions.values())
        known = lake.read(MODELS, where="list_contains(?, model_version)", params=[run])
        for row in known.iter_rows(named=True):
            load_artifact(Path(row["artifact_path"]), sha256=row["artifact_sha256"])
        registered = set(known.get_column("model_version"))
        new = {s: v for s, v in versions.items() if v not in registered}
        decision, written = "every model of this run was already registered", 0
        if new:
            decision, written = _train_and_register(
                lake,
                frame,
                new,
                plan=plan,
                params=params,
                config=config,
                feature_set=feature_set,
                data_snapshot=data_snapshot,
                models_dir=model_settings.artifacts,
                names=names,
            )
        after = current_champion(lake)
        stored = lake.read(MODELS, where="list_contains(?, model_version)", params=[run])
        written_at = lake.current_snapshot() if written else None
    champion = after["model_version"] if after else None
    meta = _metadata(stored, metric=config.promotion.metric, champion=champion)
    return dg.MaterializeResult(
        metadata={
            **meta,
            "decision": decision,
            "trained": bool(new),
            "rows_written": written,
            "snapshot_read": read_at,
            "snapshot_written": dg.MetadataValue.null() if written_at is None else written_at,
        }
    )
