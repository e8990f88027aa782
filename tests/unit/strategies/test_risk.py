"""check_orders: one hand-computed case per rule, the rule order, priorities and bad inputs."""

from __future__ import annotations

import polars as pl
import pytest

from strategies.limits import RiskLimits
from strategies.orders import ORDER_SCHEMA
from strategies.risk import check_orders
from strategies.states import State

LOOSE = {
    "max_position_weight": 1.0,
    "max_gross_exposure": 10.0,
    "max_net_exposure": 10.0,
    "max_order_notional": 1e9,
    "max_orders_per_run": 100,
    "price_collar_bps": 1_000.0,
    "max_drawdown": 0.5,
    "max_daily_loss": 0.5,
}


def _orders(*rows: tuple[str, str, float, float]) -> pl.DataFrame:
    """Orders shaped like plan_orders output from (symbol, side, qty, price)."""
    return pl.DataFrame(
        [(s, side, q, p, q * p, 0.0, "rebalance") for s, side, q, p in rows],
        schema=ORDER_SCHEMA,
        orient="row",
    )


def _prices(values: dict[str, float]) -> pl.DataFrame:
    return pl.DataFrame(
        {"symbol": list(values), "price": list(values.values())},
        schema={"symbol": pl.String, "price": pl.Float64},
    )


def _check(
    orders: pl.DataFrame,
    *,
    held: dict[str, float] | None = None,
    marks: dict[str, float] | None = None,
    trusted: dict[str, float] | None = None,
    equity: float = 10_000.0,
    cash: float = 10_000.0,
    state: State = State.ACTIVE,
    **limits: object,
) -> pl.DataFrame:
    marks = marks or dict(zip(orders["symbol"], orders["price"], strict=True))
    held = held or {}
    return check_orders(
        orders,
        positions=pl.DataFrame(
            {"symbol": list(held), "qty": list(held.values())},
            schema={"symbol": pl.String, "qty": pl.Float64},
        ),
        prices=_prices(marks),
        last_trusted=_prices(marks if trusted is None else trusted),
        equity=equity,
        cash=cash,
        state=state,
        limits=RiskLimits(**(LOOSE | limits)),  # type: ignore[arg-type]
    )


def _decisions(out: pl.DataFrame) -> list[tuple]:
    return out.select("symbol", "decision", "approved_qty", "rule").rows()


def test_output_keeps_every_input_row_and_column_in_order() -> None:
    orders = _orders(("B", "buy", 10.0, 50.0), ("A", "sell", 5.0, 20.0)).with_columns(
        pl.Series("client_order_id", ["id-b", "id-a"])
    )
    out = _check(orders, held={"A": 5.0})
    assert out.columns == [*orders.columns, "decision", "approved_qty", "rule", "reason"]
    assert out.select(orders.columns).equals(orders)
    assert _decisions(out) == [("B", "pass", 10.0, None), ("A", "pass", 5.0, None)]
    assert out["reason"].to_list() == ["within all limits"] * 2


def test_no_orders_give_an_empty_frame_with_the_result_columns() -> None:
    out = _check(_orders(), marks={"A": 1.0})
    assert out.height == 0 and out.columns[-4:] == ["decision", "approved_qty", "rule", "reason"]


def test_halted_rejects_everything_even_exits() -> None:
    out = _check(
        _orders(("A", "sell", 5.0, 20.0), ("B", "buy", 1.0, 10.0)),
        held={"A": 5.0},
        state=State.HALTED,
    )
    assert _decisions(out) == [("A", "reject", 0.0, "state"), ("B", "reject", 0.0, "state")]


def test_reducing_lets_through_only_the_part_that_shrinks_a_position() -> None:
    orders = _orders(
        ("A", "sell", 4.0, 10.0),  # long 10 -> 6: passes
        ("B", "sell", 15.0, 10.0),  # long 10 -> would be short 5: cut to 10 (flat)
        ("C", "buy", 3.0, 10.0),  # long 10 -> 13: rejected
        ("D", "buy", 5.0, 10.0),  # new position: rejected
        ("E", "buy", 12.0, 10.0),  # short 8 -> long 4: cut to 8 (flat)
        ("F", "sell", 2.0, 10.0),  # short 8 -> 10: rejected
    )
    held = {"A": 10.0, "B": 10.0, "C": 10.0, "E": -8.0, "F": -8.0}
    out = _check(orders, held=held, state=State.REDUCING)
    assert _decisions(out) == [
        ("A", "pass", 4.0, None),
        ("B", "resize", 10.0, "state"),
        ("C", "reject", 0.0, "state"),
        ("D", "reject", 0.0, "state"),
        ("E", "resize", 8.0, "state"),
        ("F", "reject", 0.0, "state"),
    ]


def test_restricted_symbols_may_only_be_reduced() -> None:
    orders = _orders(("X", "buy", 1.0, 10.0), ("Y", "sell", 3.0, 10.0), ("Z", "buy", 1.0, 10.0))
    out = _check(orders, held={"Y": 2.0}, restricted_symbols={"X", "Y"})
    assert _decisions(out) == [
        ("X", "reject", 0.0, "restricted"),
        ("Y", "resize", 2.0, "restricted"),  # selling 3 of 2 would go short
        ("Z", "pass", 1.0, None),
    ]


def test_price_collar_rejects_far_or_unverifiable_reference_prices() -> None:
    orders = _orders(
        ("A", "buy", 1.0, 105.0),  # 500 bps from 100: at the collar, passes
        ("B", "buy", 1.0, 105.01),  # 501 bps: rejected
        ("C", "sell", 1.0, 94.0),  # 600 bps below, a sell: rejected too
        ("D", "buy", 1.0, 100.0),  # no trusted price: rejected (fail closed)
    )
    trusted = {"A": 100.0, "B": 100.0, "C": 100.0}
    out = _check(orders, held={"C": 1.0}, trusted=trusted, price_collar_bps=500.0)
    assert out["decision"].to_list() == ["pass", "reject", "reject", "reject"]
    assert out["rule"].to_list() == [None, "price_collar", "price_collar", "price_collar"]


def test_max_order_notional_cuts_to_whole_or_fractional_shares() -> None:
    # 5,000 / 45 = 111.11 -> 111 whole shares; a fractional order keeps 6 decimals.
    orders = _orders(
        ("A", "buy", 120.0, 45.0), ("B", "buy", 120.5, 45.0), ("C", "sell", 200.0, 45.0)
    )
    out = _check(orders, held={"C": 200.0}, cash=1e6, max_order_notional=5_000.0)
    assert _decisions(out) == [
        ("A", "resize", 111.0, "max_order_notional"),
        ("B", "resize", 111.111111, "max_order_notional"),
        ("C", "resize", 111.0, "max_order_notional"),  # exits are capped too
    ]


def test_a_cut_that_leaves_nothing_is_a_reject() -> None:
    out = _check(_orders(("A", "buy", 3.0, 50.0)), max_order_notional=40.0)
    assert _decisions(out) == [("A", "reject", 0.0, "max_order_notional")]


def test_max_position_weight_is_measured_at_the_mark_after_the_order() -> None:
    # Cap 20% of 10,000 = 2,000. A marked at 50: room 40 shares, hold 30, buy 25 -> 10.
    # B marked at 40 (order price 50): room 50 shares, buy 60 -> 50.
    # C held at 50 shares (2,500, over the cap): buying 1 is rejected, selling 5 passes.
    orders = _orders(
        ("A", "buy", 25.0, 50.0),
        ("B", "buy", 60.0, 50.0),
        ("C", "buy", 1.0, 50.0),
        ("C", "sell", 5.0, 50.0),
    )
    marks = {"A": 50.0, "B": 40.0, "C": 50.0}
    out = _check(
        orders, held={"A": 30.0, "C": 50.0}, marks=marks, trusted={s: 50.0 for s in marks},
        max_position_weight=0.2, cash=1e6,
    )  # fmt: skip
    assert _decisions(out) == [
        ("A", "resize", 10.0, "max_position_weight"),
        ("B", "resize", 50.0, "max_position_weight"),
        ("C", "reject", 0.0, "max_position_weight"),
        ("C", "pass", 5.0, None),
    ]


def test_a_flip_is_cut_so_the_new_side_stays_within_the_weight_cap() -> None:
    # Long 100 @ 50 (5,000, over the 20% cap of 2,000 = 40 shares). Selling 150 ends short 50
    # (2,500): cut to 140, short 40. Selling 50 only shrinks the long (to 2,500, still over a
    # 10% cap): it passes, as an exit must.
    flip = _check(_orders(("A", "sell", 150.0, 50.0)), held={"A": 100.0}, max_position_weight=0.2)
    assert _decisions(flip) == [("A", "resize", 140.0, "max_position_weight")]
    shrink = _check(_orders(("A", "sell", 50.0, 50.0)), held={"A": 100.0}, max_position_weight=0.1)
    assert _decisions(shrink) == [("A", "pass", 50.0, None)]


def test_max_gross_exposure_counts_sells_before_buys_whatever_the_input_order() -> None:
    # Cap 100% of 10,000. A: 100 @ 60 = 6,000 held. Buying 100 B @ 50 alone -> 11,000:
    # cut to (10,000 - 6,000) / 50 = 80. Selling 50 A first frees 3,000: B fits in full.
    alone = _check(_orders(("B", "buy", 100.0, 50.0)), held={"A": 100.0},
                   marks={"A": 60.0, "B": 50.0}, max_gross_exposure=1.0)  # fmt: skip
    assert _decisions(alone) == [("B", "resize", 80.0, "max_gross_exposure")]
    both = _check(
        _orders(("B", "buy", 100.0, 50.0), ("A", "sell", 50.0, 60.0)),
        held={"A": 100.0}, max_gross_exposure=1.0,
    )  # fmt: skip
    assert both["decision"].to_list() == ["pass", "pass"]


def test_an_exit_passes_even_when_the_rest_of_the_book_is_over_the_gross_cap() -> None:
    # A: 200 @ 60 = 12,000 alone exceeds the 10,000 cap. Selling 10 B @ 50 (all of B) shrinks
    # gross and passes; buying 1 B would add to it and is rejected.
    marks = {"A": 60.0, "B": 50.0}
    out = _check(
        _orders(("B", "sell", 10.0, 50.0), ("B", "buy", 1.0, 50.0)),
        held={"A": 200.0, "B": 10.0}, marks=marks, max_gross_exposure=1.0,
    )  # fmt: skip
    assert _decisions(out) == [
        ("B", "pass", 10.0, None),
        ("B", "reject", 0.0, "max_gross_exposure"),
    ]


def test_max_net_exposure_on_a_long_short_book() -> None:
    # Long A 100 @ 50 (5,000), short B 40 @ 50 (-2,000): net 3,000, cap 40% = 4,000.
    # Buying 40 C @ 50 (+2,000) would make 5,000: cut to (4,000 - 3,000) / 50 = 20.
    # (C goes first: it is the larger order.) Then net is 4,000; shorting 30 D @ 50 takes it
    # to 2,500: passes.
    orders = _orders(("C", "buy", 40.0, 50.0), ("D", "sell", 30.0, 50.0))
    marks = {"A": 50.0, "B": 50.0, "C": 50.0, "D": 50.0}
    out = _check(orders, held={"A": 100.0, "B": -40.0}, marks=marks, max_net_exposure=0.4)
    assert _decisions(out) == [
        ("C", "resize", 20.0, "max_net_exposure"),
        ("D", "pass", 30.0, None),
    ]


def test_buying_power_counts_sells_of_longs_but_not_short_sales() -> None:
    # Cash 1,000 + selling 10 A @ 100 = 2,000 for buying 30 B @ 100: cut to 20.
    out = _check(
        _orders(("B", "buy", 30.0, 100.0), ("A", "sell", 10.0, 100.0)),
        held={"A": 10.0}, cash=1_000.0,
    )  # fmt: skip
    assert _decisions(out) == [("B", "resize", 20.0, "buying_power"), ("A", "pass", 10.0, None)]
    # Selling 10 C short raises no cash: buying 15 B @ 100 with 1,000 is cut to 10.
    short = _check(_orders(("C", "sell", 10.0, 100.0), ("B", "buy", 15.0, 100.0)), cash=1_000.0)
    assert _decisions(short) == [("C", "pass", 10.0, None), ("B", "resize", 10.0, "buying_power")]


def test_negative_cash_rejects_buys() -> None:
    out = _check(_orders(("B", "buy", 1.0, 10.0)), cash=-5.0)
    assert _decisions(out) == [("B", "reject", 0.0, "buying_power")]


def test_max_orders_per_run_keeps_reductions_then_the_largest_orders() -> None:
    # Two slots: the exit of A (a reduction) first, then C (3,000, the largest buy).
    # E is rejected by the collar before it could take a slot.
    orders = _orders(
        ("A", "sell", 1.0, 10.0),
        ("B", "buy", 10.0, 100.0),
        ("C", "buy", 30.0, 100.0),
        ("D", "buy", 20.0, 100.0),
        ("E", "buy", 90.0, 100.0),
    )
    trusted = {"A": 10.0, "B": 100.0, "C": 100.0, "D": 100.0, "E": 50.0}
    out = _check(orders, held={"A": 1.0}, trusted=trusted, max_orders_per_run=2)
    assert _decisions(out) == [
        ("A", "pass", 1.0, None),
        ("B", "reject", 0.0, "max_orders_per_run"),
        ("C", "pass", 30.0, None),
        ("D", "reject", 0.0, "max_orders_per_run"),
        ("E", "reject", 0.0, "price_collar"),
    ]


def test_rules_apply_in_order_and_cuts_accumulate() -> None:
    # Restricted comes before the collar; a notional cut then a cash cut name both rules.
    restricted = _check(_orders(("X", "buy", 1.0, 10.0)), trusted={"X": 1.0},
                        restricted_symbols={"X"})  # fmt: skip
    assert _decisions(restricted) == [("X", "reject", 0.0, "restricted")]
    # Notional cap 5,000 @ 100 -> 50; cash 3,000 -> 30.
    out = _check(_orders(("A", "buy", 80.0, 100.0)), cash=3_000.0, max_order_notional=5_000.0)
    assert _decisions(out) == [("A", "resize", 30.0, "max_order_notional,buying_power")]
    assert "5,000.00" in out["reason"].item() and "3,000.00" in out["reason"].item()


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"orders": _orders(("A", "hold", 1.0, 10.0))}, "side 'buy' or 'sell'"),
        ({"orders": _orders(("A", "buy", 0.0, 10.0))}, "positive finite qty"),
        (
            {"orders": _orders(("A", "buy", 1.0, 10.0)).drop("price"), "marks": {"A": 10.0}},
            "lack column",
        ),
        (
            {"orders": _orders(("A", "buy", 1.0, 10.0)).with_columns(decision=pl.lit("x"))},
            "result column",
        ),
        ({"held": {"Q": 1.0}}, r"no usable price .*\['Q'\]"),
        ({"marks": {"B": 1.0}}, r"no usable price .*\['A'\]"),
        ({"equity": 0.0}, "equity must be"),
        ({"cash": float("nan")}, "cash must be"),
        ({"trusted": {"A": -1.0}}, "last_trusted has null, non-positive"),
    ],
)
def test_malformed_inputs_raise(changes: dict, match: str) -> None:
    orders = changes.pop("orders", _orders(("A", "buy", 1.0, 10.0)))
    with pytest.raises(ValueError, match=match):
        _check(orders, **changes)


def test_duplicate_position_rows_raise() -> None:
    with pytest.raises(ValueError, match="duplicate symbols"):
        check_orders(
            _orders(("A", "buy", 1.0, 10.0)),
            positions=pl.DataFrame({"symbol": ["A", "A"], "qty": [1.0, 2.0]}),
            prices=_prices({"A": 10.0}), last_trusted=_prices({"A": 10.0}),
            equity=1.0, cash=1.0, state=State.ACTIVE, limits=RiskLimits(**LOOSE),
        )  # fmt: skip


def test_the_state_may_be_given_by_name_but_an_unknown_one_raises() -> None:
    out = _check(_orders(("A", "buy", 1.0, 10.0)), state="halted")  # type: ignore[arg-type]
    assert _decisions(out) == [("A", "reject", 0.0, "state")]
    with pytest.raises(ValueError, match="paused"):
        _check(_orders(("A", "buy", 1.0, 10.0)), state="paused")  # type: ignore[arg-type]
