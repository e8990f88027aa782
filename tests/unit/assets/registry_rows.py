"""Registered models for the registry and CLI tests: real (tiny) artifacts, hand-set metrics."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline

from assets.models.artifact import ModelArtifact, save_artifact
from warehouse.lake import Lakehouse
from warehouse.schemas import FEATURE_COLUMNS, MODELS

T0 = dt.datetime(2026, 3, 2, 22, tzinfo=dt.UTC)


def model_row(version: str, *, models_dir: Path, status: str, day: int = 0, **values: Any) -> dict:
    """Return a registry row of ``version`` whose artifact is saved in ``models_dir``."""
    rng = np.random.default_rng(day)
    pipeline = Pipeline([("ridge", Ridge())]).fit(
        rng.random((20, len(FEATURE_COLUMNS))), rng.random(20)
    )
    path, sha = save_artifact(
        ModelArtifact(version, FEATURE_COLUMNS, 5, pipeline), models_dir=models_dir
    )
    return {
        "model_version": version,
        "created_at": T0 + dt.timedelta(days=day),
        "algorithm": "ridge",
        "params": json.dumps({"algorithm": "ridge", "hyperparams": {"alpha": 1.0}}),
        "feature_names": json.dumps(list(FEATURE_COLUMNS)),
        "horizon": 5,
        "train_start": dt.date(2024, 1, 2),
        "train_end": dt.date(2026, 2, 20) + dt.timedelta(days=day),
        "test_start": dt.date(2025, 6, 2),
        "test_end": dt.date(2026, 2, 20) + dt.timedelta(days=day),
        "n_train": 6000,
        "n_test": 2000,
        "data_snapshot": 10 + day,
        "oos_ic": 0.02,
        "oos_rank_ic": 0.03,
        "oos_ic_tstat": 1.5,
        "oos_hit_rate": 0.52,
        "oos_decile_spread": 0.004,
        "oos_positive_fold_share": 2 / 3,
        "n_folds": 3,
        "embargo_sessions": 5,
        "config_version": "1",
        "feature_set_hash": "f" * 16,
        "fold_metrics": json.dumps(
            [
                {
                    "train_start": "2023-06-01",
                    "train_end": "2025-05-23",
                    "test_start": "2025-06-02",
                    "test_end": "2025-08-29",
                    "n_train": 6000,
                    "rows": 700,
                    "sessions": 63,
                    "ic": 0.02,
                    "rank_ic": 0.03,
                    "ic_tstat": 1.1,
                    "hit_rate": 0.51,
                    "decile_spread": None,
                }
            ]
        ),
        "artifact_path": str(path),
        "artifact_sha256": sha,
        "status": status,
        "status_reason": f"seeded as {status}",
        "status_changed_at": T0 + dt.timedelta(days=day),
        **values,
    }


def seed_models(lake: Lakehouse, rows: list[dict]) -> None:
    """Write the rows to models.registry."""
    with lake.transaction("seed models") as txn:
        txn.merge(MODELS, MODELS.frame(rows))
