"""The models.registry row of a newly trained model (status and reason come from the gate).

``train_start``/``train_end`` are the production model's window; ``test_start``/``test_end``
span the walk-forward folds, whose metrics are ``fold_metrics`` (JSON) and, over all their test
sessions together, the ``oos_*`` columns.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from assets.models.config import ModelConfig
from assets.models.train import ModelParams, TrainedModel
from warehouse.schemas import FEATURE_COLUMNS


def model_params_json(model: TrainedModel, *, params: ModelParams) -> str:
    """Return the recorded training parameters: spec, horizon, windows, folds, seed."""
    return json.dumps(
        {
            "algorithm": model.spec.algorithm,
            "hyperparams": dict(model.spec.hyperparams),
            "horizon": params.horizon,
            "train_sessions": params.train_sessions,
            "test_sessions": params.test_sessions,
            "folds": len(model.plan.folds),
            "window": model.plan.window,
            "embargo_sessions": model.plan.embargo,
            "seed": params.seed,
        },
        sort_keys=True,
    )


def registry_row(
    model: TrainedModel,
    *,
    version: str,
    params: ModelParams,
    config: ModelConfig,
    feature_set: str,
    data_snapshot: int,
    artifact_path: Path,
    artifact_sha256: str,
    created_at: dt.datetime,
) -> dict[str, Any]:
    """Return the registry row of ``model`` (without status, reason and when it changed)."""
    plan, oos = model.plan, model.evaluation.overall
    return {
        "model_version": version,
        "created_at": created_at,
        "algorithm": model.spec.algorithm,
        "params": model_params_json(model, params=params),
        "feature_names": json.dumps(list(FEATURE_COLUMNS)),
        "horizon": params.horizon,
        "train_start": plan.final_start,
        "train_end": plan.final_end,
        "test_start": plan.test_start,
        "test_end": plan.test_end,
        "n_train": model.n_train,
        "n_test": oos.rows,
        "data_snapshot": data_snapshot,
        "oos_ic": oos.ic,
        "oos_rank_ic": oos.rank_ic,
        "oos_hit_rate": oos.hit_rate,
        "artifact_path": str(artifact_path),
        "artifact_sha256": artifact_sha256,
        "feature_set_hash": feature_set,
        "config_version": config.config_version,
        "n_folds": len(plan.folds),
        "embargo_sessions": plan.embargo,
        "oos_ic_tstat": oos.ic_tstat,
        "oos_decile_spread": oos.decile_spread,
        "oos_positive_fold_share": model.evaluation.positive_fold_share,
        "fold_metrics": model.evaluation.folds_json(),
    }
