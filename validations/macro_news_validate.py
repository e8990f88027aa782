"""Validate a batch against a Contract: what passes, what is quarantined and why.

The same procedure as the daily-bars suite (validations/validate.py), for any Contract: GX runs
the suite and counts; every failing row is listed with a polars mask of the same expectation,
checked against GX's count and sample; error row rules quarantine, warnings only report, and a
failed batch rule rejects the batch.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from validations.contract import SuiteMismatch as ValidationMismatch
from validations.macro_news_contract import Contract, run_suite
from validations.report import rule_result
from validations.result import RuleResult, ValidationOutcome
from validations.rules import Check, Parameters
from validations.unexpected import unexpected

if TYPE_CHECKING:
    import pandas as pd


def validate_contract(
    contract: Contract,
    frame: pl.DataFrame,
    *,
    today: dt.date,
    max_quarantine_fraction: float,
    context_dir: Path | None = None,
    batch_id: str = "adhoc",
) -> ValidationOutcome:
    """Validate ``frame`` (with a unique Int64 row_number) against ``contract``.

    Rows failing an error row rule are quarantined (one row per rule, with ``rule`` and
    ``detail``), except the newest of duplicates; other columns are carried through.
    """
    if not 0 <= max_quarantine_fraction <= 1:
        raise ValueError(
            f"max_quarantine_fraction must be in [0, 1], not {max_quarantine_fraction}"
        )
    if clash := [c for c in ("rule", "detail") if c in frame.columns]:
        raise ValueError(f"the batch has column(s) {clash}, which quarantine adds; rename them")
    params = Parameters(today=today, sessions=())
    gx_result, docs_path = run_suite(
        contract, to_pandas(contract, frame), context_dir=context_dir, batch_id=batch_id
    )
    results = _by_check(contract, gx_result)
    problems = batch_problems(contract, results, frame.schema)
    failures = {} if problems else _failures(contract, frame, results, params)
    rules = tuple(
        rule_result(r, results[r.name], failures.get(r.name), frame.height, problems.get(r.name))
        for r in contract.rules
    )
    quarantined = _quarantine(contract, frame, failures)
    if problems:
        message = "batch rejected, nothing passed: " + "; ".join(problems.values())
        return ValidationOutcome(
            contract.suite, frame.clear(), quarantined, rules, "failed", message, docs_path
        )
    gone = quarantined.get_column("row_number").implode()
    passed = frame.filter(~pl.col("row_number").is_in(gone))
    status, message = _summarize(
        contract, frame.height, quarantined, rules, max_quarantine_fraction
    )
    return ValidationOutcome(contract.suite, passed, quarantined, rules, status, message, docs_path)


def comparable(frame: pl.DataFrame) -> pl.DataFrame:
    """Return ``frame`` as GX compares it: dates and instants as naive UTC datetimes, NaN null."""
    out = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if dtype == pl.Date:
            column = column.cast(pl.Datetime("ns"))
        elif isinstance(dtype, pl.Datetime):
            zoned = column.dt.convert_time_zone("UTC") if dtype.time_zone else column
            column = zoned.dt.replace_time_zone(None).cast(pl.Datetime("ns"))
        elif dtype in (pl.Float32, pl.Float64):
            column = column.fill_nan(None)
        out.append(column)
    return frame.select(out)


def to_pandas(contract: Contract, frame: pl.DataFrame) -> pd.DataFrame:
    """Return the contract's columns for GX: strings as str objects, row_number as the index."""
    checked = ["row_number", *contract.columns]
    data = comparable(frame.select([c for c in checked if c in frame.columns])).to_pandas()
    for name, dtype in frame.schema.items():
        if name in data.columns and dtype == pl.String:
            data[name] = data[name].astype(object).where(data[name].notna(), None)
    if frame.schema.get("row_number") == pl.Int64 and frame["row_number"].null_count() == 0:
        data.index = data["row_number"].to_numpy()
    return data


def batch_problems(
    contract: Contract, results: dict[str, list[Any]], schema: pl.Schema
) -> dict[str, str]:
    """Return what is wrong with the batch as a whole, per failed batch rule, in words."""
    problems: dict[str, str] = {}
    missing = [c for c in ["row_number", *contract.columns] if c not in schema]
    if missing:
        found = ", ".join(schema.names())
        problems["columns_present"] = f"missing columns {', '.join(missing)} (found: {found})"
    checks = contract.rule("column_types").checks
    wrong = [
        f"{c.kwargs['column']} is {schema[c.kwargs['column']]} "
        f"(expected {contract.columns.get(c.kwargs['column'], pl.Int64())})"
        for c, res in zip(checks, results["column_types"], strict=True)
        if not res.success and c.kwargs["column"] in schema
    ]
    if wrong:
        problems["column_types"] = "wrong column types: " + "; ".join(wrong)
    (unique,) = results["row_number_unique"]
    if not unique.success and "row_number" in schema:
        count = unique.result.get("unexpected_count")
        problems["row_number_unique"] = f"row_number is not unique ({count} rows share a value)"
    return problems


def mask(check: Check, params: Parameters) -> pl.Expr:
    """Return True where a row fails ``check`` (GX's semantics: nulls never fail a map check)."""
    kwargs = dict(check.kwargs)
    if check.expectation in ("ExpectColumnValuesToMatchRegex", "ExpectColumnValuesToNotMatchRegex"):
        column = pl.col(kwargs["column"])
        found = column.str.contains(kwargs["regex"])
        wanted = check.expectation == "ExpectColumnValuesToMatchRegex"
        return column.is_not_null() & (~found if wanted else found)
    if check.expectation == "ExpectColumnValueLengthsToBeBetween":
        column = pl.col(kwargs["column"])
        length = column.str.len_chars()
        inside = pl.lit(True)
        if kwargs.get("min_value") is not None:
            inside &= length >= kwargs["min_value"]
        if kwargs.get("max_value") is not None:
            inside &= length <= kwargs["max_value"]
        return column.is_not_null() & ~inside
    return unexpected(check, params)


def _by_check(contract: Contract, gx_result: Any) -> dict[str, list[Any]]:
    """Group GX's expectation results by rule, in the order of the rule's checks."""
    grouped: dict[str, dict[int, Any]] = {rule.name: {} for rule in contract.rules}
    for result in gx_result.results:
        meta = result.expectation_config.meta
        grouped[meta["rule"]][meta["check"]] = result
    return {name: [checks[i] for i in sorted(checks)] for name, checks in grouped.items()}


def _failures(
    contract: Contract, frame: pl.DataFrame, results: dict[str, list[Any]], params: Parameters
) -> dict[str, pl.DataFrame]:
    """Return, per row rule GX failed (warnings too), every failing row of ``frame``."""
    failed = {
        (rule.name, i): res
        for rule in contract.row_rules
        for i, res in enumerate(results[rule.name])
        if not res.success
    }
    checked = comparable(frame)
    masks = {key: mask(contract.rule(key[0]).checks[key[1]], params) for key in failed}
    _verify(checked, masks, failed)
    out = {}
    for name in dict.fromkeys(name for name, _ in failed):
        rule = contract.rule(name)
        fails = checked.select(
            pl.any_horizontal([m for (r, _), m in masks.items() if r == name])
        ).to_series()
        flags = frame.select(
            _detail=rule.detail(params) if rule.detail else pl.lit(rule.description),
            _kept=pl.lit(False) if rule.kept is None else rule.kept,
        )
        out[name] = (
            frame.hstack(flags)
            .filter(fails)
            .select(*frame.columns, rule=pl.lit(name), detail="_detail", _kept="_kept")
        )
    return out


def _verify(
    checked: pl.DataFrame,
    masks: dict[tuple[str, int], pl.Expr],
    results: dict[tuple[str, int], Any],
) -> None:
    """Raise unless each mask flags exactly GX's count of rows, including GX's sample rows."""
    row = pl.col("row_number")
    for key, res in results.items():
        expected = res.result.get("unexpected_count")
        if expected is None:
            raise ValidationMismatch(f"GX could not evaluate {key}: {res.exception_info}")
        sample = [int(i) for i in res.result.get("partial_unexpected_index_list", [])]
        found, sampled = checked.select(
            masks[key].sum().alias("found"), masks[key].filter(row.is_in(sample)).all().alias("s")
        ).row(0)
        if found != expected or not sampled:
            raise ValidationMismatch(
                f"rule {key[0]} check {key[1]}: GX found {expected} failing rows, the polars "
                f"mask {found} (GX's sample rows all in the mask: {sampled}); align "
                "validations/macro_news_validate.mask with the expectation's semantics"
            )


def _quarantine(
    contract: Contract, frame: pl.DataFrame, failures: dict[str, pl.DataFrame]
) -> pl.DataFrame:
    """Return the rows to quarantine: failing error-rule rows, less those a rule keeps."""
    empty = frame.clear().with_columns(rule=pl.lit(None, pl.String), detail=pl.lit(None, pl.String))
    errors = [
        f.filter(~pl.col("_kept")).drop("_kept")
        for name, f in failures.items()
        if contract.rule(name).severity == "error"  # warnings are reported, not quarantined
    ]
    return pl.concat([empty, *errors])


def _summarize(
    contract: Contract,
    rows: int,
    quarantined: pl.DataFrame,
    rules: tuple[RuleResult, ...],
    limit: float,
) -> tuple[Literal["passed", "failed"], str]:
    """Return the status and a one-sentence message for a batch that passed its batch rules."""
    per_rule = dict(quarantined.group_by("rule").len().iter_rows())
    breakdown = ", ".join(
        f"{per_rule[r.name]:,} {r.name}" for r in contract.rules if r.name in per_rule
    )
    n_quarantined = quarantined.get_column("row_number").n_unique()
    message = f"{rows:,} rows: {rows - n_quarantined:,} passed, {n_quarantined:,} quarantined"
    message += f" ({breakdown})" if breakdown else ""
    warnings = [
        f"{r.unexpected_count:,} {r.rule}"
        for r in rules
        if r.severity == "warning" and not r.success
    ]
    message += f"; warnings: {', '.join(warnings)}" if warnings else ""
    fraction = n_quarantined / rows if rows else 0.0
    if fraction > limit:
        return "failed", f"{message}; {fraction:.1%} quarantined exceeds the {limit:.1%} limit"
    return "passed", message
