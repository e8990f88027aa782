"""check_orders under hypothesis: no approved order breaches a limit, states hold, and a single
order gets exactly the largest quantity a brute-force scan of every limit allows."""

from __future__ import annotations

from dataclasses import dataclass, replace

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from strategies.limits import RiskLimits
from strategies.orders import ORDER_SCHEMA
from strategies.risk import check_orders
from strategies.states import State

SYMBOLS = ("A", "B", "C", "D", "E", "F")
TOL = 1e-9


@dataclass(frozen=True)
class Case:
    orders: list[tuple[str, str, float, float]]  # symbol, side, qty, reference price
    held: dict[str, float]
    marks: dict[str, float]
    trusted: dict[str, float]
    equity: float
    cash: float
    state: State
    limits: RiskLimits

    def run(self, order_rows: list | None = None) -> pl.DataFrame:
        rows = self.orders if order_rows is None else order_rows
        return check_orders(
            pl.DataFrame(
                [(s, side, q, p, q * p, 0.0, "rebalance") for s, side, q, p in rows],
                schema=ORDER_SCHEMA,
                orient="row",
            ),
            positions=_frame("qty", self.held),
            prices=_frame("price", self.marks),
            last_trusted=_frame("price", self.trusted),
            equity=self.equity,
            cash=self.cash,
            state=self.state,
            limits=self.limits,
        )


def _frame(column: str, values: dict[str, float]) -> pl.DataFrame:
    return pl.DataFrame(
        {"symbol": list(values), column: list(values.values())},
        schema={"symbol": pl.String, column: pl.Float64},
    )


def _pct(draw: st.DrawFn, lo: int, hi: int) -> float:
    """Draw a fraction between ``lo`` and ``hi`` percent (with noise off the round numbers)."""
    return (draw(st.integers(lo, hi)) + draw(st.floats(0.0, 1.0))) / 100


def _qty(draw: st.DrawFn, value: float, *, whole: bool | None = None) -> float:
    """Return ``value`` shares as a whole number (at least 1) or to 6 decimals (at least 1e-6)."""
    whole = draw(st.booleans()) if whole is None else whole
    return float(max(1, round(value))) if whole else max(1e-6, round(value, 6))


@st.composite
def cases(
    draw: st.DrawFn,
    *,
    long_only: bool = False,
    unique: bool = False,
    sizes: tuple[int, int] = (0, 6),
    tradable: bool = False,
) -> Case:
    """Draw a book and orders sized as fractions of equity, so that limits bind often.

    ``tradable`` makes most orders get past the state, collar and count rules and gives them
    whole quantities, so the sizing limits are what decides.
    """
    equity = draw(st.floats(1e3, 1e6))
    marks = {s: draw(st.floats(1.0, 500.0)) for s in SYMBOLS}
    held = {
        s: draw(st.sampled_from([1.0] if long_only else [1.0, -1.0]))
        * _qty(draw, _pct(draw, 0, 30) * equity / marks[s])
        for s in draw(st.frozensets(st.sampled_from(SYMBOLS)))
    }
    orders = []
    lo, hi = sizes
    for s in draw(st.lists(st.sampled_from(SYMBOLS), min_size=lo, max_size=hi, unique=unique)):
        price = marks[s] * (1 + draw(st.floats(-0.08, 0.08)) / (100 if tradable else 1))
        qty = _qty(draw, _pct(draw, 0, 80) * equity / price, whole=tradable or None)
        orders.append((s, draw(st.sampled_from(["buy", "sell"])), qty, price))
    trusted = {
        s: marks[s] * (1 if tradable else draw(st.floats(0.95, 1.05)))
        for s in SYMBOLS
        if tradable or draw(st.booleans())
    }
    limits = RiskLimits(
        max_position_weight=_pct(draw, 1, 99),
        max_gross_exposure=_pct(draw, 10, 200),
        max_net_exposure=_pct(draw, 0, 150),
        max_order_notional=equity * _pct(draw, 1, 150),
        max_orders_per_run=draw(st.integers(1 if tradable else 0, 6)),
        restricted_symbols=draw(st.frozensets(st.sampled_from(SYMBOLS), max_size=2)),
        price_collar_bps=draw(st.floats(20.0 if tradable else 1.0, 1_000.0)),
        max_drawdown=0.1,
        max_daily_loss=0.03,
    )
    states = [State.ACTIVE] * 6 + list(State) if tradable else list(State)
    return Case(
        orders=orders, held=held, marks=marks, trusted=trusted, equity=equity,
        cash=equity * _pct(draw, 0 if long_only else -10, 100),
        state=draw(st.sampled_from(states)), limits=limits,
    )  # fmt: skip


# Every order faces every rule (fractional quantities, far prices, all states), or mostly the
# sizing rules (whole quantities, ACTIVE, prices within the collar).
ANY = st.one_of(cases(), cases(tradable=True))


def _after(case: Case, out: pl.DataFrame) -> dict[str, float]:
    book = dict(case.held)
    for symbol, side, qty in out.select("symbol", "side", "approved_qty").iter_rows():
        book[symbol] = book.get(symbol, 0.0) + (qty if side == "buy" else -qty)
    return book


def _gross(case: Case, book: dict[str, float]) -> float:
    return sum(abs(q) * case.marks[s] for s, q in book.items())


def _net(case: Case, book: dict[str, float]) -> float:
    return sum(q * case.marks[s] for s, q in book.items())


def _within(value: float, bound: float) -> bool:
    return value <= bound * (1 + TOL) + TOL


@given(ANY)
def test_every_order_appears_once_with_a_consistent_decision(case: Case) -> None:
    out = case.run()
    assert out.select("symbol", "side", "qty", "price").rows() == case.orders
    for decision, qty, approved, rule, reason in out.select(
        "decision", "qty", "approved_qty", "rule", "reason"
    ).iter_rows():
        assert decision in ("pass", "resize", "reject")
        assert (decision == "pass") == (approved == qty) == (rule is None)
        assert (decision == "reject") == (approved == 0.0)
        assert 0.0 <= approved <= qty and reason.strip()


@given(ANY)
def test_no_approved_order_breaches_a_limit(case: Case) -> None:
    out, lim, eq = case.run(), case.limits, case.equity
    approved = out.filter(pl.col("approved_qty") > 0)
    assert approved.height <= lim.max_orders_per_run
    for symbol, price, qty in approved.select("symbol", "price", "approved_qty").iter_rows():
        assert _within(qty * price, lim.max_order_notional)
        trusted = case.trusted[symbol]  # an order without a trusted price is never approved
        assert abs(price - trusted) / trusted * 1e4 <= lim.price_collar_bps
    before, after = case.held, _after(case, out)
    for symbol, qty in after.items():
        start = before.get(symbol, 0.0)
        bound = max(lim.max_position_weight * eq / case.marks[symbol], abs(start))
        assert _within(abs(qty), bound)
        if symbol in lim.restricted_symbols:  # only ever reduced, never flipped
            assert abs(qty) <= abs(start) and qty * start >= 0
    assert _within(_gross(case, after), max(lim.max_gross_exposure * eq, _gross(case, before)))
    net_bound = max(lim.max_net_exposure * eq, abs(_net(case, before)))
    assert _within(abs(_net(case, after)), net_bound)


@given(st.one_of(cases(long_only=True), cases(long_only=True, tradable=True)))
def test_cash_never_goes_negative_for_a_long_only_book(case: Case) -> None:
    out = case.run()
    flows = out.select(
        (pl.when(pl.col("side") == "sell").then(1.0).otherwise(-1.0)
         * pl.col("approved_qty") * pl.col("price")).sum()
    ).item()  # fmt: skip
    assert case.cash + flows >= -TOL * max(1.0, case.cash)


@given(ANY)
def test_reducing_never_grows_a_position_or_gross_exposure(case: Case) -> None:
    case = replace(case, state=State.REDUCING)
    out = case.run()
    after = _after(case, out)
    for symbol, qty in after.items():
        start = case.held.get(symbol, 0.0)
        assert abs(qty) <= abs(start) and qty * start >= 0
    assert _gross(case, after) <= _gross(case, case.held) + TOL


@given(ANY)
def test_halted_approves_nothing(case: Case) -> None:
    out = replace(case, state=State.HALTED).run()
    assert set(out["decision"]) <= {"reject"} and out["approved_qty"].sum() == 0.0
    assert set(out["rule"]) <= {"state"}


@given(st.data(), st.one_of(cases(unique=True), cases(unique=True, tradable=True)))
def test_decisions_are_deterministic_and_ignore_row_order(data: st.DataObject, case: Case) -> None:
    first = case.run()
    assert case.run().equals(first)
    shuffled = data.draw(st.permutations(case.orders))
    again = case.run(shuffled).sort("symbol")
    assert again.equals(first.sort("symbol"))


@settings(max_examples=300)
@given(cases(sizes=(1, 1), tradable=True))
def test_a_single_order_gets_the_largest_quantity_every_limit_allows(case: Case) -> None:
    approved = case.run()["approved_qty"].item()
    qty = case.orders[0][2]
    assert _feasible(case, approved, slack=TOL)
    if approved < qty:
        assert not _feasible(case, approved + 1, slack=-TOL)


def _feasible(case: Case, a: float, *, slack: float) -> bool:
    """Whether trading ``a`` of the one order keeps within every limit (the brute-force oracle)."""
    symbol, side, _, price = case.orders[0]
    lim, eq, s = case.limits, case.equity, 1 if side == "buy" else -1
    h, m = case.held.get(symbol, 0.0), case.marks[symbol]
    gross, net = _gross(case, case.held), _net(case, case.held)
    reducible = abs(h) if s * h < 0 else 0.0

    def le(x: float, y: float) -> bool:
        return x <= y + slack * max(1.0, abs(x), abs(y))

    trusted = case.trusted.get(symbol)
    if a == 0:
        return True
    checks = [
        case.state is not State.HALTED,
        case.state is not State.REDUCING or le(a, reducible),
        symbol not in lim.restricted_symbols or le(a, reducible),
        trusted is not None and abs(price - trusted) / trusted * 1e4 <= lim.price_collar_bps,
        lim.max_orders_per_run >= 1,
        le(a * price, lim.max_order_notional),
        le(a, reducible) or le(abs(h + s * a) * m, lim.max_position_weight * eq),
        le(a, reducible)
        or le(gross - abs(h) * m + abs(h + s * a) * m, lim.max_gross_exposure * eq),
        (s * net < 0 and le(a * m, abs(net)))
        or le(abs(net + s * a * m), lim.max_net_exposure * eq),
        s < 0 or le(a * price, case.cash),
    ]
    return all(checks)
