"""A data contract checked on a batch profile: the GX suite, its verdicts, the quarantine.

A large batch is checked in polars and Great Expectations validates its profile: one row per
symbol with, per rule, the count of rows breaking it (a column named after the rule). The suite
holds one expectation per rule, "the count is 0", built in one go; GX's verdict decides each
rule and must agree with the counts. Running and storing it: validations/contract_run.py.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import polars as pl

if TYPE_CHECKING:
    from great_expectations import ExpectationSuite


class DeclaredRule(Protocol):
    """What a profile suite needs to know of a rule."""

    name: str
    severity: str
    scope: str
    description: str


def profile_suite(name: str, rules: Sequence[DeclaredRule], *, notes: str) -> ExpectationSuite:
    """Return a suite with one expectation per rule: the rule's profile column is always 0."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    # Built in one go: add_expectation on a suite the context already stores saves it each time.
    expectations = [
        gxe.ExpectColumnValuesToBeBetween(
            column=r.name,
            min_value=0,
            max_value=0,
            meta={"rule": r.name, "severity": r.severity, "scope": r.scope},
            description=f"{r.name} ({r.severity}): {r.description}",
        )
        for r in rules
    ]
    # What the code declares, so a stored suite can be reused without comparing expectations.
    declared = [name, notes, *(e.configuration.to_json_dict() for e in expectations)]
    fingerprint = hashlib.sha256(json.dumps(declared, sort_keys=True).encode()).hexdigest()[:16]
    meta = {"notes": notes, "fingerprint": fingerprint}
    return gx.ExpectationSuite(name=name, expectations=expectations, meta=meta)


class SuiteMismatch(RuntimeError):
    """GX's verdict on a profile disagrees with the polars counts the profile was built from."""


def verdicts(gx_result: Any, profile: pl.DataFrame, rules: Sequence[str]) -> dict[str, bool]:
    """Return GX's success per rule; raise unless it is "every count in the column is 0"."""
    found = {r.expectation_config.meta["rule"]: r for r in gx_result.results}
    missing = [name for name in rules if name not in found]
    if missing:
        raise SuiteMismatch(f"GX returned no result for rule(s) {missing}; is the suite stale?")
    out = {}
    for name in rules:
        result, clean = found[name], bool((profile.get_column(name) == 0).all())
        info = result.exception_info or {}
        if info.get("raised_exception"):
            raise SuiteMismatch(f"GX could not evaluate rule {name}: {info}")
        if result.success != clean:
            raise SuiteMismatch(
                f"rule {name}: GX says success={result.success} but the polars counts are "
                f"{'all' if clean else 'not all'} 0; the profile and the suite disagree"
            )
        out[name] = result.success
    return out


def quarantine(
    frame: pl.DataFrame, failures: dict[str, pl.DataFrame], errors: set[str]
) -> pl.DataFrame:
    """Return the rows to quarantine: the failing rows of error rules, less those kept.

    ``failures`` maps a rule to its failing rows (``frame``'s columns, rule, detail, _kept).
    """
    empty = frame.clear().with_columns(rule=pl.lit(None, pl.String), detail=pl.lit(None, pl.String))
    parts = [f.filter(~pl.col("_kept")).drop("_kept") for n, f in failures.items() if n in errors]
    return pl.concat([empty, *parts])
