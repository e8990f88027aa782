"""The value of one run's data quality report, shared by its builder (report.py) and its HTML page
(html.py)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from flows.quality import reads
from flows.quality.rows import STATUS_ORDER
from validations.splits import DetectedSplit


class NoQualityReport(LookupError):
    """The lakehouse holds no quality report (or not the one asked for)."""


@dataclass(frozen=True)
class QualityReport:
    """One run's quality report: ``rows`` has exactly meta.quality_reports' columns."""

    run_id: str
    created_at: dt.datetime
    rows: pl.DataFrame
    # The splits found while building (not stored as objects: rows' details hold them as text).
    detected: tuple[DetectedSplit, ...] = field(default=())

    @property
    def sources(self) -> pl.DataFrame:
        """Return the total rows, one per (source, dataset)."""
        return self.rows.filter(pl.col("symbol") == reads.ALL_SYMBOLS).sort("source", "dataset")

    @property
    def symbols(self) -> pl.DataFrame:
        """Return the symbol rows, problems first (failed, warning, ok), then by name."""
        rank = pl.col("status").replace_strict(STATUS_ORDER, return_dtype=pl.Int8)
        mine = self.rows.filter(pl.col("symbol") != reads.ALL_SYMBOLS)
        return mine.sort(rank, "source", "dataset", "symbol")

    @property
    def status(self) -> str:
        """Return the worst status of the run (ok for a run without batches)."""
        found = self.sources.get_column("status").to_list()
        return min(found, key=STATUS_ORDER.__getitem__, default="ok")

    def details(self, row: dict[str, Any]) -> dict[str, Any]:
        """Return a row's details as a dict."""
        return json.loads(row["details"] or "{}")
