"""The quantlake Dagster code location: one Definitions built from explicit settings.

``defs`` reads quantlake settings (QUANTLAKE_* variables, .env) when Dagster loads this module.
Automation: features and predictions are partitioned on exchange sessions and ``eager``; the
Prefect ingest flow reports a runless materialization of curated/bars, and the sensor below,
evaluated by the Dagster daemon, then requests the latest session's features partition, and the
predictions partition once the features (or a new model) land. The model trains when first
missing, then weekly and when the drift check fails (assets/retrain.py). The sensor is declared
RUNNING in code because Dagster's implicit ``default_automation_condition_sensor`` starts STOPPED.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg

from assets.checks import CHECKS
from assets.daily import DAILY_ASSETS, daily_assets_job
from assets.external import EXTERNAL_ASSETS
from assets.features.context_assets import CONTEXT_ASSETS
from assets.resources import build_resources, options_from_settings
from assets.retrain import RETRAIN_JOBS, RETRAIN_SCHEDULES, RETRAIN_SENSORS

AUTOMATION_SENSOR = "quantlake_automation"


def build_definitions(
    *, lake_root: str, catalog: str, models_dir: str, model: Mapping[str, Any]
) -> dg.Definitions:
    """Return the code location's Definitions over the given lakehouse and model settings."""
    automation = dg.AutomationConditionSensorDefinition(
        AUTOMATION_SENSOR,
        target=dg.AssetSelection.assets(*DAILY_ASSETS, *CONTEXT_ASSETS),
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=30,
        description="Evaluates the automation conditions of features (bars, macro, sentiment), "
        "model and predictions.",
    )
    return dg.Definitions(
        assets=[*EXTERNAL_ASSETS, *DAILY_ASSETS, *CONTEXT_ASSETS],
        asset_checks=list(CHECKS),
        jobs=[daily_assets_job, *RETRAIN_JOBS],
        schedules=list(RETRAIN_SCHEDULES),
        sensors=[automation, *RETRAIN_SENSORS],
        resources=build_resources(
            lake_root=lake_root, catalog=catalog, models_dir=models_dir, model=model
        ),
    )


def _load_location() -> dg.Definitions:
    from quantlake.settings import load_settings

    return build_definitions(**options_from_settings(load_settings()))


defs = _load_location()
