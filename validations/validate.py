"""Validate a batch of daily bars against the suite: what passes, what is quarantined and why."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from validations.bars import RULES, RULES_BY_NAME, SUITE
from validations.context import run_suite
from validations.report import failed_batch_rules, rule_result, rule_rows, summarize
from validations.result import ValidationOutcome
from validations.rules import Parameters, Rule
from validations.unexpected import unexpected

if TYPE_CHECKING:
    import pandas as pd


__all__ = ["ValidationMismatch", "rule_rows", "validate_bars"]


class ValidationMismatch(RuntimeError):
    """GX and the polars row listing disagree about which rows fail an expectation."""


def validate_bars(
    frame: pl.DataFrame,
    *,
    today: dt.date,
    exchange: str = "XNYS",
    max_quarantine_fraction: float = 0.05,
    context_dir: Path | None = None,
    batch_id: str = "adhoc",
) -> ValidationOutcome:
    """Validate daily bars; quarantine rows breaking an error rule, keep the last duplicate.

    ``frame`` needs row_number (unique Int64, arrival order), symbol, session, open, high, low,
    close and volume; other columns are carried through. ``today`` bounds the sessions (the
    clock is never read here). With ``context_dir`` the GX result is stored in a file context
    there and shown in its Data Docs site (``docs_path``); without, GX runs ephemerally.
    """
    if not 0 <= max_quarantine_fraction <= 1:
        raise ValueError(
            f"max_quarantine_fraction must be in [0, 1], not {max_quarantine_fraction}"
        )
    if clash := [c for c in ("rule", "detail") if c in frame.columns]:
        raise ValueError(f"the batch has column(s) {clash}, which quarantine adds; rename them")
    params = Parameters.for_frame(frame, today=today, exchange=exchange)
    gx_result, docs_path = run_suite(
        _to_pandas(frame), params.for_gx(), context_dir=context_dir, batch_id=batch_id
    )
    results = _by_check(gx_result)
    problems = failed_batch_rules(results, frame.schema)
    # Rows are listed rule by rule only in a sound batch (columns, types, unique row_number).
    failures = {} if problems else _failures(frame, results, params)
    rules = tuple(
        rule_result(r, results[r.name], failures.get(r.name), frame.height, problems.get(r.name))
        for r in RULES
    )
    quarantined = _quarantine(frame, failures)
    if problems:
        message = "batch rejected, nothing passed: " + "; ".join(problems.values())
        return ValidationOutcome(
            SUITE, frame.clear(), quarantined, rules, "failed", message, docs_path
        )
    gone = quarantined.get_column("row_number").implode()
    passed = frame.filter(~pl.col("row_number").is_in(gone))
    status, message = summarize(
        frame.height, passed.height, quarantined, rules, max_quarantine_fraction
    )
    return ValidationOutcome(SUITE, passed, quarantined, rules, status, message, docs_path)


def _quarantine(frame: pl.DataFrame, failures: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Return the rows to quarantine: failing error-rule rows, less those a rule keeps."""
    empty = frame.clear().with_columns(rule=pl.lit(None, pl.String), detail=pl.lit(None, pl.String))
    return pl.concat(
        [empty]
        + [
            f.filter(~pl.col("_kept")).drop("_kept")
            for name, f in failures.items()
            if RULES_BY_NAME[name].severity == "error"  # warnings are reported, not quarantined
        ]
    )


def _to_pandas(frame: pl.DataFrame) -> pd.DataFrame:
    """Convert for GX: dates as datetime64[ns], symbols as str objects, row_number as index.

    The index makes GX report failing rows by row_number (cheaply, unlike index columns).
    """
    data = frame.to_pandas()
    if frame.schema.get("session") == pl.Date:
        data["session"] = data["session"].astype("datetime64[ns]")
    if frame.schema.get("symbol") == pl.String:
        data["symbol"] = data["symbol"].astype(object)
    if frame.schema.get("row_number") == pl.Int64 and frame["row_number"].null_count() == 0:
        data.index = data["row_number"].to_numpy()
    return data


def _by_check(gx_result: Any) -> dict[str, list[Any]]:
    """Group GX's expectation results by rule, in the order of the rule's checks."""
    grouped: dict[str, dict[int, Any]] = {rule.name: {} for rule in RULES}
    for result in gx_result.results:
        meta = result.expectation_config.meta
        grouped[meta["rule"]][meta["check"]] = result
    return {name: [checks[i] for i in sorted(checks)] for name, checks in grouped.items()}


def _failures(
    frame: pl.DataFrame, results: dict[str, list[Any]], params: Parameters
) -> dict[str, pl.DataFrame]:
    """Return, per row rule GX failed (warnings too), every failing row of ``frame``.

    Each frame has the input columns plus ``rule``, ``detail`` and ``_kept`` (failing rows
    the rule keeps anyway: the newest duplicate).
    """
    failed = {
        (rule.name, i): res
        for rule in RULES
        if rule.scope == "row"
        for i, res in enumerate(results[rule.name])
        if not res.success
    }
    floats = [c for c, t in frame.schema.items() if t in (pl.Float32, pl.Float64)]
    checked = frame.with_columns(pl.col(floats).fill_nan(None))
    masks = {key: unexpected(RULES_BY_NAME[key[0]].checks[key[1]], params) for key in failed}
    _verify(checked, masks, failed)
    out = {}
    for name in dict.fromkeys(name for name, _ in failed):
        fails = pl.any_horizontal([m for (rule, _), m in masks.items() if rule == name])
        out[name] = _rows(frame, checked, RULES_BY_NAME[name], fails, params)
    return out


def _rows(
    frame: pl.DataFrame, checked: pl.DataFrame, rule: Rule, fails: pl.Expr, params: Parameters
) -> pl.DataFrame:
    if rule.detail is None:
        raise ValueError(f"row rule {rule.name} has no detail expression (validations/bars.py)")
    flags = checked.select(
        _fails=fails,
        _detail=rule.detail(params),
        _kept=pl.lit(False) if rule.kept is None else rule.kept,
    )
    return (
        frame.hstack(flags)
        .filter(pl.col("_fails"))
        .select(*frame.columns, rule=pl.lit(rule.name), detail="_detail", _kept="_kept")
    )


def _verify(
    checked: pl.DataFrame,
    masks: dict[tuple[str, int], pl.Expr],
    results: dict[tuple[str, int], Any],
) -> None:
    """Raise unless each mask flags exactly GX's count of rows, including GX's sample rows."""
    if not masks:
        return
    samples = {
        key: [int(i) for i in res.result.get("partial_unexpected_index_list", [])]
        for key, res in results.items()
    }
    row = pl.col("row_number")
    stats = checked.select(
        *[m.sum().alias(f"n{i}") for i, m in enumerate(masks.values())],
        *[
            m.filter(row.is_in(samples[k])).all().alias(f"s{i}")
            for i, (k, m) in enumerate(masks.items())
        ],
    ).row(0, named=True)
    for i, (key, res) in enumerate(results.items()):
        expected = res.result.get("unexpected_count")
        if expected is None:
            raise ValidationMismatch(f"GX could not evaluate {key}: {res.exception_info}")
        if stats[f"n{i}"] != expected or not stats[f"s{i}"]:
            raise ValidationMismatch(
                f"rule {key[0]} check {key[1]}: GX found {expected} failing rows, the polars mask "
                f"{stats[f'n{i}']} (GX's sample rows all in the mask: {stats[f's{i}']}); "
                "align validations/unexpected.py with the expectation's semantics"
            )
