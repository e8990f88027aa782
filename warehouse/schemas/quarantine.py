"""Quarantine zone: rejected rows with the rule that rejected them."""

from __future__ import annotations

from warehouse.schemas.dataset import Dataset
from warehouse.schemas.raw import RAW_BARS, RAW_MACRO, RAW_MINUTE_BARS, RAW_NEWS

QUARANTINE_BARS = Dataset(
    "quarantine",
    "bars",
    RAW_BARS.columns + (("rule", "VARCHAR"), ("detail", "VARCHAR")),
    key=("batch_id", "row_number", "rule"),
    description="Rejected raw rows, one per failed rule, with the rule and what was wrong.",
)

QUARANTINE_MINUTE_BARS = Dataset(
    "quarantine",
    "minute_bars",
    RAW_MINUTE_BARS.columns + (("rule", "VARCHAR"), ("detail", "VARCHAR")),
    key=("batch_id", "row_number", "rule"),
    description="Rejected raw minute bars, one row per failed rule, with what was wrong.",
)

QUARANTINE_MACRO = Dataset(
    "quarantine",
    "macro",
    RAW_MACRO.columns + (("rule", "VARCHAR"), ("detail", "VARCHAR")),
    key=("batch_id", "row_number", "rule"),
    description="Rejected raw macro observations, one row per failed rule, with what was wrong.",
)

QUARANTINE_NEWS = Dataset(
    "quarantine",
    "news",
    RAW_NEWS.columns + (("rule", "VARCHAR"), ("detail", "VARCHAR")),
    key=("batch_id", "row_number", "rule"),
    description="Rejected raw news items, one row per failed rule, with what was wrong.",
)
