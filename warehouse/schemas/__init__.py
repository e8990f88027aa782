"""Every dataset in the lakehouse, declared once: zone, columns (DuckDB types), key.

One module per zone (raw, quarantine, curated, meta, features, models, predictions, trading,
paper); this package gathers them so that ``schemas.CURATED_BARS`` and ``schemas.ALL`` read as
before.

A zone is a DuckLake schema; a dataset is a table ``<zone>.<name>``. Every record carries an
event time (``session`` or ``*_at``) and, where it comes from outside, a knowledge time
(``ingested_at`` / ``knowledge_time``): when we could first have known it.
"""

from __future__ import annotations

from warehouse.schemas.curated import (
    CURATED_BARS,
    CURATED_MACRO,
    CURATED_MACRO_VINTAGES,
    CURATED_MINUTE_BARS,
    CURATED_NEWS,
    CURATED_NEWS_SYMBOLS,
)
from warehouse.schemas.dataset import Dataset
from warehouse.schemas.features import (
    FEATURE_COLUMNS,
    FEATURES,
    LABELS,
    MACRO_FEATURE_COLUMNS,
    MACRO_FEATURES,
    SENTIMENT_FEATURE_COLUMNS,
    SENTIMENT_FEATURES,
)
from warehouse.schemas.meta import (
    BACKFILL_WINDOWS,
    BATCHES,
    QUALITY_REPORTS,
    VALIDATION_RESULTS,
)
from warehouse.schemas.models import (
    MODELS,
    PROMOTIONS,
)
from warehouse.schemas.paper import (
    PAPER_CASH,
    PAPER_ORDERS,
    PAPER_POSITIONS,
    PAPER_SPLITS,
)
from warehouse.schemas.predictions import (
    PREDICTIONS,
)
from warehouse.schemas.quarantine import (
    QUARANTINE_BARS,
    QUARANTINE_MACRO,
    QUARANTINE_MINUTE_BARS,
    QUARANTINE_NEWS,
)
from warehouse.schemas.raw import (
    RAW_BARS,
    RAW_CORPORATE_ACTIONS,
    RAW_MACRO,
    RAW_MINUTE_BARS,
    RAW_NEWS,
)
from warehouse.schemas.trading import (
    ACCOUNT,
    FILLS,
    ORDERS,
    POSITIONS,
    RISK_DECISIONS,
    TRADING_CONTROLS,
    TRADING_RECONCILIATIONS,
    TRADING_STATE,
)

__all__ = [
    "ACCOUNT",
    "ALL",
    "BACKFILL_WINDOWS",
    "BATCHES",
    "BY_TABLE",
    "CURATED_BARS",
    "CURATED_MACRO",
    "CURATED_MACRO_VINTAGES",
    "CURATED_MINUTE_BARS",
    "CURATED_NEWS",
    "CURATED_NEWS_SYMBOLS",
    "Dataset",
    "FEATURES",
    "FEATURE_COLUMNS",
    "FILLS",
    "LABELS",
    "MACRO_FEATURES",
    "MACRO_FEATURE_COLUMNS",
    "MODELS",
    "ORDERS",
    "PAPER_CASH",
    "PAPER_ORDERS",
    "PAPER_POSITIONS",
    "PAPER_SPLITS",
    "POSITIONS",
    "PREDICTIONS",
    "PROMOTIONS",
    "QUALITY_REPORTS",
    "QUARANTINE_BARS",
    "QUARANTINE_MACRO",
    "QUARANTINE_MINUTE_BARS",
    "QUARANTINE_NEWS",
    "RAW_BARS",
    "RAW_CORPORATE_ACTIONS",
    "RAW_MACRO",
    "RAW_MINUTE_BARS",
    "RAW_NEWS",
    "RISK_DECISIONS",
    "SENTIMENT_FEATURES",
    "SENTIMENT_FEATURE_COLUMNS",
    "TRADING_CONTROLS",
    "TRADING_RECONCILIATIONS",
    "TRADING_STATE",
    "VALIDATION_RESULTS",
]

ALL: tuple[Dataset, ...] = (
    RAW_BARS,
    RAW_CORPORATE_ACTIONS,
    QUARANTINE_BARS,
    CURATED_BARS,
    BATCHES,
    VALIDATION_RESULTS,
    FEATURES,
    LABELS,
    MODELS,
    PROMOTIONS,
    PREDICTIONS,
    ORDERS,
    FILLS,
    POSITIONS,
    ACCOUNT,
    RISK_DECISIONS,
    TRADING_CONTROLS,
    TRADING_STATE,
    TRADING_RECONCILIATIONS,
    PAPER_ORDERS,
    PAPER_POSITIONS,
    PAPER_CASH,
    PAPER_SPLITS,
    RAW_MINUTE_BARS,
    QUARANTINE_MINUTE_BARS,
    CURATED_MINUTE_BARS,
    RAW_MACRO,
    QUARANTINE_MACRO,
    CURATED_MACRO_VINTAGES,
    CURATED_MACRO,
    RAW_NEWS,
    QUARANTINE_NEWS,
    CURATED_NEWS,
    CURATED_NEWS_SYMBOLS,
    QUALITY_REPORTS,
    BACKFILL_WINDOWS,
    MACRO_FEATURES,
    SENTIMENT_FEATURES,
)

BY_TABLE: dict[str, Dataset] = {d.table: d for d in ALL}
