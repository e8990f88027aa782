"""The rows a check (a GX expectation) finds unexpected, as a polars mask with GX's semantics.

Running expectations row by row through GX costs seconds per few hundred thousand rows, and
listing every failing row through it (result_format COMPLETE) minutes, so the daily-bars rules
are evaluated with these masks and GX validates only their counts (validations/bars_profile.py);
the macro and news suites run GX on the rows and list the failing ones with the masks.
tests/unit/validations/test_bars_gx_semantics.py holds the masks to GX's own counts. The frame
must have NaN already turned into null: pandas, which GX runs on, treats NaN as missing.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from validations.rules import Check, Parameters


def _value(value: Any, params: Parameters) -> Any:
    """Resolve a ``{"$PARAMETER": name}`` kwarg to the run's value (dates, as polars compares)."""
    if isinstance(value, dict) and "$PARAMETER" in value:
        name = value["$PARAMETER"]
        if name == "sessions":
            return pl.Series(name, params.sessions, dtype=pl.Date)
        if name == "today":
            return params.today
        if name == "symbol_pattern":
            return params.symbol_pattern
        raise ValueError(f"unknown suite parameter {name!r}; add it to bars.Parameters")
    return value


def _between(column: str, kwargs: dict[str, Any], params: Parameters) -> pl.Expr:
    col = pl.col(column)
    inside = pl.lit(True)
    low, high = _value(kwargs.get("min_value"), params), _value(kwargs.get("max_value"), params)
    if low is not None:
        inside &= (col > low) if kwargs.get("strict_min") else (col >= low)
    if high is not None:
        inside &= (col < high) if kwargs.get("strict_max") else (col <= high)
    return col.is_not_null() & ~inside


def _pair_greater(kwargs: dict[str, Any]) -> pl.Expr:
    if kwargs.get("ignore_row_if") != "either_value_is_missing":
        raise ValueError("the polars mask implements ignore_row_if='either_value_is_missing' only")
    a, b = pl.col(kwargs["column_A"]), pl.col(kwargs["column_B"])
    ok = (a >= b) if kwargs.get("or_equal") else (a > b)
    return a.is_not_null() & b.is_not_null() & ~ok


def _compound_duplicated(columns: list[str]) -> pl.Expr:
    # GX's default ignore_row_if="all_values_are_missing": rows whose key is entirely null are
    # neither counted nor flagged. Every row of another key is considered, so the key's rows
    # are duplicates exactly when the key repeats.
    considered = pl.any_horizontal([pl.col(c).is_not_null() for c in columns])
    return considered & pl.struct(columns).is_duplicated()


def unexpected(check: Check, params: Parameters) -> pl.Expr:
    """Return a boolean expression: True where the row fails ``check``."""
    kwargs = dict(check.kwargs)
    match check.expectation:
        case "ExpectColumnValuesToNotBeNull":
            return pl.col(kwargs["column"]).is_null()
        case "ExpectColumnValuesToBeBetween":
            return _between(kwargs["column"], kwargs, params)
        case "ExpectColumnPairValuesAToBeGreaterThanB":
            return _pair_greater(kwargs)
        case "ExpectColumnValuesToBeInSet":
            col = pl.col(kwargs["column"])
            values = _value(kwargs["value_set"], params)
            if isinstance(values, pl.Series):
                values = values.implode()  # one list of values, not a value per row
            return col.is_not_null() & ~col.is_in(values)
        case "ExpectColumnValuesToMatchRegex":
            # GX searches str(value) with Python's re (nulls are not checked); the Rust engine
            # agrees on anchored patterns, except that its $ refuses a trailing newline.
            col = pl.col(kwargs["column"])
            pattern = _value(kwargs["regex"], params)
            return col.is_not_null() & ~col.cast(pl.String).str.contains(pattern)
        case "ExpectCompoundColumnsToBeUnique":
            return _compound_duplicated(list(kwargs["column_list"]))
    raise ValueError(
        f"no polars mask for {check.expectation}; add one to validations/unexpected.py"
    )
