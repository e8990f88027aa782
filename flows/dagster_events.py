"""Tell the Dagster instance that a Prefect flow wrote a dataset (a runless asset event).

This is the hand-off of ARCHITECTURE.md: Prefect writes the lakehouse, then reports the new data
so that Dagster's lineage and automation see it. Only Dagster's public API is used here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def report_materializations(
    dagster_home: Path, events: Sequence[tuple[Sequence[str], Mapping[str, Any]]]
) -> int:
    """Record one AssetMaterialization per (asset key path, metadata) in the instance at
    ``dagster_home``. Return the number of events reported."""
    import dagster as dg

    dagster_home.mkdir(parents=True, exist_ok=True)
    instance = dg.DagsterInstance.from_config(str(dagster_home))
    try:
        for key, metadata in events:
            instance.report_runless_asset_event(
                dg.AssetMaterialization(asset_key=list(key), metadata=dict(metadata))
            )
    finally:
        instance.dispose()
    return len(events)
