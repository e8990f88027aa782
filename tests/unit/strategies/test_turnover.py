"""No-trade band and turnover limit: hand-computed books, and their invariants under hypothesis."""

from __future__ import annotations

import math
from collections.abc import Callable

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strategies.turnover import apply_no_trade_band, limit_turnover, turnover


def _targets(weights: dict[str, float]) -> pl.DataFrame:
    return pl.DataFrame(
        {"symbol": list(weights), "target_weight": list(weights.values())},
        schema={"symbol": pl.String, "target_weight": pl.Float64},
    )


def _current(weights: dict[str, float]) -> pl.DataFrame:
    return pl.DataFrame(
        {"symbol": list(weights), "weight": list(weights.values())},
        schema={"symbol": pl.String, "weight": pl.Float64},
    )


def _as_dict(frame: pl.DataFrame) -> dict[str, float]:
    return dict(frame.iter_rows())


def test_band_keeps_small_trades_and_passes_the_rest_in_full() -> None:
    targets = _targets({"A": 0.30, "B": 0.20, "C": 0.05, "E": -0.10})
    current = _current({"A": 0.28, "B": 0.10, "D": 0.03, "E": -0.14})
    out = apply_no_trade_band(targets, current, band=0.05)
    assert out.schema == pl.Schema({"symbol": pl.String, "target_weight": pl.Float64})
    # A moves 0.02 and E 0.04 (< band): kept. B moves 0.10: goes all the way. C is a new name
    # exactly at the band (not below it): bought. D was dropped from the targets, but selling
    # 0.03 is below the band: kept.
    assert out["symbol"].to_list() == ["A", "B", "C", "D", "E"]
    assert out["target_weight"].to_list() == [0.28, 0.20, 0.05, 0.03, -0.14]


def test_zero_band_changes_nothing() -> None:
    targets = _targets({"A": 0.5, "B": 0.5})
    current = _current({"A": 0.5000001, "C": 0.2})
    out = apply_no_trade_band(targets, current, band=0.0)
    assert _as_dict(out) == {"A": 0.5, "B": 0.5, "C": 0.0}


def test_limit_scales_every_trade_by_the_same_factor() -> None:
    # Trades: A -0.5, B +0.3, C +0.2: turnover 1.0; a 0.4 limit scales them by 0.4.
    targets = _targets({"A": 0.5, "B": 0.3, "C": 0.2})
    current = _current({"A": 1.0})
    assert turnover(targets, current) == pytest.approx(1.0)
    out = limit_turnover(targets, current, max_turnover=0.4)
    assert _as_dict(out) == pytest.approx({"A": 0.8, "B": 0.12, "C": 0.08})
    assert turnover(out, current) == pytest.approx(0.4)


def test_limit_leaves_a_small_enough_rebalance_alone_and_zero_means_no_trade() -> None:
    targets = _targets({"A": 0.6, "B": 0.4})
    current = _current({"A": 0.5, "B": 0.5})
    assert _as_dict(limit_turnover(targets, current, max_turnover=0.2)) == {"A": 0.6, "B": 0.4}
    assert _as_dict(limit_turnover(targets, current, max_turnover=0.0)) == {"A": 0.5, "B": 0.5}


def test_rotation_counts_both_legs() -> None:
    assert turnover(_targets({"B": 0.1}), _current({"A": 0.1})) == pytest.approx(0.2)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda t, c: apply_no_trade_band(t, c, band=-0.01), "band"),
        (lambda t, c: apply_no_trade_band(t, c, band=math.nan), "band"),
        (lambda t, c: limit_turnover(t, c, max_turnover=-1.0), "max_turnover"),
        (lambda t, c: limit_turnover(t, c.rename({"weight": "w"}), max_turnover=1.0), "lacks"),
        (lambda t, c: turnover(pl.concat([t, t]), c), "duplicate"),
        (lambda t, c: turnover(_targets({"A": math.nan}), c), "NaN"),
    ],
)
def test_bad_inputs_raise_a_clear_error(
    call: Callable[[pl.DataFrame, pl.DataFrame], object], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        call(_targets({"A": 0.5}), _current({"A": 0.4}))


weight = st.floats(-1.0, 1.0)
books = st.tuples(
    st.dictionaries(st.sampled_from("ABCDEFGH"), weight, max_size=8),
    st.dictionaries(st.sampled_from("ABCDEFGH"), weight, max_size=8),
)


@settings(deadline=None)  # no wall-clock limit: a loaded CI machine is not a bug
@given(books=books, band=st.floats(0.0, 0.5))
def test_band_never_creates_or_enlarges_a_trade(books: tuple[dict, dict], band: float) -> None:
    target, current = books
    out = _as_dict(apply_no_trade_band(_targets(target), _current(current), band=band))
    assert set(out) == set(target) | set(current)
    for symbol, w in out.items():
        t, c = target.get(symbol, 0.0), current.get(symbol, 0.0)
        assert w in (t, c)  # the target or the current weight, nothing in between
        assert w == c or abs(t - c) >= band  # a trade is made only when it reaches the band


@settings(deadline=None)
@given(books=books, max_turnover=st.floats(0.0, 3.0))
def test_limited_turnover_stays_within_the_limit_on_the_way_to_target(
    books: tuple[dict, dict], max_turnover: float
) -> None:
    target, current = books
    t_frame, c_frame = _targets(target), _current(current)
    out = limit_turnover(t_frame, c_frame, max_turnover=max_turnover)
    full = turnover(t_frame, c_frame)
    assert turnover(out, c_frame) <= max_turnover + 1e-12
    if full <= max_turnover:
        assert _as_dict(out) == pytest.approx({s: target.get(s, 0.0) for s in _as_dict(out)})
    else:
        assert turnover(out, c_frame) == pytest.approx(max_turnover, rel=1e-9, abs=1e-12)
    # One common step along every trade: the net exposure moves by the same fraction.
    step = 1.0 if full <= max_turnover else max_turnover / full
    net_t, net_c = sum(target.values()), sum(current.values())
    net_out = float(out["target_weight"].sum())
    assert net_out == pytest.approx(net_c + step * (net_t - net_c), abs=1e-9)
