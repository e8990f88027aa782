"""The assets Dagster materializes every session, in dependency order, and their job."""

from __future__ import annotations

import dagster as dg

from assets.features.assets import features
from assets.models.assets import model
from assets.predictions.assets import predictions

DAILY_ASSETS = (features, model, predictions)

daily_assets_job = dg.define_asset_job(
    "daily_assets_job",
    selection=dg.AssetSelection.assets(*DAILY_ASSETS),
    description="Features (and labels) -> model -> predictions, with their checks.",
)
