"""The minute-bars data contract ("minute_bars"): its rules and the GX suite built from them.

A minute batch can hold millions of rows, so each row rule is a polars mask over the batch and
Great Expectations checks the batch's profile: one row per symbol with the count of rows failing
each rule (validations/minute_bars_profile.py). GX records one expectation per rule and is what
decides success; the masks list the failing rows for quarantine. See docs in
validations/minute_bars_validate.py for how a batch passes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

import polars as pl

from validations.minute_bars_phases import ASSET_CLASSES
from validations.result import Severity

if TYPE_CHECKING:
    from great_expectations import ExpectationSuite

SUITE = "minute_bars"
KEYS = ("symbol", "ts")
PRICES = ("open", "high", "low", "close")
VALUES = (*PRICES, "volume", "vwap", "trade_count")
# The contract in polars types (the raw.minute_bars columns the ingest flow validates).
POLARS_TYPES: dict[str, pl.DataType] = {
    "row_number": pl.Int64(),
    "symbol": pl.String(),
    "ts": pl.Datetime("us", "UTC"),
    "asset_class": pl.String(),
    "session": pl.Date(),
    "market_phase": pl.String(),
    **{p: pl.Float64() for p in PRICES},
    "volume": pl.Float64(),
}


# What a symbol of each asset class looks like (quantlake.settings.sources.SYMBOL_PATTERNS).
SYMBOL_PATTERNS: Mapping[str, str] = MappingProxyType(
    {"us_equity": r"^[A-Z][A-Z0-9.\-]{0,9}$", "crypto": r"^[A-Z0-9]{2,10}/[A-Z0-9]{2,10}$"}
)


@dataclass(frozen=True)
class MinuteParameters:
    """The run's parameters: the instant validation happens at, the jump threshold and the
    pattern a symbol of each asset class matches."""

    now: dt.datetime
    max_jump: float = 0.10
    symbol_patterns: Mapping[str, str] = field(default_factory=lambda: SYMBOL_PATTERNS)


def _symbol_fails(p: MinuteParameters) -> pl.Expr:
    matches = [
        (pl.col("asset_class") == kind) & pl.col("symbol").str.contains(pattern)
        for kind, pattern in p.symbol_patterns.items()
    ]
    known = pl.col("asset_class").is_in(list(p.symbol_patterns))
    return (pl.col("symbol").is_not_null() & known & ~pl.any_horizontal(matches)).fill_null(False)


def _symbol_detail(p: MinuteParameters) -> pl.Expr:
    pattern = pl.col("asset_class").replace_strict(dict(p.symbol_patterns), default="")
    shown = pl.col("symbol").str.slice(0, 40)
    return pl.format("{} symbol {} does not match {}", pl.col("asset_class"), shown, pattern)


def _infinite(_: MinuteParameters) -> pl.Expr:
    return pl.any_horizontal([pl.col(c).is_infinite() for c in (*PRICES, "volume")]).fill_null(
        False
    )


def _infinite_detail(_: MinuteParameters) -> pl.Expr:
    parts = [
        pl.when(pl.col(c).is_infinite()).then(pl.format(f"{c} {{}}", pl.col(c)))
        for c in (*PRICES, "volume")
    ]
    return pl.concat_str(parts, separator=", ", ignore_nulls=True)


@dataclass(frozen=True)
class MinuteRule:
    """A named rule. Row rules have ``fails`` (True where a row breaks it) and ``detail``.

    The frame they see is sorted by symbol, ts, row_number and has the helper columns
    ``_session``/``_phase`` (recomputed from the calendar), ``_prev_close``/``_prev_ts`` (the
    symbol's previous bar) and ``_dup`` (the row shares its key with another). ``kept`` marks
    failing rows kept anyway (the newest of a set of duplicates); it and ``detail`` are
    evaluated on the failing rows only, so their windows must stay within those rows.
    """

    name: str
    severity: Severity
    scope: Literal["batch", "row"]
    description: str
    fails: Callable[[MinuteParameters], pl.Expr] | None = None
    detail: Callable[[MinuteParameters], pl.Expr] | None = None
    kept: pl.Expr | None = None


def _nulls(columns: tuple[str, ...]) -> tuple[Callable, Callable]:
    def fails(_: MinuteParameters) -> pl.Expr:
        return pl.any_horizontal([pl.col(c).is_null() for c in columns])

    def detail(_: MinuteParameters) -> pl.Expr:
        names = [pl.when(pl.col(c).is_null()).then(pl.lit(c)) for c in columns]
        return pl.lit("null ") + pl.concat_str(names, separator=", ", ignore_nulls=True)

    return fails, detail


def _ohlc_detail(_: MinuteParameters) -> pl.Expr:
    o, h, lo, c = (pl.col(p) for p in PRICES)
    broken = [
        pl.when(lo > o).then(pl.format("low {} > open {}", lo, o)),
        pl.when(lo > c).then(pl.format("low {} > close {}", lo, c)),
        pl.when(o > h).then(pl.format("open {} > high {}", o, h)),
        pl.when(c > h).then(pl.format("close {} > high {}", c, h)),
        pl.when(lo > h).then(pl.format("low {} > high {}", lo, h)),
    ]
    return pl.concat_str(broken, separator=", ", ignore_nulls=True)


def _duplicate_detail(_: MinuteParameters) -> pl.Expr:
    def newest(c: str) -> pl.Expr:
        return pl.col(c).sort_by("row_number").last().over(KEYS)

    differ = pl.concat_str(
        [
            pl.when(pl.col(c).ne_missing(newest(c))).then(
                pl.format(f"{c} {{}} vs {{}}", pl.col(c), newest(c))
            )
            for c in VALUES
        ],
        separator=", ",
        ignore_nulls=True,
    )
    return pl.format("superseded by row {}", newest("row_number")) + (
        pl.when(differ != "").then(pl.lit(", values differ: ") + differ).otherwise(pl.lit(""))
    )


def _jump(p: MinuteParameters) -> pl.Expr:
    one_minute = (pl.col("ts") - pl.col("_prev_ts")) == pl.duration(minutes=1)
    move = (pl.col("close") / pl.col("_prev_close") - 1).abs()
    return (one_minute & (move > p.max_jump)).fill_null(False)


KEYS_NULL = _nulls(("symbol", "ts", "asset_class"))
PRICES_NULL = _nulls(PRICES)
VOLUME_NULL = _nulls(("volume",))
_o, _h, _l, _c = (pl.col(p) for p in PRICES)
_ON_MINUTE = pl.col("ts").dt.truncate("1m") == pl.col("ts")
_PHASE_OK = pl.col("session").eq_missing(pl.col("_session")) & pl.col("market_phase").eq_missing(
    pl.col("_phase")
)
# The frame is sorted by symbol, ts, row_number: the last of a run of equal keys is the newest.
_DUPLICATE = pl.col("_dup")
_NEWEST = pl.col("row_number") == pl.col("row_number").max().over(KEYS)

RULES: tuple[MinuteRule, ...] = (
    MinuteRule("columns_present", "error", "batch", "the minute-bar columns are present"),
    MinuteRule("column_types", "error", "batch", "the minute-bar columns have their types"),
    MinuteRule("row_number_unique", "error", "batch", "row_number identifies a row of the batch"),
    MinuteRule("keys_not_null", "error", "row", "symbol, ts, asset_class set", *KEYS_NULL),
    MinuteRule(
        "asset_class_known",
        "error",
        "row",
        f"asset_class is one of {', '.join(ASSET_CLASSES)}",
        lambda _: (
            pl.col("asset_class").is_not_null() & ~pl.col("asset_class").is_in(list(ASSET_CLASSES))
        ),
        lambda _: pl.format("asset_class {!r} is unknown", pl.col("asset_class")),
    ),
    MinuteRule(
        "symbol_pattern",
        "error",
        "row",
        "symbol matches its asset class's pattern (QUANTLAKE_VALIDATION__SYMBOL_PATTERNS)",
        _symbol_fails,
        _symbol_detail,
    ),
    MinuteRule("prices_not_null", "error", "row", "prices set", *PRICES_NULL),
    MinuteRule(
        "values_finite",
        "error",
        "row",
        "prices and volume are finite",
        _infinite,
        _infinite_detail,
    ),
    MinuteRule("volume_not_null", "error", "row", "volume set", *VOLUME_NULL),
    MinuteRule(
        "prices_positive",
        "error",
        "row",
        "prices > 0",
        lambda _: pl.any_horizontal([pl.col(p) <= 0 for p in PRICES]).fill_null(False),
        lambda _: pl.concat_str(
            [pl.when(pl.col(p) <= 0).then(pl.format(f"{p} {{}} <= 0", pl.col(p))) for p in PRICES],
            separator=", ",
            ignore_nulls=True,
        ),
    ),
    MinuteRule(
        "ohlc_consistent",
        "error",
        "row",
        "low <= open, close <= high",
        lambda _: pl.any_horizontal(_l > _o, _l > _c, _o > _h, _c > _h, _l > _h).fill_null(False),
        _ohlc_detail,
    ),
    MinuteRule(
        "volume_nonnegative",
        "error",
        "row",
        "volume >= 0",
        lambda _: (pl.col("volume") < 0).fill_null(False),
        lambda _: pl.format("volume {} < 0", pl.col("volume")),
    ),
    MinuteRule(
        "ts_on_minute",
        "error",
        "row",
        "ts is a whole minute",
        lambda _: (~_ON_MINUTE).fill_null(False),
        lambda _: pl.format("ts {} is not on a minute", pl.col("ts")),
    ),
    MinuteRule(
        "bar_complete",
        "error",
        "row",
        "the bar's minute has ended (ts + 1 min <= now)",
        lambda p: (pl.col("ts") + pl.duration(minutes=1) > p.now).fill_null(False),
        lambda p: pl.format("bar {} ends after now {}", pl.col("ts"), pl.lit(p.now)),
    ),
    MinuteRule(
        "phase_consistent",
        "error",
        "row",
        "session and market_phase are those the exchange calendar gives for ts",
        lambda _: (~_PHASE_OK & pl.col("ts").is_not_null()).fill_null(False),
        lambda _: pl.format(
            "session {} / {} but the calendar says {} / {}",
            pl.col("session"),
            pl.col("market_phase"),
            pl.col("_session"),
            pl.col("_phase"),
        ),
    ),
    MinuteRule(
        "unique_symbol_ts",
        "error",
        "row",
        "one bar per (symbol, ts) in a batch; the last one received wins",
        lambda _: _DUPLICATE,
        _duplicate_detail,
        kept=_NEWEST,
    ),
    MinuteRule(
        "volume_positive",
        "warning",
        "row",
        "volume > 0 (crypto venues forward-fill quiet minutes with zero volume)",
        lambda _: (pl.col("volume") == 0).fill_null(False),
        lambda _: pl.format("volume {}", pl.col("volume")),
    ),
    MinuteRule(
        "in_trading_hours",
        "warning",
        "row",
        "an equity bar falls in a pre, regular or post session of the exchange",
        lambda _: (pl.col("_phase") == "closed").fill_null(False),
        lambda _: pl.format("{} is outside the exchange's sessions", pl.col("ts")),
    ),
    MinuteRule(
        "no_extreme_jump",
        "warning",
        "row",
        "close moves at most max_jump from the previous minute's close",
        _jump,
        lambda _: pl.format(
            "close {} vs {} a minute before", pl.col("close"), pl.col("_prev_close")
        ),
    ),
)

RULES_BY_NAME: dict[str, MinuteRule] = {r.name: r for r in RULES}
# Profile columns for the batch rules (the same value on every profile row).
BATCH_METRICS = {
    "columns_present": "missing_columns",
    "column_types": "wrong_types",
    "row_number_unique": "duplicate_row_numbers",
}


def build_suite() -> ExpectationSuite:
    """Return the minute-bars suite over a batch profile: each rule's count must be zero."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    # Built in one go: add_expectation on a suite the context already stores saves it each time.
    expectations = [
        gxe.ExpectColumnValuesToBeBetween(
            column=BATCH_METRICS.get(rule.name, rule.name),
            min_value=0,
            max_value=0,
            meta={"rule": rule.name, "severity": rule.severity, "scope": rule.scope},
            description=f"{rule.name} ({rule.severity}): {rule.description}",
        )
        for rule in RULES
    ]
    notes = "quantlake minute-bars contract, checked on a per-symbol profile of the batch"
    return gx.ExpectationSuite(name=SUITE, expectations=expectations, meta={"notes": notes})
