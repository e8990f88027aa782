"""Validate a batch of minute bars: what passes, what is quarantined and why.

The rules are evaluated in polars (vectorized: a million rows take well under a second); GX
validates the per-symbol profile of their counts and its verdict decides each rule's success,
which is stored with the suite and shown in Data Docs. A batch rule that fails rejects the
batch; rows breaking an error rule are quarantined (one row per rule, with a readable detail);
warnings are counted and described, never quarantined.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import polars as pl

from validations.minute_bars import (
    RULES,
    RULES_BY_NAME,
    SUITE,
    SYMBOL_PATTERNS,
    MinuteParameters,
    MinuteRule,
)
from validations.minute_bars_context import publish_minute_docs, run_minute_suite
from validations.minute_bars_profile import (
    batch_problems,
    checked_frame,
    failing_rows,
    profile,
    rule_masks,
)
from validations.result import RuleResult, ValidationOutcome

__all__ = ["MinuteValidationMismatch", "publish_minute_docs", "validate_minute_bars"]


class MinuteValidationMismatch(RuntimeError):
    """GX's verdict on the profile disagrees with the polars counts it was built from."""


def validate_minute_bars(
    frame: pl.DataFrame,
    *,
    now: dt.datetime,
    max_jump: float = 0.10,
    exchange: str = "XNYS",
    max_quarantine_fraction: float = 0.05,
    context_dir: Path | None = None,
    batch_id: str = "adhoc",
    symbol_patterns: Mapping[str, str] = SYMBOL_PATTERNS,
) -> ValidationOutcome:
    """Validate raw minute rows (raw.minute_bars columns); keep the newest of duplicates.

    ``now`` bounds the bars (the clock is never read here). With ``context_dir`` the GX result
    is stored in a file context there; :func:`publish_minute_docs` renders its Data Docs page.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if not 0 <= max_quarantine_fraction <= 1:
        raise ValueError(
            f"max_quarantine_fraction must be in [0, 1], not {max_quarantine_fraction}"
        )
    if clash := [c for c in ("rule", "detail") if c in frame.columns]:
        raise ValueError(f"the batch has column(s) {clash}, which quarantine adds; rename them")
    params = MinuteParameters(now=now, max_jump=max_jump, symbol_patterns=symbol_patterns)
    problems = batch_problems(frame)
    failures: dict[str, pl.DataFrame] = {}
    masks = None
    if not problems:
        checked = checked_frame(frame, exchange=exchange)
        masks = rule_masks(checked, params)
        failures = failing_rows(frame, checked, masks, params)
    facts = profile(masks, failures, problems)
    gx_result = run_minute_suite(facts.to_pandas(), context_dir=context_dir, batch_id=batch_id)
    verdicts = _verdicts(gx_result)
    rules = tuple(
        _rule_result(r, verdicts[r.name], failures.get(r.name), frame.height, problems)
        for r in RULES
    )
    quarantined = _quarantine(frame, failures)
    if problems:
        message = "batch rejected, nothing passed: " + "; ".join(m for _, m in problems.values())
        return ValidationOutcome(SUITE, frame.clear(), quarantined, rules, "failed", message)
    gone = quarantined.get_column("row_number").unique().implode()
    passed = frame.filter(~pl.col("row_number").is_in(gone))
    status, message = _summarize(frame.height, quarantined, rules, max_quarantine_fraction)
    return ValidationOutcome(SUITE, passed, quarantined, rules, status, message)


def _verdicts(gx_result: Any) -> dict[str, Any]:
    """Return GX's expectation result per rule name."""
    found = {r.expectation_config.meta["rule"]: r for r in gx_result.results}
    missing = [r.name for r in RULES if r.name not in found]
    if missing:
        raise MinuteValidationMismatch(f"GX returned no result for rule(s) {missing}")
    return found


def _rule_result(
    rule: MinuteRule,
    verdict: Any,
    failures: pl.DataFrame | None,
    height: int,
    problems: dict[str, tuple[int, str]],
) -> RuleResult:
    """Summarize one rule: success from GX, the row count and an example from polars."""
    if verdict.exception_info and verdict.exception_info.get("raised_exception"):
        raise MinuteValidationMismatch(
            f"GX could not evaluate {rule.name}: {verdict.exception_info}"
        )
    if rule.scope == "batch":
        count, detail = problems.get(rule.name, (0, ""))
    elif failures is None:
        count, detail = 0, ("not evaluated: the batch failed a batch rule" if problems else "")
    else:
        count = failures.filter(~pl.col("_kept")).height
        first = failures.row(0, named=True)
        kept = failures.get_column("_kept").sum()
        note = f" ({kept:,} kept as the newest)" if kept else ""
        detail = (
            f"{failures.height:,} rows{note}, e.g. row {first['row_number']} "
            f"{first['symbol']} {first['ts']}: {first['detail']}"
        )
    if verdict.success != (count == 0):
        raise MinuteValidationMismatch(
            f"rule {rule.name}: GX says success={verdict.success} but polars counted {count} "
            "failing rows; the profile and the suite disagree (validations/minute_bars*.py)"
        )
    return RuleResult(rule.name, rule.severity, verdict.success, height, count, detail)


def _quarantine(frame: pl.DataFrame, failures: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Return the rows to quarantine: failing error-rule rows, less those a rule keeps."""
    empty = frame.clear().with_columns(rule=pl.lit(None, pl.String), detail=pl.lit(None, pl.String))
    parts = [
        f.filter(~pl.col("_kept")).drop("_kept")
        for name, f in failures.items()
        if RULES_BY_NAME[name].severity == "error"
    ]
    return pl.concat([empty, *parts])


def _summarize(
    rows: int, quarantined: pl.DataFrame, rules: tuple[RuleResult, ...], limit: float
) -> tuple[Literal["passed", "failed"], str]:
    """Return the status and a one-sentence message for a batch that passed its batch rules."""
    n_quarantined = quarantined.get_column("row_number").n_unique()
    errors = [
        f"{r.unexpected_count:,} {r.rule}"
        for r in rules
        if r.severity == "error" and r.unexpected_count
    ]
    warnings = [
        f"{r.unexpected_count:,} {r.rule}"
        for r in rules
        if r.severity == "warning" and r.unexpected_count
    ]
    message = f"{rows:,} rows: {rows - n_quarantined:,} passed, {n_quarantined:,} quarantined"
    message += f" ({', '.join(errors)})" if errors else ""
    message += f"; warnings: {', '.join(warnings)}" if warnings else ""
    fraction = n_quarantined / rows if rows else 0.0
    if fraction > limit:
        return "failed", f"{message}; {fraction:.1%} quarantined exceeds the {limit:.1%} limit"
    return "passed", message
