"""Turn GX's expectation results into rule results, a one-sentence summary and lakehouse rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Literal

import polars as pl
import pyarrow as pa

from validations.bars import POLARS_TYPES, RULES, RULES_BY_NAME
from validations.result import RuleResult, ValidationOutcome
from validations.rules import Rule
from validations.symbol_share import judged_share
from warehouse.schemas import VALIDATION_RESULTS


def _exception(result: Any) -> str | None:
    """Return GX's exception message for a result, whichever shape exception_info has."""
    info = result.exception_info or {}
    found = [info] if "raised_exception" in info else list(info.values())
    messages = [i.get("exception_message") for i in found if i.get("raised_exception")]
    return "; ".join(m or "unknown error" for m in messages) or None


def _missing_columns(results: list[Any], columns: Sequence[str]) -> list[str]:
    (res,) = results
    details = res.result.get("details", {}).get("mismatched", {})
    wanted = RULES_BY_NAME["columns_present"].checks[0].kwargs["column_set"]
    return list(details.get("missing", [c for c in wanted if c not in columns]))


def _wrong_types(results: list[Any], schema: pl.Schema) -> list[str]:
    wrong = []
    for check, res in zip(RULES_BY_NAME["column_types"].checks, results, strict=True):
        column = check.kwargs["column"]
        if res.success or column not in schema:
            continue  # a missing column is columns_present's finding
        expected = " or ".join(POLARS_TYPES[column])
        wrong.append(f"{column} is {schema[column]} (expected {expected})")
    return wrong


def failed_batch_rules(results: dict[str, list[Any]], schema: pl.Schema) -> dict[str, str]:
    """Return what is wrong with the batch as a whole, per failed batch rule, in words.

    A batch rule that failed only because columns are missing is reported once, as missing
    columns.
    """
    columns = list(schema)
    problems: dict[str, str] = {}
    if not all(r.success for r in results["columns_present"]):
        missing = ", ".join(_missing_columns(results["columns_present"], columns))
        problems["columns_present"] = f"missing columns {missing} (found: {', '.join(columns)})"
    if wrong := _wrong_types(results["column_types"], schema):
        problems["column_types"] = "wrong column types: " + "; ".join(wrong)
    (unique,) = results["row_number_unique"]
    if not unique.success and "row_number" in columns:
        count = unique.result.get("unexpected_count") or _exception(unique)
        problems["row_number_unique"] = f"row_number is not unique ({count} rows share a value)"
    return problems


def _row_detail(failures: pl.DataFrame) -> str:
    first = failures.row(0, named=True)
    kept = failures.get_column("_kept").sum()
    kept_note = f" ({kept:,} kept as the newest)" if kept else ""
    return f"{failures.height:,} rows{kept_note}, e.g. row {first['row_number']}: {first['detail']}"


def rule_result(
    rule: Rule, results: list[Any], failures: pl.DataFrame | None, height: int, problem: str | None
) -> RuleResult:
    """Summarize one rule: success and counts from GX, distinct failing rows from ``failures``."""
    success = all(r.success for r in results)
    element_count = max(
        (r.result["element_count"] for r in results if "element_count" in r.result), default=height
    )
    gx_counts = [r.result.get("unexpected_count", 0 if r.success else 1) for r in results]
    if success:
        count, detail = 0, ""
    elif rule.scope == "batch":
        count, detail = sum(gx_counts), problem or "failed because columns are missing"
    elif failures is not None:
        count, detail = failures.height, _row_detail(failures)
    else:
        count, detail = max(gx_counts), "not listed row by row: the batch failed a batch rule"
    return RuleResult(rule.name, rule.severity, success, element_count, count, detail)


def summarize(
    rows: int, passed: int, quarantined: pl.DataFrame, rules: Sequence[RuleResult], limit: float
) -> tuple[Literal["passed", "failed"], str]:
    """Return the status and a one-sentence message for a batch that passed its schema rules."""
    per_rule = dict(quarantined.group_by("rule").len().iter_rows())
    breakdown = ", ".join(f"{per_rule[r.name]:,} {r.name}" for r in RULES if r.name in per_rule)
    n_quarantined = quarantined.get_column("row_number").n_unique()
    message = f"{rows:,} rows: {passed:,} passed, {n_quarantined:,} quarantined"
    message += f" ({breakdown})" if breakdown else ""
    warnings = [
        f"{r.unexpected_count:,} {r.rule}"
        for r in rules
        if r.severity == "warning" and not r.success
    ]
    message += f"; warnings: {', '.join(warnings)}" if warnings else ""
    fraction = judged_share(rows, quarantined)
    if fraction > limit:
        return "failed", f"{message}; {fraction:.1%} quarantined exceeds the {limit:.1%} limit"
    return "passed", message


def rule_rows(
    outcome: ValidationOutcome, *, batch_id: str, validated_at: dt.datetime
) -> pl.DataFrame:
    """Return one meta.validation_results row per rule of ``outcome`` (validated_at in UTC)."""
    if validated_at.tzinfo is None:
        raise ValueError("validated_at must be timezone-aware (UTC)")
    rows = [
        {
            "batch_id": batch_id,
            "suite": outcome.suite,
            "rule": r.rule,
            "severity": r.severity,
            "success": r.success,
            "element_count": r.element_count,
            "unexpected_count": r.unexpected_count,
            "detail": r.detail,
            "validated_at": validated_at.astimezone(dt.UTC),
        }
        for r in outcome.rules
    ]
    table = pa.Table.from_pylist(rows, schema=VALIDATION_RESULTS.arrow_schema())
    return pl.from_arrow(table)
