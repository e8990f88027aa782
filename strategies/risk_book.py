"""The running book the risk checks measure against, and the checked reading of their inputs."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import polars as pl

from strategies.frames import by_symbol

# The columns check_orders adds to the orders.
RESULT_SCHEMA = {
    "decision": pl.String,
    "approved_qty": pl.Float64,
    "rule": pl.String,
    "reason": pl.String,
}


@dataclass(frozen=True)
class Order:
    """One planned order; ``row`` is its position in the input frame."""

    row: int
    symbol: str
    sign: int  # +1 buy, -1 sell
    qty: float
    price: float

    @property
    def side(self) -> str:
        return "buy" if self.sign > 0 else "sell"


@dataclass
class Book:
    """Signed positions and cash after the orders approved so far, marked at ``mark``."""

    qty: dict[str, float]
    mark: dict[str, float]
    equity: float
    cash: float
    approved: int = field(default=0)

    def held(self, symbol: str) -> float:
        return self.qty.get(symbol, 0.0)

    def gross(self) -> float:
        return sum(abs(q) * self.mark[s] for s, q in self.qty.items())

    def net(self) -> float:
        return sum(q * self.mark[s] for s, q in self.qty.items())

    def apply(self, order: Order, qty: float) -> None:
        """Add an approved ``qty`` of ``order``; only sells of longs add to the cash."""
        if qty <= 0:
            return
        held = self.held(order.symbol)
        if order.sign > 0:
            self.cash -= qty * order.price
        else:
            # Selling short raises no buying power: its proceeds are collateral, not cash.
            self.cash += min(qty, max(held, 0.0)) * order.price
        self.qty[order.symbol] = held + order.sign * qty
        self.approved += 1


def read_orders(orders: pl.DataFrame) -> list[Order]:
    """Return the orders as ``Order``s, or raise ValueError naming the malformed rows."""
    missing = {"symbol", "side", "qty", "price"} - set(orders.columns)
    if missing:
        raise ValueError(f"orders lack column(s) {sorted(missing)}; they have {orders.columns}")
    clash = sorted(set(RESULT_SCHEMA) & set(orders.columns))
    if clash:
        raise ValueError(f"orders already have result column(s) {clash}; drop them first")
    rows = orders.select(
        pl.col("symbol").cast(pl.String),
        pl.col("side").cast(pl.String),
        pl.col("qty").cast(pl.Float64),
        pl.col("price").cast(pl.Float64),
    ).rows()
    bad = [
        (i, *r)
        for i, r in enumerate(rows)
        if r[0] is None or r[1] not in ("buy", "sell") or not _positive(r[2]) or not _positive(r[3])
    ]
    if bad:
        raise ValueError(
            "orders need a symbol, side 'buy' or 'sell', and a positive finite qty and price; "
            f"bad (row, symbol, side, qty, price): {bad[:10]}"
        )
    return [
        Order(row=i, symbol=s, sign=1 if side == "buy" else -1, qty=q, price=p)
        for i, (s, side, q, p) in enumerate(rows)
    ]


def read_book(
    positions: pl.DataFrame,
    prices: pl.DataFrame,
    *,
    equity: float,
    cash: float,
    orders: list[Order],
) -> Book:
    """Return the book before any order, or raise ValueError when it cannot be measured."""
    if not (math.isfinite(equity) and equity > 0):
        raise ValueError(f"equity must be a positive finite number, got {equity}")
    if not math.isfinite(cash):
        raise ValueError(f"cash must be a finite number, got {cash}")
    held = _by_symbol(positions, "positions", "qty")
    bad = {s: q for s, q in held.items() if q is None or not math.isfinite(q)}
    if bad:
        raise ValueError(f"positions have null or non-finite quantities: {bad}")
    held = {s: q for s, q in held.items() if q != 0}
    marks = _prices(prices, "prices")
    unpriced = sorted(({o.symbol for o in orders} | set(held)) - set(marks))
    if unpriced:
        raise ValueError(
            f"no usable price in `prices` for {unpriced[:10]}, which are held or ordered; "
            "exposures cannot be measured without one"
        )
    return Book(qty=held, mark=marks, equity=equity, cash=cash)


def read_trusted(last_trusted: pl.DataFrame) -> dict[str, float]:
    """Return the last trusted price per symbol."""
    return _prices(last_trusted, "last_trusted")


def _prices(frame: pl.DataFrame, name: str) -> dict[str, float]:
    found = _by_symbol(frame, name, "price")
    bad = {s: p for s, p in found.items() if not _positive(p)}
    if bad:
        raise ValueError(f"{name} has null, non-positive or non-finite prices: {bad}")
    return found  # type: ignore[return-value]


def _by_symbol(frame: pl.DataFrame, name: str, value: str) -> dict[str, float | None]:
    return dict(by_symbol(frame, name, value).iter_rows())


def _positive(value: float | None) -> bool:
    return value is not None and math.isfinite(value) and value > 0
