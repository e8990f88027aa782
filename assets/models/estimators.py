"""The scikit-learn estimators a model can be: a specification (algorithm + hyperparameters) and
the pipeline it builds. Every estimator is seeded, so a fit is a pure function of its rows."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

ALGORITHMS = ("ridge", "gbt")


@dataclass(frozen=True)
class Spec:
    """One model specification: the algorithm and its hyperparameters (sorted by name)."""

    algorithm: str
    hyperparams: tuple[tuple[str, Any], ...]

    def __post_init__(self) -> None:
        if self.algorithm not in ALGORITHMS:
            raise ValueError(f"unknown algorithm {self.algorithm!r}: use one of {ALGORITHMS}")

    @classmethod
    def of(cls, algorithm: str, hyperparams: Mapping[str, Any]) -> Spec:
        """Return the spec of ``algorithm`` with ``hyperparams``."""
        return cls(algorithm, tuple(sorted(hyperparams.items())))

    @property
    def key(self) -> str:
        """Return a canonical text of the spec; two specs are the same model iff keys match."""
        return json.dumps([self.algorithm, dict(self.hyperparams)], sort_keys=True)

    def __str__(self) -> str:
        return f"{self.algorithm}({', '.join(f'{k}={v}' for k, v in self.hyperparams)})"


def build_pipeline(spec: Spec, *, seed: int) -> Pipeline:
    """Return the unfitted pipeline of ``spec``, seeded with ``seed``."""
    params = dict(spec.hyperparams)
    if spec.algorithm == "ridge":
        return Pipeline(
            [
                ("scale", StandardScaler()),
                ("ridge", Ridge(alpha=params["alpha"], random_state=seed)),
            ]
        )
    # Inputs are per-session ranks already, so trees need no scaling. Early stopping would carve
    # a random validation split out of the training rows: off, the fit uses every row.
    gbt = HistGradientBoostingRegressor(**params, early_stopping=False, random_state=seed)
    return Pipeline([("gbt", gbt)])


def spec_from_registry(algorithm: str, params_json: str) -> Spec:
    """Return the spec recorded in a models.registry row (``algorithm``, ``params`` columns).

    Rows written before the config file record only the Ridge settings (``alpha`` among the
    walk-forward lengths); newer rows record ``hyperparams``.
    """
    params = json.loads(params_json)
    if "hyperparams" in params:
        return Spec.of(algorithm, params["hyperparams"])
    if algorithm == "ridge" and "alpha" in params:
        return Spec.of("ridge", {"alpha": params["alpha"]})
    raise ValueError(
        f"registry params {params_json} of a {algorithm} model name no hyperparameters"
    )
