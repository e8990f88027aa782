"""Asset keys: each lakehouse dataset's asset is keyed [zone, name], like its table."""

from __future__ import annotations

import dagster as dg

from warehouse import schemas


def key_of(dataset: schemas.Dataset) -> dg.AssetKey:
    """Return the asset key of a lakehouse dataset."""
    return dg.AssetKey([dataset.zone, dataset.name])


RAW_BARS = key_of(schemas.RAW_BARS)
CURATED_BARS = key_of(schemas.CURATED_BARS)
FEATURES = key_of(schemas.FEATURES)
MODELS = key_of(schemas.MODELS)
PREDICTIONS = key_of(schemas.PREDICTIONS)
ORDERS = key_of(schemas.ORDERS)
