"""Model versions and artifacts: a content hash names the model, a sha256 guards the file."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sklearn.pipeline import Pipeline

from assets.models.estimators import Spec
from assets.models.train import ModelParams
from assets.models.walk_forward import WalkForward

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


def feature_set_hash(names: Sequence[str], lookbacks: Mapping[str, int]) -> str:
    """Return 16 hex digits of sha256 over the feature names (in order) and their lookbacks."""
    identity = [[name, lookbacks[name]] for name in names]
    return hashlib.sha256(json.dumps(identity).encode()).hexdigest()[:16]


def model_identity(
    *,
    spec: Spec,
    params: ModelParams,
    plan: WalkForward,
    feature_set: str,
    data_snapshot: int,
) -> dict[str, object]:
    """Return everything that determines a fitted model and its out-of-sample metrics."""
    return {
        "spec": spec.key,
        "horizon": params.horizon,
        "train_sessions": params.train_sessions,
        "test_sessions": params.test_sessions,
        "seed": params.seed,
        "folds": len(plan.folds),
        "window": plan.window,
        "feature_set_hash": feature_set,
        "data_snapshot": data_snapshot,
        "train_window": [plan.final_start.isoformat(), plan.final_end.isoformat()],
    }


def model_version(*, algorithm: str, identity: Mapping[str, object]) -> str:
    """Return ``<algorithm>-<12 hex>``, a hash of the model's identity (see model_identity)."""
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()
    return f"{algorithm}-{digest[:12]}"


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
            f"model artifact {path} does not exist: restore it from a backup (a registered "
            "version is never retrained; if the model is a champion, promote another one)"
        )
    payload = path.read_bytes()
    actual = hashlib.sha256(payload).hexdigest()
    if actual != sha256:
        raise ArtifactError(
            f"model artifact {path} has sha256 {actual} but models.registry records {sha256}: "
            "the file was altered or replaced; do not use it: restore the original from a backup, "
            "or `quantlake models promote VERSION` another model if this one is the champion"
        )
    # Unpickling is safe only because the bytes are exactly the ones this platform wrote.
    stored = pickle.loads(payload)
    return ModelArtifact(
        stored["model_version"],
        tuple(stored["feature_names"]),
        int(stored["horizon"]),
        stored["pipeline"],
    )
