"""Asset checks: feature completeness past the warm-up, a usable champion model, and full
coverage of the predictions; ``CHECKS`` also gathers drift, label leakage, row counts
(assets/checks_features.py) and freshness (assets/checks_freshness.py)."""

from __future__ import annotations

import math
from pathlib import Path

import dagster as dg

from assets import keys
from assets.checks_features import FEATURE_CHECKS
from assets.checks_freshness import FRESHNESS_CHECKS
from assets.features.compute import null_share_after_warmup
from assets.models.artifact import ArtifactError, load_artifact
from assets.models.registry import current_champion
from assets.predictions.assets import no_champion_reason
from assets.resources import LakehouseResource
from warehouse.schemas import FEATURE_COLUMNS, FEATURES, PREDICTIONS

# Past its warm-up a feature is null only where it is undefined (a flat volume window).
MAX_NULL_SHARE = 0.01


@dg.asset_check(
    asset=keys.FEATURES,
    blocking=True,
    description=(
        f"Each feature is null in at most {MAX_NULL_SHARE:.0%} of the rows past its warm-up; "
        "blocking, so the model never trains on broken features."
    ),
)
def features_null_share(lakehouse: LakehouseResource) -> dg.AssetCheckResult:
    """Fail when any feature is null too often after its lookback is filled."""
    with lakehouse.open() as lake:
        frame = lake.read(FEATURES)
    shares = null_share_after_warmup(frame.select("symbol", "session", *FEATURE_COLUMNS))
    # NaN (no row past the warm-up) ranks worst and fails: completeness is then unknown.
    worst = max(shares, key=lambda name: math.inf if math.isnan(shares[name]) else shares[name])
    passed = all(share <= MAX_NULL_SHARE for share in shares.values())
    return dg.AssetCheckResult(
        passed=passed,
        metadata={
            "worst_feature": worst,
            "worst_null_share": shares[worst],
            "threshold": MAX_NULL_SHARE,
            **{f"null_share_{name}": share for name, share in shares.items()},
        },
    )


@dg.asset_check(
    asset=keys.MODELS,
    description=(
        "models.registry holds exactly one champion and its artifact matches the recorded "
        "sha256 (WARN when not: with no champion the trade flow holds the book)."
    ),
)
def model_champion_ready(lakehouse: LakehouseResource) -> dg.AssetCheckResult:
    """Fail when there is no champion or its artifact is missing or altered."""
    with lakehouse.open() as lake:
        found = current_champion(lake)
        problem = None if found else no_champion_reason(lake)
    if found is not None:
        try:
            load_artifact(Path(found["artifact_path"]), sha256=found["artifact_sha256"])
        except ArtifactError as exc:
            problem = str(exc)
    return dg.AssetCheckResult(
        passed=problem is None,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "champion": found["model_version"] if found else None,
            "status_reason": found["status_reason"] if found else None,
            "problem": problem or "none",
        },
    )


@dg.asset_check(
    asset=keys.PREDICTIONS,
    description=(
        "The champion model scored every symbol present in the latest feature session "
        "(WARN when not: a symbol still in its warm-up gets no score, or there is no champion)."
    ),
)
def predictions_cover_latest_session(lakehouse: LakehouseResource) -> dg.AssetCheckResult:
    """Fail when the latest session has fewer predictions than symbols, or no champion."""
    with lakehouse.open() as lake:
        session = lake.query(f"SELECT max(session) FROM {FEATURES.table}").item()
        symbols = lake.read(FEATURES, where="session = ?", params=[session]).get_column("symbol")
        found = current_champion(lake)
        version = found["model_version"] if found else None
        reason = None if found else no_champion_reason(lake)
        scored = lake.read(
            PREDICTIONS, where="session = ? AND model_version = ?", params=[session, version]
        ).get_column("symbol")
    unscored = sorted(set(symbols.to_list()) - set(scored.to_list()))
    return dg.AssetCheckResult(
        passed=found is not None and len(scored) == len(symbols) and not unscored,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "session": str(session),
            "model_version": version,
            "symbols": len(symbols),
            "predictions": len(scored),
            "unscored": ", ".join(unscored[:20]) or "none",
            **({"no_champion": reason} if reason else {}),
        },
    )


CHECKS = (
    features_null_share,
    model_champion_ready,
    predictions_cover_latest_session,
    *FEATURE_CHECKS,
    *FRESHNESS_CHECKS,
)
