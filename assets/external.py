"""External assets: datasets the Prefect flows write, declared so lineage runs source to order.

Dagster never materializes these. The ingest flow reports a runless materialization of
curated/bars after each successful load, which is what wakes the eager downstream assets; the
trade flow reports trading/orders the same way.
"""

from __future__ import annotations

import dagster as dg

from assets import keys
from warehouse import schemas


def _spec(
    dataset: schemas.Dataset, *, group: str, deps: list[dg.AssetKey], writer: str
) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=keys.key_of(dataset),
        deps=deps,
        group_name=group,
        description=f"{dataset.description} Written by the Prefect {writer} flow.",
        metadata={"table": dataset.table, "key": list(dataset.key), "written_by": writer},
        kinds={"duckdb", "prefect"},
    )


RAW_BARS = _spec(schemas.RAW_BARS, group="ingest", deps=[], writer="ingest")
CURATED_BARS = _spec(schemas.CURATED_BARS, group="ingest", deps=[keys.RAW_BARS], writer="ingest")
ORDERS = _spec(schemas.ORDERS, group="trading", deps=[keys.PREDICTIONS], writer="trade")
RAW_MACRO = _spec(schemas.RAW_MACRO, group="ingest", deps=[], writer="macro ingest")
CURATED_MACRO = _spec(
    schemas.CURATED_MACRO,
    group="ingest",
    deps=[keys.key_of(schemas.RAW_MACRO)],
    writer="macro ingest",
)
RAW_NEWS = _spec(schemas.RAW_NEWS, group="ingest", deps=[], writer="news ingest")
CURATED_NEWS = _spec(
    schemas.CURATED_NEWS, group="ingest", deps=[keys.key_of(schemas.RAW_NEWS)], writer="news ingest"
)
CURATED_NEWS_SYMBOLS = _spec(
    schemas.CURATED_NEWS_SYMBOLS,
    group="ingest",
    deps=[keys.key_of(schemas.RAW_NEWS)],
    writer="news ingest",
)

EXTERNAL_ASSETS = (
    RAW_BARS,
    CURATED_BARS,
    ORDERS,
    RAW_MACRO,
    CURATED_MACRO,
    RAW_NEWS,
    CURATED_NEWS,
    CURATED_NEWS_SYMBOLS,
)
