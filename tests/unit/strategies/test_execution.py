"""The execution model against hand-computed fills, and its invariants under hypothesis."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strategies.execution import (
    Bar,
    CostModel,
    WorkingOrder,
    cost_bps,
    execute_at_reference,
    execute_on_bar,
)

COSTS = CostModel(
    slippage_bps=5.0,
    impact_coefficient_bps=100.0,
    impact_exponent=0.5,
    max_participation=0.1,
    commission_bps=1.0,
)
BAR = Bar(open=100.0, high=102.0, low=98.0, volume=10_000.0)


def test_a_market_buy_pays_slippage_and_square_root_impact_at_the_open() -> None:
    fill = execute_on_bar(WorkingOrder("buy", 100.0), BAR, costs=COSTS)
    # 1% of the volume: impact 100 * sqrt(0.01) = 10 bps, plus 5 fixed = 15 bps.
    assert fill.filled_qty == 100.0
    assert fill.avg_price == pytest.approx(100.15)
    assert fill.commission == pytest.approx(100 * 100.15 * 1e-4)
    assert (fill.status, fill.reason) == ("filled", None)


def test_a_market_sell_receives_less() -> None:
    fill = execute_on_bar(WorkingOrder("sell", 100.0), BAR, costs=COSTS)
    assert fill.avg_price == pytest.approx(99.85)
    assert fill.status == "filled"


def test_the_participation_cap_leaves_a_rest_that_a_day_order_loses() -> None:
    day = execute_on_bar(WorkingOrder("buy", 2_500.0), BAR, costs=COSTS)
    # 10% of 10,000 = 1,000 fill; impact 100 * sqrt(0.1) = 31.6228 bps, plus 5.
    assert day.filled_qty == 1_000.0
    assert day.avg_price == pytest.approx(100 * (1 + 36.6227766 / 1e4))
    assert day.status == "expired"
    assert "participation cap" in (day.reason or "") and "expired" in (day.reason or "")
    gtc = execute_on_bar(WorkingOrder("buy", 2_500.0, time_in_force="gtc"), BAR, costs=COSTS)
    assert (gtc.filled_qty, gtc.status) == (1_000.0, "partially_filled")
    later = WorkingOrder("buy", 2_500.0, time_in_force="gtc", filled_qty=2_000.0)
    last = execute_on_bar(later, BAR, costs=COSTS)
    assert (last.filled_qty, last.status) == (500.0, "filled")
    assert last.avg_price == pytest.approx(100 * (1 + (5 + 100 * math.sqrt(0.05)) / 1e4))


def test_whole_share_orders_fill_whole_shares_and_fractional_ones_do_not() -> None:
    thin = Bar(open=10.0, high=10.0, low=10.0, volume=15.0)  # cap 1.5 shares
    whole = execute_on_bar(WorkingOrder("buy", 5.0, time_in_force="gtc"), thin, costs=COSTS)
    assert whole.filled_qty == 1.0
    fractional = execute_on_bar(WorkingOrder("buy", 2.5, time_in_force="gtc"), thin, costs=COSTS)
    assert fractional.filled_qty == pytest.approx(1.5)
    tiny = Bar(open=10.0, high=10.0, low=10.0, volume=5.0)  # cap 0.5: not one whole share
    none = execute_on_bar(WorkingOrder("buy", 5.0, time_in_force="gtc"), tiny, costs=COSTS)
    assert (none.filled_qty, none.avg_price, none.status) == (0.0, None, "open")


@pytest.mark.parametrize(
    ("open_", "low", "expected"),
    [
        (99.0, 98.0, 99.0 * (1 + 15 / 1e4)),  # open below the limit: the open plus costs
        (99.95, 99.0, 100.0),  # 99.95 plus 15 bps is 100.10: clamped to the limit
        (101.0, 99.5, 100.0),  # opens above, trades down through it: at the limit
    ],
)
def test_a_limit_buy_fills_at_the_better_of_open_and_limit(
    open_: float, low: float, expected: float
) -> None:
    bar = Bar(open=open_, high=102.0, low=low, volume=10_000.0)
    fill = execute_on_bar(WorkingOrder("buy", 100.0, "limit", 100.0), bar, costs=COSTS)
    assert fill.avg_price == pytest.approx(expected)
    assert fill.status == "filled"


def test_a_limit_sell_mirrors_the_buy() -> None:
    sell = WorkingOrder("sell", 100.0, "limit", 100.0)
    up = execute_on_bar(sell, Bar(open=101.0, high=102.0, low=99.0, volume=1e4), costs=COSTS)
    assert up.avg_price == pytest.approx(101.0 * (1 - 15 / 1e4))
    through = execute_on_bar(sell, Bar(open=99.0, high=100.5, low=98.0, volume=1e4), costs=COSTS)
    assert through.avg_price == 100.0  # 99.85 after costs, clamped to the limit
    never = execute_on_bar(sell, Bar(open=99.0, high=99.9, low=98.0, volume=1e4), costs=COSTS)
    assert (never.filled_qty, never.status) == (0.0, "expired")
    assert "limit 100 not reached" in (never.reason or "")


def test_an_unreached_gtc_limit_stays_open() -> None:
    order = WorkingOrder("buy", 100.0, "limit", 90.0, time_in_force="gtc")
    fill = execute_on_bar(order, BAR, costs=COSTS)
    assert (fill.filled_qty, fill.avg_price, fill.commission, fill.status) == (0, None, 0, "open")


@pytest.mark.parametrize(
    ("bar", "words"),
    [
        (Bar(open=100.0, high=101.0, low=99.0, volume=None), "no volume"),
        (Bar(open=100.0, high=101.0, low=99.0, volume=0.0), "volume is 0"),
        (Bar(open=100.0, high=101.0, low=99.0, volume=float("nan")), "no volume"),
        (Bar(open=None, high=101.0, low=99.0, volume=1e4), "no open"),
        (Bar(open=-1.0, high=101.0, low=99.0, volume=1e4), "open is -1"),
    ],
)
def test_missing_market_data_fills_nothing_and_says_why(bar: Bar, words: str) -> None:
    gtc = execute_on_bar(WorkingOrder("buy", 10.0, time_in_force="gtc"), bar, costs=COSTS)
    assert (gtc.filled_qty, gtc.avg_price, gtc.status) == (0.0, None, "open")
    assert words in (gtc.reason or "")
    day = execute_on_bar(WorkingOrder("buy", 10.0), bar, costs=COSTS)
    assert (day.filled_qty, day.status) == (0.0, "expired")


def test_a_limit_order_needs_the_low_it_would_trade_through() -> None:
    bar = Bar(open=101.0, high=102.0, low=None, volume=1e4)
    fill = execute_on_bar(WorkingOrder("buy", 10.0, "limit", 100.0), bar, costs=COSTS)
    assert fill.filled_qty == 0.0 and "no low" in (fill.reason or "")


def test_a_reference_fill_without_volume_has_no_impact_and_no_cap() -> None:
    fill = execute_at_reference(WorkingOrder("buy", 1e6), price=200.0, volume=None, costs=COSTS)
    assert fill.filled_qty == 1e6
    assert fill.avg_price == pytest.approx(200.1)
    assert fill.status == "filled"


def test_a_reference_fill_with_volume_is_capped_and_the_day_goes_on() -> None:
    fill = execute_at_reference(
        WorkingOrder("buy", 2_000.0), price=100.0, volume=10_000.0, costs=COSTS
    )
    assert fill.filled_qty == 1_000.0
    assert fill.status == "partially_filled"  # a DAY order expires only when its session ends
    assert fill.avg_price == pytest.approx(100 * (1 + 36.6227766 / 1e4))


def test_a_reference_fill_refuses_bad_data_and_unreached_limits() -> None:
    for price, volume in [(None, 1e4), (100.0, 0.0), (float("inf"), None)]:
        fill = execute_at_reference(
            WorkingOrder("buy", 1.0), price=price, volume=volume, costs=COSTS
        )
        assert (fill.filled_qty, fill.status) == (0.0, "open")
    limit = WorkingOrder("sell", 1.0, "limit", 101.0)
    assert execute_at_reference(limit, price=100.0, volume=None, costs=COSTS).status == "open"


# -- properties ---------------------------------------------------------------------------

prices = st.floats(min_value=0.5, max_value=1_000.0)
costs = st.builds(
    CostModel,
    slippage_bps=st.floats(0.0, 50.0),
    impact_coefficient_bps=st.floats(0.0, 500.0),
    impact_exponent=st.floats(0.1, 1.0),
    max_participation=st.floats(0.001, 1.0),
    commission_bps=st.floats(0.0, 20.0),
)


@st.composite
def orders(draw: st.DrawFn) -> WorkingOrder:
    qty = draw(st.one_of(st.integers(1, 100_000).map(float), st.floats(0.001, 1e5)))
    limit = draw(st.none() | prices)
    return WorkingOrder(
        side=draw(st.sampled_from(["buy", "sell"])),
        qty=qty,
        order_type="market" if limit is None else "limit",
        limit_price=limit,
        time_in_force=draw(st.sampled_from(["day", "gtc"])),
        filled_qty=draw(st.floats(0.0, 1.0)) * qty,
    )


@st.composite
def bars(draw: st.DrawFn) -> Bar:
    a, b, c = sorted(draw(st.lists(prices, min_size=3, max_size=3)))
    return Bar(open=b, high=c, low=a, volume=draw(st.floats(1.0, 1e7)))


@given(order=orders(), bar=bars(), model=costs)
def test_a_bar_fill_respects_quantity_cap_limit_and_direction(
    order: WorkingOrder, bar: Bar, model: CostModel
) -> None:
    fill = execute_on_bar(order, bar, costs=model)
    assert 0.0 <= fill.filled_qty <= order.remaining + 1e-9
    assert bar.volume is not None and bar.open is not None
    assert fill.filled_qty <= model.max_participation * bar.volume + 1e-9
    assert fill.commission >= 0.0
    if fill.filled_qty == 0:
        assert fill.avg_price is None and fill.commission == 0.0
        return
    assert fill.avg_price is not None
    base = bar.open if order.limit_price is None else _base(order, bar)
    if order.side == "buy":
        assert fill.avg_price >= min(base, order.limit_price or math.inf) - 1e-9
    else:
        assert fill.avg_price <= max(base, order.limit_price or 0.0) + 1e-9
    if order.limit_price is not None:
        worse = fill.avg_price - order.limit_price
        assert (worse if order.side == "buy" else -worse) <= 1e-9


@given(order=orders(), bar=bars(), model=costs)
def test_a_bar_fill_status_follows_what_is_left(
    order: WorkingOrder, bar: Bar, model: CostModel
) -> None:
    fill = execute_on_bar(order, bar, costs=model)
    left = order.remaining - fill.filled_qty
    if left <= 1e-9:
        assert fill.status == "filled"
    elif order.time_in_force == "day":
        assert fill.status == "expired"
    else:
        done = order.filled_qty + fill.filled_qty > 0
        assert fill.status == ("partially_filled" if done else "open")


@given(order=orders(), price=prices, volume=st.none() | st.floats(1.0, 1e7), model=costs)
def test_a_reference_buy_never_pays_less_than_the_reference(
    order: WorkingOrder, price: float, volume: float | None, model: CostModel
) -> None:
    fill = execute_at_reference(order, price=price, volume=volume, costs=model)
    assert fill.status != "expired"
    assert fill.commission >= 0.0
    if volume is not None:
        assert fill.filled_qty <= model.max_participation * volume + 1e-9
    if fill.avg_price is None:
        return
    sign = 1.0 if order.side == "buy" else -1.0
    unclamped = price * (1 + sign * cost_bps(fill.filled_qty, volume, costs=model) / 1e4)
    expected = unclamped
    if order.limit_price is not None:
        expected = (
            min(unclamped, order.limit_price) if sign > 0 else max(unclamped, order.limit_price)
        )
        assert sign * (price - order.limit_price) <= 0  # filled only when the limit was reached
    assert fill.avg_price == pytest.approx(expected)
    assert sign * (fill.avg_price - price) >= -1e-9 * price  # never in our favour


def _base(order: WorkingOrder, bar: Bar) -> float:
    """Return a limit order's price before costs: the open when within the limit, else it."""
    assert order.limit_price is not None and bar.open is not None
    within = bar.open <= order.limit_price if order.side == "buy" else bar.open >= order.limit_price
    return bar.open if within else order.limit_price
