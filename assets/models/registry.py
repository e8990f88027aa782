"""Rows of the model registry (models.registry) and the status policy.

Policy for this foundation: the newest trained model becomes the ``champion`` and the previous
champion is ``retired`` in the same commit, so exactly one champion exists at any snapshot.
(``challenger`` is reserved for a later promotion step that compares models before switching.)

``train_start``/``train_end`` are the production model's window; ``test_start``/``test_end`` the
out-of-sample window whose metrics are recorded, scored by a model fit on an earlier, embargoed
window (see assets/models/train.py).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from pathlib import Path

import polars as pl

from assets.models.train import ALGORITHM, ModelParams, TrainedModel
from warehouse.schemas import FEATURE_COLUMNS, MODELS

CHAMPION = "champion"
RETIRED = "retired"


def registry_row(
    *,
    version: str,
    model: TrainedModel,
    params: ModelParams,
    data_snapshot: int,
    artifact_path: Path,
    artifact_sha256: str,
    created_at: dt.datetime,
) -> pl.DataFrame:
    """Return the one-row registry frame of a newly trained champion."""
    plan, oos = model.plan, model.oos
    row = {
        "model_version": version,
        "created_at": created_at,
        "algorithm": ALGORITHM,
        "params": json.dumps(asdict(params), sort_keys=True),
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
        "status": CHAMPION,
    }
    return pl.DataFrame([row]).select(MODELS.column_names)


def retired(champions: pl.DataFrame) -> pl.DataFrame:
    """Return the given registry rows with status ``retired``."""
    return champions.with_columns(status=pl.lit(RETIRED))
