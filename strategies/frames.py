"""Checks on the symbol-keyed frames every strategy function takes: one row per symbol."""

from __future__ import annotations

import polars as pl


def require_symbols(frame: pl.DataFrame, name: str, columns: set[str]) -> None:
    """Raise ValueError unless ``frame`` has ``columns`` and one row per non-null symbol."""
    missing = (columns | {"symbol"}) - set(frame.columns)
    if missing:
        raise ValueError(f"{name} lacks column(s) {sorted(missing)}; it has {frame.columns}")
    if frame["symbol"].null_count():
        raise ValueError(f"{name} has rows with a null symbol; drop or fix them upstream")
    dupes = frame.filter(pl.col("symbol").is_duplicated())["symbol"].unique().sort().to_list()
    if dupes:
        raise ValueError(f"{name} has duplicate symbols {dupes[:10]}; keep one row per symbol")


def by_symbol(frame: pl.DataFrame, name: str, value: str) -> pl.DataFrame:
    """Return (symbol: String, ``value``: Float64) after checking one row per symbol."""
    require_symbols(frame, name, {value})
    return frame.select(pl.col("symbol").cast(pl.String), pl.col(value).cast(pl.Float64))
