"""The daily-bars data contract ("daily_bars"): its rules and the GX suite built from them.

Each rule has a short stable name (stored in quarantine and in meta.validation_results), a
severity, a scope and its checks: GX expectations (class name and kwargs, see
:mod:`validations.rules`) whose semantics polars applies to every row
(validations/unexpected.py). The exchange's sessions and ``today`` are parameters of a run.
Great Expectations validates the batch's per-symbol profile of failing-row counts, one
expectation per rule (:func:`build_suite`), and its verdict decides each rule.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import polars as pl

from validations.contract import profile_suite
from validations.rules import Check, Parameters, Rule
from validations.stale_runs import stale_run_detail, stale_run_mask

if TYPE_CHECKING:
    from great_expectations import ExpectationSuite

SUITE = "daily_bars"
KEYS = ("symbol", "session")
PRICES = ("open", "high", "low", "close")
SYMBOL_SHARE = "symbol_quarantine_share"

# The contract in polars types (as the ingest flow builds frames; see flows/sources/base.py).
POLARS_TYPES: dict[str, tuple[str, ...]] = {
    "row_number": ("Int64",),
    "symbol": ("String",),
    "session": ("Date",),
    **{p: ("Float64",) for p in PRICES},
    "volume": ("Float64", "Int64"),
}
# The same as the pandas dtypes GX sees: validate._to_pandas turns Date into datetime64[ns] and
# String into object (str values).
COLUMN_TYPES: dict[str, tuple[str, ...]] = {
    "row_number": ("int64",),
    "symbol": ("str",),
    "session": ("datetime64[ns]",),
    **{p: ("float64",) for p in PRICES},
    "volume": ("float64", "int64"),
}


def _checks(expectation: str, *kwargs: dict[str, object]) -> tuple[Check, ...]:
    return tuple(Check(expectation, k) for k in kwargs)


def _not_null(columns: tuple[str, ...]) -> tuple[Check, ...]:
    return _checks("ExpectColumnValuesToNotBeNull", *({"column": c} for c in columns))


def _null_detail(columns: tuple[str, ...]) -> Callable[[Parameters], pl.Expr]:
    names = pl.concat_str(
        [pl.when(pl.col(c).is_null()).then(pl.lit(c)) for c in columns],
        separator=", ",
        ignore_nulls=True,
    )
    return lambda _: pl.lit("null ") + names


def _order(name: str, small: str, big: str) -> Rule:
    # Rows with a missing price are the not-null rules' business, not this one's.
    pair = {"column_A": big, "column_B": small, "or_equal": True}
    checks = _checks(
        "ExpectColumnPairValuesAToBeGreaterThanB",
        {**pair, "ignore_row_if": "either_value_is_missing"},
    )
    detail = pl.format(f"{small} {{}} > {big} {{}}", pl.col(small), pl.col(big))
    return Rule(name, "error", "row", f"{small} <= {big}", checks, lambda _: detail)


def _positive_prices_detail(_: Parameters) -> pl.Expr:
    parts = [pl.when(pl.col(p) <= 0).then(pl.format(f"{p} {{}} <= 0", pl.col(p))) for p in PRICES]
    return pl.concat_str(parts, separator=", ", ignore_nulls=True)


def _duplicate_detail(_: Parameters) -> pl.Expr:
    def newest(c: str) -> pl.Expr:
        return pl.col(c).sort_by("row_number").last().over(KEYS)

    differ = pl.concat_str(
        [
            pl.when(pl.col(c).ne_missing(newest(c))).then(
                pl.format(f"{c} {{}} vs {{}}", pl.col(c), newest(c))
            )
            for c in (*PRICES, "volume")
        ],
        separator=", ",
        ignore_nulls=True,
    )
    return pl.format("superseded by row {}", newest("row_number")) + (
        pl.when(differ != "").then(pl.lit(", values differ: ") + differ).otherwise(pl.lit(""))
    )


def _session_detail(_: Parameters) -> pl.Expr:
    day = pl.col("session").dt.strftime("%Y-%m-%d (%a)")
    return pl.format("{} is not a trading session", day)


def _finite_detail(_: Parameters) -> pl.Expr:
    parts = [
        pl.when(pl.col(c).is_infinite()).then(pl.format(f"{c} {{}}", pl.col(c)))
        for c in (*PRICES, "volume")
    ]
    return pl.concat_str(parts, separator=", ", ignore_nulls=True)


def _symbol_detail(p: Parameters) -> pl.Expr:
    shown = pl.col("symbol").str.slice(0, 40)
    more = pl.when(pl.col("symbol").str.len_chars() > 40).then(pl.lit("...")).otherwise(pl.lit(""))
    size = pl.col("symbol").str.len_chars()
    return pl.format("symbol {}{} ({} characters) does not match ", shown, more, size) + pl.lit(
        p.symbol_pattern
    )


_BETWEEN = "ExpectColumnValuesToBeBetween"
_FLOAT_MAX = sys.float_info.max  # between -max and max: every float but the infinities

RULES: tuple[Rule, ...] = (
    Rule(
        "columns_present",
        "error",
        "batch",
        "the bar columns are present",
        _checks(
            "ExpectTableColumnsToMatchSet", {"column_set": list(COLUMN_TYPES), "exact_match": False}
        ),
    ),
    Rule(
        "column_types",
        "error",
        "batch",
        "the bar columns have their declared types",
        _checks(
            "ExpectColumnValuesToBeInTypeList",
            *({"column": c, "type_list": list(t)} for c, t in COLUMN_TYPES.items()),
        ),
    ),
    Rule(
        "row_number_unique",
        "error",
        "batch",
        "row_number identifies a row of the batch",
        _checks("ExpectColumnValuesToBeUnique", {"column": "row_number"}),
    ),
    Rule(
        "keys_not_null", "error", "row", "symbol, session set", _not_null(KEYS), _null_detail(KEYS)
    ),
    Rule(
        "symbol_pattern",
        "error",
        "row",
        "symbol matches the asset class's declared pattern (QUANTLAKE_VALIDATION__SYMBOL_PATTERNS)",
        _checks(
            "ExpectColumnValuesToMatchRegex",
            {"column": "symbol", "regex": {"$PARAMETER": "symbol_pattern"}},
        ),
        _symbol_detail,
    ),
    Rule("prices_not_null", "error", "row", "prices set", _not_null(PRICES), _null_detail(PRICES)),
    Rule(
        "volume_not_null",
        "error",
        "row",
        "volume set",
        _not_null(("volume",)),
        _null_detail(("volume",)),
    ),
    Rule(
        "prices_positive",
        "error",
        "row",
        "prices > 0",
        _checks(_BETWEEN, *({"column": p, "min_value": 0, "strict_min": True} for p in PRICES)),
        _positive_prices_detail,
    ),
    Rule(
        "values_finite",
        "error",
        "row",
        "prices and volume are finite (an infinity is a broken feed, not a price)",
        _checks(
            _BETWEEN,
            *(
                {"column": c, "min_value": -_FLOAT_MAX, "max_value": _FLOAT_MAX}
                for c in (*PRICES, "volume")
            ),
        ),
        _finite_detail,
    ),
    _order("low_le_open", "low", "open"),
    _order("low_le_close", "low", "close"),
    _order("open_le_high", "open", "high"),
    _order("close_le_high", "close", "high"),
    _order("low_le_high", "low", "high"),
    Rule(
        "volume_nonnegative",
        "error",
        "row",
        "volume >= 0",
        _checks(_BETWEEN, {"column": "volume", "min_value": 0}),
        lambda _: pl.format("volume {} < 0", pl.col("volume")),
    ),
    Rule(
        "volume_positive",
        "warning",
        "row",
        "volume > 0 (zero-volume bars happen, e.g. placeholders; worth a look, not a rejection)",
        _checks(_BETWEEN, {"column": "volume", "min_value": 0, "strict_min": True}),
        lambda _: pl.format("volume {}", pl.col("volume")),
    ),
    Rule(
        "unique_symbol_session",
        "error",
        "row",
        "one bar per (symbol, session); the last one received wins",
        _checks("ExpectCompoundColumnsToBeUnique", {"column_list": list(KEYS)}),
        _duplicate_detail,
        kept=pl.col("row_number") == pl.col("row_number").max().over(KEYS),
    ),
    Rule(
        "trading_session",
        "error",
        "row",
        "session is a trading day of the exchange",
        _checks(
            "ExpectColumnValuesToBeInSet",
            {"column": "session", "value_set": {"$PARAMETER": "sessions"}},
        ),
        _session_detail,
    ),
    Rule(
        "session_not_future",
        "error",
        "row",
        "session is not after today (the ingest passes the last session closed at its time: a "
        "bar of a session still trading, or of one to come, is not a daily bar)",
        _checks(_BETWEEN, {"column": "session", "max_value": {"$PARAMETER": "today"}}),
        lambda p: pl.format("session {} is after today {}", pl.col("session"), pl.lit(p.today)),
    ),
    Rule(
        "stale_run",
        "error",
        "row",
        "not placeholder history: no run of QUANTLAKE_VALIDATION__STALE_RUN_BARS zero-volume bars "
        "each repeating the open, high, low and close before it",
        (),
        stale_run_detail,
        mask=stale_run_mask,
    ),
    Rule(
        SYMBOL_SHARE,
        "error",
        "row",
        "no symbol has more than the quarantine limit of its rows quarantined (its other rows "
        "are quarantined too: one broken symbol can neither hide in a large batch nor fail the "
        "others; placeholder runs do not count)",
        (),
    ),
)

RULES_BY_NAME: dict[str, Rule] = {r.name: r for r in RULES}


def build_suite() -> ExpectationSuite:
    """Return the daily-bars suite: per rule, its count on the batch profile must be 0.

    GX validates the profile (validations/bars_profile.py): one row per symbol with, per rule,
    how many of the symbol's rows break it; each expectation's meta names its rule and severity.
    """
    notes = "quantlake daily-bars contract, checked on a per-symbol profile of the batch"
    return profile_suite(SUITE, RULES, notes=notes)
