"""The plain result of validating a batch: what passed, what was quarantined and why."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import polars as pl

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class RuleResult:
    """One expectation's outcome on one batch."""

    rule: str
    severity: Severity
    success: bool
    element_count: int
    unexpected_count: int
    detail: str


@dataclass(frozen=True)
class ValidationOutcome:
    """A batch after validation.

    ``passed`` holds the rows that may enter curated (same columns as the input).
    ``quarantined`` holds input columns plus ``rule`` and ``detail``, one row per failed rule.
    ``status`` is "failed" when a batch-level rule failed or the quarantined share of rows
    exceeds the configured limit; the trade flow refuses to open risk on failed data.
    """

    suite: str
    passed: pl.DataFrame
    quarantined: pl.DataFrame
    rules: tuple[RuleResult, ...]
    status: Literal["passed", "failed"]
    message: str
    docs_path: str | None = None

    @property
    def rows_quarantined(self) -> int:
        """Count distinct rows quarantined (a row failing two rules counts once)."""
        if self.quarantined.is_empty():
            return 0
        return self.quarantined.select("row_number").n_unique()
