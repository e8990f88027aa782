"""Materialize the daily assets in a given Dagster instance (what ``quantlake run`` calls)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import dagster as dg

from assets.checks import CHECKS
from assets.daily import DAILY_ASSETS
from assets.features.assets import AS_OF_TAG
from assets.resources import build_resources, options_from_settings

if TYPE_CHECKING:
    from quantlake.settings import Settings


class DailyAssetsFailed(RuntimeError):
    """The features -> model -> predictions run did not succeed."""


def materialize_daily(
    *, instance: dg.DagsterInstance, settings: Settings, as_of: dt.datetime | None = None
) -> dg.ExecuteInProcessResult:
    """Materialize features, model and predictions with their checks; raise unless it succeeds.

    The run is recorded in ``instance``, so it shows in the Dagster UI next to the automated ones.
    A failing blocking check (features nulls) stops the run and raises; the predictions coverage
    check only warns and is returned in the result.
    """
    result = dg.materialize(
        [*DAILY_ASSETS, *CHECKS],
        instance=instance,
        resources=build_resources(**options_from_settings(settings)),
        # The console logger defaults to DEBUG; the run's events are in the instance regardless.
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
        tags={"quantlake/trigger": "cli", **({AS_OF_TAG: as_of.isoformat()} if as_of else {})},
    )
    if not result.success:
        raise DailyAssetsFailed(
            f"Dagster run {result.run_id} failed: see it in the Dagster UI or with "
            "`dagster run list`; nothing after the failed step was written"
        )
    return result
