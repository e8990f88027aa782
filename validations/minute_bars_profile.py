"""The minute-bars rules evaluated in polars: per-row masks, the failing rows, the batch profile.

The profile is what Great Expectations validates: one row per symbol with, per rule, how many of
the symbol's rows break it (and, per batch rule, the batch's count on every row).
"""

from __future__ import annotations

import polars as pl

from validations.minute_bars import BATCH_METRICS, POLARS_TYPES, RULES, MinuteParameters
from validations.minute_bars_phases import with_phases

NULL_SYMBOL = "<no symbol>"


def batch_problems(frame: pl.DataFrame) -> dict[str, tuple[int, str]]:
    """Return what is wrong with the batch as a whole, per batch rule: a count and words."""
    problems: dict[str, tuple[int, str]] = {}
    missing = [c for c in POLARS_TYPES if c not in frame.columns]
    if missing:
        found = ", ".join(frame.columns)
        problems["columns_present"] = (
            len(missing),
            f"missing columns {', '.join(missing)} (found: {found})",
        )
    wrong = [
        f"{c} is {frame.schema[c]} (expected {t})"
        for c, t in POLARS_TYPES.items()
        if c in frame.columns and frame.schema[c] != t
    ]
    if wrong:
        problems["column_types"] = (len(wrong), "wrong column types: " + "; ".join(wrong))
    if "row_number" in frame.columns:
        numbers = frame.get_column("row_number")
        shared = len(numbers) - numbers.drop_nulls().n_unique()
        if shared:
            problems["row_number_unique"] = (
                shared,
                f"row_number is not unique ({shared} rows repeat a number or have none)",
            )
    return problems


def checked_frame(frame: pl.DataFrame, *, exchange: str) -> pl.DataFrame:
    """Return the batch sorted by symbol, ts, row_number with the helper columns rules read.

    Sorted, a symbol's previous bar is the previous row and duplicates are neighbours, so the
    helpers need no group-by.
    """
    floats = [c for c, t in frame.schema.items() if t in (pl.Float32, pl.Float64)]
    ordered = frame.with_columns(pl.col(floats).fill_nan(None)).sort(
        "symbol", "ts", "row_number", nulls_last=True
    )
    recomputed = with_phases(ordered.select("ts", "asset_class"), exchange=exchange)
    symbol, ts = pl.col("symbol"), pl.col("ts")
    same_symbol = symbol == symbol.shift(1)
    same_as_prev = (same_symbol & (ts == ts.shift(1))).fill_null(False)
    same_as_next = ((symbol == symbol.shift(-1)) & (ts == ts.shift(-1))).fill_null(False)
    return ordered.with_columns(
        _session=recomputed.get_column("session"),
        _phase=recomputed.get_column("market_phase"),
        _prev_close=pl.when(same_symbol).then(pl.col("close").shift(1)),
        _prev_ts=pl.when(same_symbol).then(ts.shift(1)),
        _dup=same_as_prev | same_as_next,
    )


def rule_masks(checked: pl.DataFrame, params: MinuteParameters) -> pl.DataFrame:
    """Return one boolean column per row rule (True: the row breaks it), plus ``symbol``."""
    return checked.select(
        pl.col("symbol").fill_null(NULL_SYMBOL),
        *[r.fails(params).alias(r.name) for r in RULES if r.fails is not None],
    )


def profile(
    masks: pl.DataFrame | None,
    failures: dict[str, pl.DataFrame],
    problems: dict[str, tuple[int, str]],
) -> pl.DataFrame:
    """Return the per-symbol profile GX validates (one row for an empty or rejected batch).

    A rule's count is its failing rows less those it keeps (the newest duplicate).
    """
    row_rules = [r.name for r in RULES if r.scope == "row"]
    metrics = {
        column: pl.lit(problems.get(rule, (0, ""))[0], pl.Int64)
        for rule, column in BATCH_METRICS.items()
    }
    if masks is None or masks.is_empty():
        empty = {"symbol": [NULL_SYMBOL], "rows": [0]} | {name: [0] for name in row_rules}
        return pl.DataFrame(empty).with_columns(**metrics)
    kept = [
        f.filter(pl.col("_kept")).select(pl.col("symbol").fill_null(NULL_SYMBOL), _rule=pl.lit(n))
        for n, f in failures.items()
    ]
    kept_counts = pl.concat(kept).group_by("symbol", "_rule").len() if kept else None
    counted = masks.group_by("symbol").agg(
        pl.len().cast(pl.Int64).alias("rows"), *[pl.col(n).sum().cast(pl.Int64) for n in row_rules]
    )
    if kept_counts is not None and not kept_counts.is_empty():
        less = kept_counts.pivot("_rule", index="symbol", values="len")
        counted = (
            counted.join(less, on="symbol", how="left", suffix="_kept")
            .with_columns(
                [
                    (pl.col(n) - pl.col(f"{n}_kept").fill_null(0)).cast(pl.Int64)
                    for n in less.columns
                    if n != "symbol"
                ]
            )
            .select(counted.columns)
        )
    return counted.sort("symbol").with_columns(**metrics)


def failing_rows(
    frame: pl.DataFrame, checked: pl.DataFrame, masks: pl.DataFrame, params: MinuteParameters
) -> dict[str, pl.DataFrame]:
    """Return, per row rule with failures, the failing rows: input columns, rule, detail, _kept."""
    out = {}
    for rule in RULES:
        if rule.scope != "row" or not masks.get_column(rule.name).any():
            continue
        assert rule.detail is not None
        # Details and kept flags are computed on the failing rows only: every window they read
        # (the duplicates of a key) lies wholly among them.
        out[rule.name] = (
            checked.filter(masks.get_column(rule.name))
            .with_columns(
                rule=pl.lit(rule.name),
                detail=rule.detail(params),
                _kept=pl.lit(False) if rule.kept is None else rule.kept,
            )
            .select(*frame.columns, "rule", "detail", "_kept")
        )
    return out
