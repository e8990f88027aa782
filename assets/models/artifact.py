"""Model versions and artifacts: a content hash names the model, a sha256 guards the file."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import pickle
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from sklearn.pipeline import Pipeline

from assets.models.train import ALGORITHM, ModelParams

PICKLE_PROTOCOL = 5


class ArtifactError(RuntimeError):
    """A model artifact is missing, altered or does not fit the registry row."""


@dataclass(frozen=True)
class ModelArtifact:
    """What is saved for a registered model: the fitted pipeline and what it expects."""

    model_version: str
    feature_names: tuple[str, ...]
    horizon: int
    pipeline: Pipeline


def model_version(
    *,
    params: ModelParams,
    feature_names: Sequence[str],
    data_snapshot: int,
    train_start: dt.date,
    train_end: dt.date,
) -> str:
    """Return ``ridge-<12 hex>``, a hash of everything that determines the fitted model."""
    identity = {
        "algorithm": ALGORITHM,
        "params": asdict(params),
        "feature_names": list(feature_names),
        "data_snapshot": data_snapshot,
        "train_window": [train_start.isoformat(), train_end.isoformat()],
    }
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
    return f"{ALGORITHM}-{digest[:12]}"


def save_artifact(artifact: ModelArtifact, *, models_dir: Path) -> tuple[Path, str]:
    """Write ``<models_dir>/<version>.pkl`` atomically; return its path and sha256."""
    payload = pickle.dumps(
        {
            "model_version": artifact.model_version,
            "feature_names": list(artifact.feature_names),
            "horizon": artifact.horizon,
            "pipeline": artifact.pipeline,
        },
        protocol=PICKLE_PROTOCOL,
    )
    models_dir.mkdir(parents=True, exist_ok=True)
    path = models_dir / f"{artifact.model_version}.pkl"
    partial = path.with_suffix(".pkl.partial")
    partial.write_bytes(payload)
    os.replace(partial, path)
    return path, hashlib.sha256(payload).hexdigest()


def load_artifact(path: Path, *, sha256: str) -> ModelArtifact:
    """Read an artifact after checking its sha256 against the registry's."""
    if not path.is_file():
        raise ArtifactError(
            f"model artifact {path} does not exist: restore it or re-materialize models/registry"
        )
    payload = path.read_bytes()
    actual = hashlib.sha256(payload).hexdigest()
    if actual != sha256:
        raise ArtifactError(
            f"model artifact {path} has sha256 {actual} but models.registry records {sha256}: "
            "the file was altered or replaced; do not use it, re-materialize models/registry"
        )
    # Unpickling is safe only because the bytes are exactly the ones this platform wrote.
    stored = pickle.loads(payload)
    return ModelArtifact(
        stored["model_version"],
        tuple(stored["feature_names"]),
        int(stored["horizon"]),
        stored["pipeline"],
    )
