"""The daily-bars rules evaluated in polars: batch findings, row masks, failing rows, the profile.

Each check of a rule (validations/bars.py) is a polars mask with the semantics of the GX
expectation it names (validations/unexpected.py). The counts are those GX reported when it ran
the checks on the rows itself: a row rule counts the distinct rows failing any of its checks
(every row of a duplicated key included, the kept newest one too), a check GX could not run (a
missing or wrongly typed column) counts 1. The profile GX validates has one row per symbol with,
per rule, the count of that symbol's failing rows (per batch rule, the batch's count).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from validations.bars import COLUMN_TYPES, POLARS_TYPES, RULES, RULES_BY_NAME
from validations.rules import Check, Parameters, Rule
from validations.unexpected import unexpected

NULL_SYMBOL = "<no symbol>"
_COMPARISONS = {
    "ExpectColumnValuesToBeBetween",
    "ExpectColumnPairValuesAToBeGreaterThanB",
    "ExpectColumnValuesToBeInSet",
}


@dataclass(frozen=True)
class BatchFindings:
    """The batch rules' counts, and in words what is wrong with the batch as a whole."""

    counts: dict[str, int]
    problems: dict[str, str]


def _accepted(column: str, dtype: pl.DataType, nulls: int) -> bool:
    """Return whether GX took the column's type: an integer column with nulls became float64."""
    allowed = POLARS_TYPES[column]
    if dtype == pl.Null:
        return True  # no value to check: GX type-checks an all-null column's values, of which none
    if dtype.is_integer() and nulls:
        return "Float64" in allowed
    return str(dtype) in allowed


def _type_words(column: str, dtype: pl.DataType, nulls: int) -> str:
    note = " with nulls" if str(dtype) in POLARS_TYPES[column] and nulls else ""
    return f"{column} is {dtype}{note} (expected {' or '.join(POLARS_TYPES[column])})"


def batch_findings(frame: pl.DataFrame) -> BatchFindings:
    """Return the columns_present, column_types and row_number_unique counts and problems."""
    schema, problems = frame.schema, {}
    missing = sorted(c for c in COLUMN_TYPES if c not in schema)
    if missing:
        found = ", ".join(schema)
        problems["columns_present"] = f"missing columns {', '.join(missing)} (found: {found})"
    present = [c for c in COLUMN_TYPES if c in schema]
    nulls = {c: frame.get_column(c).null_count() for c in present}
    wrong = [c for c in present if not _accepted(c, schema[c], nulls[c])]
    if wrong:
        words = "; ".join(_type_words(c, schema[c], nulls[c]) for c in wrong)
        problems["column_types"] = f"wrong column types: {words}"
    shared = 1  # GX could not run the check without the column
    if "row_number" in schema:
        numbers = checked_frame(frame.select("row_number")).get_column("row_number")
        shared = int(numbers.drop_nulls().is_duplicated().sum())
        if shared:
            problems["row_number_unique"] = (
                f"row_number is not unique ({shared} rows share a value)"
            )
    counts = {
        "columns_present": int(bool(missing)),
        "column_types": len(missing) + len(wrong),
        "row_number_unique": shared,
    }
    return BatchFindings(counts, problems)


def checked_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Return the frame the masks and details read: NaN as null, as pandas (GX's engine) has it.

    In one chunk: polars 2.1 panics formatting columns of a filtered multi-chunk frame.
    """
    floats = [c for c, t in frame.schema.items() if t in (pl.Float32, pl.Float64)]
    return frame.with_columns(pl.col(floats).fill_nan(None)).rechunk()


def _columns(check: Check) -> list[str]:
    kwargs = check.kwargs
    if "column_list" in kwargs:
        return list(kwargs["column_list"])
    return [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]


def _evaluable(check: Check, schema: pl.Schema) -> bool:
    """Return whether GX could run ``check``: its columns exist and compare as their type."""
    columns = _columns(check)
    if any(c not in schema for c in columns):
        return False
    if check.expectation not in _COMPARISONS:
        return True  # null and duplicate checks run on any type
    return all(
        schema[c] == pl.Date if "Date" in POLARS_TYPES[c] else schema[c].is_numeric()
        for c in columns
    )


def rejected_counts(checked: pl.DataFrame, params: Parameters) -> dict[str, int]:
    """Return each row rule's count in a batch a batch rule rejected: its largest check count."""
    row_rules = [r for r in RULES if r.scope == "row"]
    exprs, keys = [], []
    for rule in row_rules:
        for i, check in enumerate(rule.checks):
            if _evaluable(check, checked.schema):
                exprs.append(unexpected(check, params).sum().alias(f"{rule.name}/{i}"))
                keys.append((rule.name, i))
    sums = checked.select(exprs).row(0, named=True) if exprs else {}
    counts = {}
    for rule in row_rules:
        per_check = [
            int(sums[f"{rule.name}/{i}"]) if (rule.name, i) in keys else 1
            for i in range(len(rule.checks))
        ]
        # Rules over a symbol's neighbouring bars are not evaluated in a rejected batch.
        counts[rule.name] = max(per_check, default=0)
    return counts


def rule_masks(checked: pl.DataFrame, params: Parameters) -> pl.DataFrame:
    """Return one boolean column per row rule (True: the row fails it), plus ``symbol``.

    A rule decided after the others (no checks, no mask) has no column yet.
    """
    row_rules = [r for r in RULES if r.scope == "row" and (r.checks or r.mask is not None)]
    return checked.select(
        pl.col("symbol").fill_null(NULL_SYMBOL),
        *[
            rule.mask(checked, params).alias(rule.name)
            if rule.mask is not None
            else pl.any_horizontal([unexpected(c, params) for c in rule.checks]).alias(rule.name)
            for rule in row_rules
        ],
    )


def failing_rows(
    frame: pl.DataFrame, checked: pl.DataFrame, masks: pl.DataFrame, params: Parameters
) -> dict[str, pl.DataFrame]:
    """Return, per row rule with failures, its failing rows: input columns, rule, detail, _kept.

    Details and kept flags read the NaN-free rows, and only the failing ones: the one window
    they use (the rows of a duplicated key) lies wholly among them.
    """
    out = {}
    for rule in (r for r in RULES if r.scope == "row" and r.name in masks.columns):
        fails = masks.get_column(rule.name)
        if fails.any():
            out[rule.name] = _rows(frame.filter(fails), checked.filter(fails), rule, params)
    return out


def _rows(
    rows: pl.DataFrame, checked: pl.DataFrame, rule: Rule, params: Parameters
) -> pl.DataFrame:
    if rule.detail is None:
        raise ValueError(f"row rule {rule.name} has no detail expression (validations/bars.py)")
    flags = checked.select(
        detail=rule.detail(params), _kept=pl.lit(False) if rule.kept is None else rule.kept
    )
    return rows.with_columns(rule=pl.lit(rule.name)).hstack(flags)


def profile(masks: pl.DataFrame | None, counts: dict[str, int]) -> pl.DataFrame:
    """Return the per-symbol profile GX validates; one row of batch counts without ``masks``.

    ``counts`` holds the batch rules' counts (and, for a rejected batch, every rule's).
    """
    batch = {name: pl.lit(counts.get(name, 0), pl.Int64) for name in RULES_BY_NAME}
    if masks is None or masks.is_empty():
        return pl.DataFrame({"symbol": [NULL_SYMBOL]}).with_columns(**batch)
    row_rules = [c for c in masks.columns if c != "symbol"]
    return (
        masks.group_by("symbol")
        .agg(pl.col(row_rules).sum().cast(pl.Int64))
        .sort("symbol")
        .with_columns(**{n: e for n, e in batch.items() if n not in row_rules})
        .select("symbol", *RULES_BY_NAME)
    )
