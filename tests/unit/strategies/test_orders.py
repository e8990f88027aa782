"""plan_orders: hand-computed plans, and long-only/cash/min-notional invariants under hypothesis."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from strategies.orders import plan_orders


def _frame(column: str, values: dict[str, float]) -> pl.DataFrame:
    return pl.DataFrame(
        {"symbol": list(values), column: list(values.values())},
        schema={"symbol": pl.String, column: pl.Float64},
    )


def _plan(targets: dict, held: dict, prices: dict, **kwargs: object) -> pl.DataFrame:
    options = {"equity": 10_000.0, "cash": 1e9, "min_notional": 0.0, "fractional": False}
    return plan_orders(
        _frame("target_weight", targets),
        _frame("qty", held),
        _frame("price", prices),
        **(options | kwargs),  # type: ignore[arg-type]
    )


PRICES = {"A": 100.0, "B": 33.0, "C": 50.0}


def test_plan_moves_positions_to_targets_sells_first() -> None:
    # A: 0.5*10000/100 = 50 shares, hold 20 -> buy 30. B: 3000/33 = 90.9 -> buy 90.
    # C: held, not a target -> sell all 10.
    out = _plan({"A": 0.5, "B": 0.3}, {"A": 20.0, "C": 10.0}, PRICES)
    assert out.rows() == [
        ("C", "sell", 10.0, 50.0, 500.0, 0.0, "exit"),
        ("A", "buy", 30.0, 100.0, 3000.0, 0.5, "rebalance"),
        ("B", "buy", 90.0, 33.0, 2970.0, 0.3, "entry"),
    ]


def test_buys_are_scaled_to_the_cash_left_after_sells() -> None:
    # Cash 2000 + 500 from selling C = 2500 for buys worth 5970: scale 0.41876,
    # A 30 -> 12.56 -> 12 shares (1200), B 90 -> 37.69 -> 37 shares (1221).
    out = _plan({"A": 0.5, "B": 0.3}, {"A": 20.0, "C": 10.0}, PRICES, cash=2000.0)
    assert out.select("symbol", "side", "qty").rows() == [
        ("C", "sell", 10.0),
        ("A", "buy", 12.0),
        ("B", "buy", 37.0),
    ]


def test_cost_bps_reserves_room_for_slippage_and_commission() -> None:
    # 100 bps: sells yield 500*0.99 = 495, budget (0 + 495)/1.01 = 490.1 -> 4 shares of A.
    out = _plan({"A": 1.0}, {"C": 10.0}, PRICES, cash=0.0, cost_bps=100.0)
    assert out.select("symbol", "qty").rows() == [("C", 10.0), ("A", 4.0)]


def test_sells_round_toward_zero_so_they_never_overshoot() -> None:
    # Target 0.381*10000/50 = 76.2 shares, hold 100: delta -23.8 -> sell 23, ending at 77
    # (selling 24 would end at 76, below the target).
    out = _plan({"C": 0.381}, {"C": 100.0}, PRICES)
    assert out.select("side", "qty", "intent").rows() == [("sell", 23.0, "rebalance")]


def test_exact_targets_are_not_lost_to_float_noise() -> None:
    # 0.1 * 1000 / 10 is 9.999999999999998 in floating point; it must buy 10, not 9.
    out = _plan({"X": 0.1}, {}, {"X": 10.0}, equity=1000.0)
    assert out["qty"].to_list() == [10.0]


def test_fractional_quantities_truncate_to_six_decimals() -> None:
    out = _plan({"B": 0.3}, {}, PRICES, fractional=True)
    assert out["qty"].to_list() == [90.909090]


def test_orders_below_min_notional_are_skipped_exits_included() -> None:
    out = _plan({"A": 0.5, "B": 0.0101}, {"A": 49.0, "C": 1.0}, PRICES, min_notional=100.0)
    # A: buy 1 (100, kept). B: 101/33 -> 3 shares = 99 (skipped). C: exit 50 (skipped).
    assert out.select("symbol", "qty").rows() == [("A", 1.0)]


def test_a_zero_weight_target_exits_and_an_unheld_one_needs_no_price() -> None:
    out = _plan({"A": 0.0, "Z": 0.0}, {"A": 5.0}, {"A": 100.0})
    assert out.select("symbol", "side", "qty", "intent").rows() == [("A", "sell", 5.0, "exit")]


@pytest.mark.parametrize("prices", [{"A": 100.0}, {"A": 100.0, "B": 0.0}, {"A": 1.0, "B": None}])
def test_a_symbol_needing_an_order_without_a_price_is_an_error(prices: dict) -> None:
    with pytest.raises(ValueError, match=r"no usable price .*\['B'\]"):
        _plan({"A": 0.5, "B": 0.3}, {}, prices)


def test_a_held_symbol_without_a_price_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"\['C'\]"):
        _plan({"A": 0.5}, {"C": 3.0}, {"A": 100.0})


@pytest.mark.parametrize(
    ("targets", "held", "match"),
    [
        ({"A": -0.1}, {}, "negative or non-finite weights"),
        ({"A": None}, {}, "null"),
        ({"A": 0.1}, {"A": -3.0}, "short"),
    ],
)
def test_bad_weights_or_short_positions_raise(targets: dict, held: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        _plan(targets, held, PRICES)


def test_duplicate_symbols_raise() -> None:
    targets = pl.DataFrame({"symbol": ["A", "A"], "target_weight": [0.1, 0.2]})
    with pytest.raises(ValueError, match="duplicate symbols"):
        plan_orders(
            targets, _frame("qty", {}), _frame("price", PRICES),
            equity=1.0, cash=1.0, min_notional=0.0, fractional=False,
        )  # fmt: skip


def test_no_targets_and_no_positions_give_an_empty_plan() -> None:
    out = _plan({}, {}, {})
    assert out.is_empty()
    assert out.columns == ["symbol", "side", "qty", "price", "notional", "target_weight", "intent"]


SYMBOLS = [f"S{i}" for i in range(8)]


@st.composite
def books(draw: st.DrawFn) -> tuple[dict, dict, dict]:
    chosen = draw(st.lists(st.sampled_from(SYMBOLS), unique=True, max_size=6))
    weights = draw(st.lists(st.floats(0, 0.3), min_size=len(chosen), max_size=len(chosen)))
    held_syms = draw(st.lists(st.sampled_from(SYMBOLS), unique=True, max_size=6))
    held = {
        s: draw(st.one_of(st.integers(0, 500).map(float), st.floats(0, 500))) for s in held_syms
    }
    prices = {s: draw(st.floats(0.5, 2000)) for s in SYMBOLS}
    return dict(zip(chosen, weights, strict=True)), held, prices


@given(
    book=books(),
    equity=st.floats(0, 1e6),
    cash=st.floats(-1e4, 1e6),
    min_notional=st.floats(0, 1000),
    fractional=st.booleans(),
)
def test_plans_stay_long_only_within_cash_and_above_min_notional(
    book: tuple[dict, dict, dict], equity: float, cash: float, min_notional: float, fractional: bool
) -> None:
    targets, held, prices = book
    out = _plan(targets, held, prices, equity=equity, cash=cash, min_notional=min_notional,
                fractional=fractional)  # fmt: skip
    rows = out.to_dicts()
    assert out["symbol"].n_unique() == out.height
    sides = out["side"].to_list()
    assert sides == sorted(sides, key=lambda s: s != "sell")
    for r in rows:
        assert r["qty"] > 0 and r["notional"] >= min_notional
        assert r["notional"] == pytest.approx(r["qty"] * prices[r["symbol"]])
        target_qty = targets.get(r["symbol"], 0.0) * equity / r["price"]
        if r["side"] == "sell":
            assert r["qty"] <= held.get(r["symbol"], 0.0)
            if r["intent"] == "rebalance":
                assert held[r["symbol"]] - r["qty"] >= target_qty - 1e-6
        else:
            assert held.get(r["symbol"], 0.0) + r["qty"] <= target_qty + 1e-6
            assert not fractional or r["qty"] == round(r["qty"], 6)
            assert fractional or r["qty"] == int(r["qty"])
    proceeds = sum(r["notional"] for r in rows if r["side"] == "sell")
    spent = sum(r["notional"] for r in rows if r["side"] == "buy")
    assert spent <= max(0.0, cash + proceeds) * (1 + 1e-9) + 1e-9
