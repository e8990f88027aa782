"""Orders that move current positions to target weights, long-only and within cash."""

from __future__ import annotations

import math

import polars as pl

from strategies.frames import by_symbol

# Fractional quantities are truncated to this many decimals (Alpaca accepts up to 9).
FRACTION_DIGITS = 6

ORDER_SCHEMA = {
    "symbol": pl.String,
    "side": pl.String,
    "qty": pl.Float64,
    "price": pl.Float64,
    "notional": pl.Float64,
    "target_weight": pl.Float64,
    "intent": pl.String,
}


def plan_orders(
    targets: pl.DataFrame,
    positions: pl.DataFrame,
    prices: pl.DataFrame,
    *,
    equity: float,
    cash: float,
    min_notional: float,
    fractional: bool,
    cost_bps: float = 0.0,
) -> pl.DataFrame:
    """Return the orders (sells first, then buys, each by symbol) that reach ``targets``.

    Target quantity is ``target_weight * equity / price``; the order is the difference from
    the held quantity, truncated toward zero (whole shares unless ``fractional``) so a trade
    never goes past its target. Symbols held but absent from ``targets`` (or with weight 0)
    are sold in full (intent "exit"); buys of unheld symbols are "entry", the rest
    "rebalance". Orders whose notional is below ``min_notional`` are skipped, exits included.
    Buys are scaled down (then truncated again) so their cost, plus ``cost_bps`` of it, fits
    in ``cash`` plus the sells' proceeds net of ``cost_bps``. ``notional`` is ``qty * price``.
    """
    _check_numbers(equity=equity, cash=cash, min_notional=min_notional, cost_bps=cost_bps)
    book = _book(targets, positions, prices)
    unit = 1.0 if not fractional else 10.0**-FRACTION_DIGITS
    rows = []
    for symbol, weight, held, price in book.iter_rows():
        if weight == 0.0:
            delta, intent = -held, "exit"
        else:
            delta = _toward_zero(weight * equity / price - held, unit)
            intent = "entry" if held == 0.0 else "rebalance"
        if delta != 0.0:
            rows.append((symbol, "buy" if delta > 0 else "sell", abs(delta), price, weight, intent))
    sells = [r for r in rows if r[1] == "sell"]
    buys = [r for r in rows if r[1] == "buy"]
    keep = [r for r in sells if r[2] * r[3] >= min_notional]
    proceeds = sum(r[2] * r[3] for r in keep) * (1 - cost_bps / 1e4)
    budget = (cash + proceeds) / (1 + cost_bps / 1e4)
    keep += [r for r in _fit_buys(buys, budget, unit) if r[2] * r[3] >= min_notional]
    return pl.DataFrame(
        [(s, side, q, p, q * p, w, i) for s, side, q, p, w, i in keep],
        schema=ORDER_SCHEMA,
        orient="row",
    )


def _fit_buys(buys: list[tuple], budget: float, unit: float) -> list[tuple]:
    """Scale buy quantities so their notional does not exceed ``budget``."""
    total = sum(q * p for _, _, q, p, _, _ in buys)
    if not buys or total <= budget:
        return buys
    scale = max(0.0, budget) / total
    scaled = [(s, side, _toward_zero(q * scale, unit), p, w, i) for s, side, q, p, w, i in buys]
    return [r for r in scaled if r[2] > 0]


def _toward_zero(qty: float, unit: float) -> float:
    """Truncate ``qty`` toward zero to a multiple of ``unit``."""
    steps = math.trunc(round(qty / unit, 9))
    return steps * unit if unit == 1.0 else round(steps * unit, FRACTION_DIGITS)


def _book(targets: pl.DataFrame, positions: pl.DataFrame, prices: pl.DataFrame) -> pl.DataFrame:
    """Return (symbol, weight, held, price) for every symbol that may need an order."""
    t = by_symbol(targets, "targets", "target_weight")
    h = by_symbol(positions, "positions", "qty")
    p = by_symbol(prices, "prices", "price")
    bad_w = t.filter(~_non_negative("target_weight"))
    if bad_w.height:
        raise ValueError(f"targets has null, negative or non-finite weights: {_rows(bad_w)}")
    bad_q = h.filter(~_non_negative("qty"))
    if bad_q.height:
        raise ValueError(
            f"positions has null, short or non-finite quantities (long-only): {_rows(bad_q)}"
        )
    book = (
        t.join(h, on="symbol", how="full", coalesce=True)
        .with_columns(pl.col("target_weight").fill_null(0.0), pl.col("qty").fill_null(0.0))
        .filter((pl.col("target_weight") > 0) | (pl.col("qty") > 0))
        .join(p, on="symbol", how="left")
        .sort("symbol")
    )
    priced = (pl.col("price").is_finite() & (pl.col("price") > 0)).fill_null(False)
    unpriced = book.filter(~priced)
    if unpriced.height:
        raise ValueError(
            f"no usable price (missing, non-positive or not finite) for "
            f"{unpriced['symbol'].to_list()}, which need an order; fix the prices before planning"
        )
    return book.select("symbol", "target_weight", "qty", "price")


def _non_negative(column: str) -> pl.Expr:
    """True where ``column`` is a finite number >= 0 (false for null and NaN)."""
    col = pl.col(column)
    return (col.is_finite() & (col >= 0)).fill_null(False)


def _rows(frame: pl.DataFrame) -> list[tuple]:
    return frame.head(10).rows()


def _check_numbers(**values: float) -> None:
    for name, value in values.items():
        if not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value}")
    for name in ("equity", "min_notional", "cost_bps"):
        if values[name] < 0:
            raise ValueError(f"{name} must not be negative, got {values[name]}")
