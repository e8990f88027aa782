"""What the promotion gate is given: this run's trained models and the champion, scored on the
same walk-forward folds (pure apart from training the champion's spec when needed)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import polars as pl

from assets.models.estimators import Spec, spec_from_registry
from assets.models.metrics import Metrics
from assets.models.promotion import Baseline, Candidate
from assets.models.train import TrainedModel, evaluate
from assets.models.walk_forward import WalkForward

# Registry column of each promotion metric -> the Metrics field it records.
METRIC_FIELDS = {"oos_ic": "ic", "oos_rank_ic": "rank_ic"}


def metric_of(metrics: Metrics, name: str) -> float:
    """Return the promotion metric ``name`` (a registry column) from ``metrics``."""
    return float(getattr(metrics, METRIC_FIELDS[name]))


def candidate(version: str, model: TrainedModel, *, metric: str) -> Candidate:
    """Return the gate's view of a newly trained model."""
    return Candidate(
        version=version,
        spec_key=model.spec.key,
        metric=metric_of(model.evaluation.overall, metric),
        ic_tstat=model.evaluation.overall.ic_tstat,
        positive_fold_share=model.evaluation.positive_fold_share,
    )


def baseline(
    champion: Mapping[str, Any] | None,
    trained: Mapping[Spec, TrainedModel],
    *,
    frame: pl.DataFrame,
    plan: WalkForward,
    seed: int,
    metric: str,
) -> Baseline | None:
    """Return the champion scored on this run's folds (None when there is no champion).

    Its specification is re-evaluated walk-forward on the same folds, reusing this run's
    evaluation when a candidate has the same spec. A champion whose spec cannot be read from
    the registry is compared by its recorded metric, and the reason says so.
    """
    if champion is None:
        return None
    version = champion["model_version"]
    try:
        spec = spec_from_registry(champion["algorithm"], champion["params"])
    except ValueError as exc:
        recorded = champion.get(metric)
        return Baseline(
            version,
            spec_key="",
            metric=math.nan if recorded is None else float(recorded),
            basis=f"its recorded {metric}, as its specification is unreadable: {exc}",
        )
    same = trained.get(spec)
    evaluation = same.evaluation if same else evaluate(frame, plan, spec=spec, seed=seed)
    score = metric_of(evaluation.overall, metric)
    return Baseline(version, spec.key, score, basis="its specification on the same folds")
