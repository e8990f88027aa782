"""Freshness checks: features are as recent as the curated bars, predictions as the features.

Freshness is measured in exchange sessions read from the lakehouse, not in wall-clock time:
a weekend or a holiday is not staleness, and the metadata names the sessions compared.
Whether the curated bars themselves are behind the calendar is the ingest quality report's job.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg

from assets import keys
from assets.resources import LakehouseResource
from warehouse.calendar import sessions_between
from warehouse.lake import Lakehouse
from warehouse.schemas import CURATED_BARS, FEATURES, PREDICTIONS, Dataset


def latest_session(lake: Lakehouse, dataset: Dataset) -> dt.date | None:
    """Return the newest session of ``dataset``, or None when it is empty."""
    return lake.query(f"SELECT max(session) FROM {dataset.table}").item()


def freshness_status(
    latest: dt.date | None, upstream: dt.date | None, *, upstream_name: str
) -> str:
    """Return how ``latest`` compares with its upstream's latest session, in words."""
    if upstream is None:
        return f"{upstream_name} is empty: nothing to be fresh against"
    if latest is None:
        return f"empty while {upstream_name} reaches {upstream}"
    if latest == upstream:
        return "up to date"
    if latest > upstream:
        return f"ahead of {upstream_name} ({latest} > {upstream}): was {upstream_name} rewritten?"
    return f"{sessions_between(latest, upstream)} session(s) behind {upstream_name}"


def _result(
    name: str, latest: dt.date | None, upstream_name: str, upstream: dt.date | None
) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=latest is not None and latest == upstream,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            f"{name}_session": str(latest) if latest else None,
            f"{upstream_name}_session": str(upstream) if upstream else None,
            "status": freshness_status(latest, upstream, upstream_name=upstream_name),
        },
    )


@dg.asset_check(
    asset=keys.FEATURES,
    description=(
        "The latest session of features.daily is the latest session of curated.bars "
        "(WARN when not: the features asset has not caught up with the ingest)."
    ),
)
def features_fresh(lakehouse: LakehouseResource) -> dg.AssetCheckResult:
    """Fail when the features lag (or lead) the curated bars."""
    with lakehouse.open() as lake:
        latest, upstream = latest_session(lake, FEATURES), latest_session(lake, CURATED_BARS)
    return _result("features", latest, "curated_bars", upstream)


@dg.asset_check(
    asset=keys.PREDICTIONS,
    description=(
        "The latest session of predictions.daily is the latest session of features.daily "
        "(WARN when not: the trade flow would act on an old score, or find none)."
    ),
)
def predictions_fresh(lakehouse: LakehouseResource) -> dg.AssetCheckResult:
    """Fail when the predictions lag (or lead) the features."""
    with lakehouse.open() as lake:
        latest, upstream = latest_session(lake, PREDICTIONS), latest_session(lake, FEATURES)
    return _result("predictions", latest, "features", upstream)


FRESHNESS_CHECKS = (features_fresh, predictions_fresh)
