"""Validate a batch of daily bars: what passes, what is quarantined and why.

The rules are evaluated in polars (validations/bars_profile.py: a few hundred thousand rows take
a fraction of a second); Great Expectations validates the batch's per-symbol profile of failing
counts and its verdict decides each rule, stored with the suite and shown in Data Docs. A batch
rule that fails rejects the batch; rows breaking an error rule are quarantined (one row per rule,
with a readable detail); the newest of duplicated rows is kept; warnings are counted and
described, never quarantined.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl

from validations.bars import RULES, RULES_BY_NAME, SUITE, SYMBOL_SHARE, build_suite
from validations.bars_profile import (
    BatchFindings,
    batch_findings,
    checked_frame,
    failing_rows,
    profile,
    rejected_counts,
    rule_masks,
)
from validations.contract import SuiteMismatch, quarantine, verdicts
from validations.contract_run import run_profile_suite
from validations.docs import publish_bar_docs
from validations.report import rule_rows, summarize
from validations.result import RuleResult, ValidationOutcome
from validations.rules import STALE_RUN_BARS, US_EQUITY_SYMBOL, Parameters, Rule
from validations.symbol_share import over_limit_rows

__all__ = ["ValidationMismatch", "publish_bar_docs", "rule_rows", "validate_bars"]

ValidationMismatch = SuiteMismatch  # the name callers of validate_bars know
_DATASOURCE = "quantlake_pandas"
_ASSET = "daily_bar_profiles"
_MISSING = "failed because columns are missing"
_REJECTED = "not listed row by row: the batch failed a batch rule"
_ERRORS = {r.name for r in RULES if r.severity == "error"}  # warnings are not quarantined


def validate_bars(
    frame: pl.DataFrame,
    *,
    today: dt.date,
    exchange: str = "XNYS",
    max_quarantine_fraction: float = 0.05,
    context_dir: Path | None = None,
    batch_id: str = "adhoc",
    render_docs: bool = True,
    symbol_pattern: str = US_EQUITY_SYMBOL,
    stale_run_bars: int = STALE_RUN_BARS,
) -> ValidationOutcome:
    """Validate daily bars; quarantine rows breaking an error rule, keep the last duplicate.

    ``frame`` needs row_number (unique Int64, arrival order), symbol, session, open, high, low,
    close and volume; other columns are carried through. ``today`` bounds the sessions (the
    clock is never read here). Symbols must match ``symbol_pattern``; ``stale_run_bars``
    repeated zero-volume bars are placeholder history. ``max_quarantine_fraction`` holds for
    the batch (it fails above it) and for each symbol (its rows are all quarantined above it;
    see validations/symbol_share.py). With ``context_dir`` the GX result is stored in a file context
    there and, unless ``render_docs`` is False, its Data Docs page is rendered (``docs_path``);
    with False, call :func:`publish_bar_docs` later (after the commit: it is presentation).
    Without ``context_dir`` GX runs ephemerally.
    """
    if not 0 <= max_quarantine_fraction <= 1:
        raise ValueError(
            f"max_quarantine_fraction must be in [0, 1], not {max_quarantine_fraction}"
        )
    if clash := [c for c in ("rule", "detail") if c in frame.columns]:
        raise ValueError(f"the batch has column(s) {clash}, which quarantine adds; rename them")
    findings = batch_findings(frame)
    params = Parameters.for_frame(
        frame,
        today=today,
        exchange=exchange,
        symbol_pattern=symbol_pattern,
        stale_run_bars=stale_run_bars,
    )
    facts, failures, counts = _evaluate(frame, findings, params, limit=max_quarantine_fraction)
    gx_result, docs_path = _run(facts, context_dir=context_dir, batch_id=batch_id, docs=render_docs)
    success = verdicts(gx_result, facts, list(RULES_BY_NAME))
    rules = tuple(
        _rule_result(r, success[r.name], counts, failures.get(r.name), findings.problems, frame)
        for r in RULES
    )
    quarantined = quarantine(frame, failures, _ERRORS)
    if findings.problems:
        message = "batch rejected, nothing passed: " + "; ".join(findings.problems.values())
        return ValidationOutcome(
            SUITE, frame.clear(), quarantined, rules, "failed", message, docs_path
        )
    gone = quarantined.get_column("row_number").implode()
    passed = frame.filter(~pl.col("row_number").is_in(gone))
    status, message = summarize(
        frame.height, passed.height, quarantined, rules, max_quarantine_fraction
    )
    return ValidationOutcome(SUITE, passed, quarantined, rules, status, message, docs_path)


def _evaluate(
    frame: pl.DataFrame, findings: BatchFindings, params: Parameters, *, limit: float
) -> tuple[pl.DataFrame, dict[str, pl.DataFrame], dict[str, int]]:
    """Return the profile, each row rule's failing rows and every rule's count."""
    checked = checked_frame(frame)
    counts = dict(findings.counts)
    if findings.problems:  # rows are listed rule by rule only in a sound batch
        counts |= rejected_counts(checked, params)
        return profile(None, counts), {}, counts
    masks = rule_masks(checked, params)
    failures = failing_rows(frame, checked, masks, params)
    # The per-symbol limit reads what the other rules quarantine, so it is decided last.
    over = over_limit_rows(frame, quarantine(frame, failures, _ERRORS), limit=limit)
    if not over.is_empty():
        failures[SYMBOL_SHARE] = over
    taken = over.get_column("row_number").implode()
    masks = masks.with_columns(frame.select(pl.col("row_number").is_in(taken).alias(SYMBOL_SHARE)))
    return profile(masks, counts), failures, counts


def _run(
    facts: pl.DataFrame, *, context_dir: Path | None, batch_id: str, docs: bool
) -> tuple[Any, str | None]:
    data = facts.to_pandas()
    data.index = data["symbol"].to_numpy()  # GX then lists failing rules' symbols by name
    return run_profile_suite(
        data,
        build_suite(),
        datasource=_DATASOURCE,
        asset=_ASSET,
        context_dir=context_dir,
        batch_id=batch_id,
        render_docs=docs,
    )


def _rule_result(
    rule: Rule,
    success: bool,
    counts: dict[str, int],
    failures: pl.DataFrame | None,
    problems: dict[str, str],
    frame: pl.DataFrame,
) -> RuleResult:
    """Summarize one rule: success from GX, counts and an example from polars."""
    if success:
        count, detail = 0, ""
    elif rule.scope == "batch":
        count, detail = counts[rule.name], problems.get(rule.name, _MISSING)
    elif failures is not None:
        count, detail = failures.height, _row_detail(failures)
    else:
        count, detail = counts[rule.name], _REJECTED
    return RuleResult(rule.name, rule.severity, success, frame.height, count, detail)


def _row_detail(failures: pl.DataFrame) -> str:
    first = failures.row(0, named=True)
    kept = failures.get_column("_kept").sum()
    kept_note = f" ({kept:,} kept as the newest)" if kept else ""
    return f"{failures.height:,} rows{kept_note}, e.g. row {first['row_number']}: {first['detail']}"
