"""Sizing: hand-computed weights, vol scales and Kelly books, and their caps under hypothesis."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strategies.sizing import (
    fixed_fractional,
    fractional_kelly,
    long_short_weights,
    score_proportional_weights,
    vol_target_scale,
)

# Daily vols 1% and 2%, correlation 0.5.
COV_2 = np.array([[1.0, 1.0], [1.0, 4.0]]) * 1e-4


def _preds(scores: dict[str, float]) -> pl.DataFrame:
    return pl.DataFrame(
        {"symbol": list(scores), "score": list(scores.values())},
        schema={"symbol": pl.String, "score": pl.Float64},
    )


def _as_dict(frame: pl.DataFrame) -> dict[str, float]:
    return dict(frame.iter_rows())


def _annual_vol(weights: np.ndarray, cov: np.ndarray) -> float:
    return math.sqrt(252 * float(weights @ cov @ weights))


# --- long-short and score-proportional weights -------------------------------------------


def test_long_short_is_equal_weight_on_each_side_and_dollar_neutral() -> None:
    preds = _preds({"A": 6.0, "B": 5.0, "C": 4.0, "D": 3.0, "E": 2.0, "F": 1.0})
    out = long_short_weights(preds, k_long=2, k_short=2, gross=1.0, max_position_weight=0.5)
    assert out.schema == pl.Schema({"symbol": pl.String, "target_weight": pl.Float64})
    assert out.rows() == [("A", 0.25), ("B", 0.25), ("E", -0.25), ("F", -0.25)]


def test_long_short_cap_shrinks_both_legs_alike() -> None:
    # k_long=3, k_short=1: the lone short can hold only 0.3, so each leg is 0.3 (gross 0.6).
    preds = _preds({"A": 6.0, "B": 5.0, "C": 4.0, "D": 3.0, "E": 2.0, "F": 1.0})
    out = long_short_weights(preds, k_long=3, k_short=1, gross=1.0, max_position_weight=0.3)
    assert _as_dict(out) == pytest.approx({"A": 0.1, "B": 0.1, "C": 0.1, "F": -0.3})


def test_long_short_with_few_names_splits_them_and_skips_the_median() -> None:
    preds = _preds({"A": 0.3, "B": 0.2, "C": 0.1, "D": 0.0, "E": -0.1})
    out = long_short_weights(preds, k_long=3, k_short=3, gross=2.0, max_position_weight=1.0)
    assert _as_dict(out) == pytest.approx({"A": 0.5, "B": 0.5, "D": -0.5, "E": -0.5})
    one = long_short_weights(
        _preds({"A": 1.0}), k_long=1, k_short=1, gross=1.0, max_position_weight=1.0
    )
    assert one.is_empty()


def test_score_proportional_uses_demeaned_ranks_so_an_outlier_does_not_dominate() -> None:
    # Ranks 4, 3, 2, 1 -> centered 1.5, 0.5, -0.5, -1.5; each leg carries gross / 2.
    preds = _preds({"A": 0.9, "B": 0.1, "C": -0.2, "D": -50.0})
    out = score_proportional_weights(preds, gross=1.0, max_position_weight=1.0, long_only=False)
    assert out.rows() == [("A", 0.375), ("B", 0.125), ("C", -0.125), ("D", -0.375)]


def test_score_proportional_long_only_water_fills_under_the_cap() -> None:
    preds = _preds({"A": 0.9, "B": 0.1, "C": -0.2, "D": -50.0})
    free = score_proportional_weights(preds, gross=1.0, max_position_weight=1.0, long_only=True)
    assert _as_dict(free) == pytest.approx({"A": 0.75, "B": 0.25})
    capped = score_proportional_weights(preds, gross=1.0, max_position_weight=0.6, long_only=True)
    assert _as_dict(capped) == pytest.approx({"A": 0.6, "B": 0.4})


def test_score_proportional_ties_share_a_rank_and_the_median_is_not_held() -> None:
    preds = _preds({"A": 2.0, "B": 2.0, "C": 0.0, "D": -1.0, "E": -1.0})
    out = score_proportional_weights(preds, gross=1.0, max_position_weight=1.0, long_only=False)
    assert _as_dict(out) == pytest.approx({"A": 0.25, "B": 0.25, "D": -0.25, "E": -0.25})
    flat = _preds({"A": 1.0, "B": 1.0})
    assert score_proportional_weights(
        flat, gross=1.0, max_position_weight=1.0, long_only=True
    ).is_empty()


@pytest.mark.parametrize("score", [math.nan, None, math.inf])
def test_unusable_scores_raise(score: float | None) -> None:
    preds = _preds({"A": 1.0, "B": 0.5, "C": 0.0}).with_columns(
        pl.when(pl.col("symbol") == "B").then(score).otherwise(pl.col("score")).alias("score")
    )
    with pytest.raises(ValueError, match="scores for \\['B'\\]"):
        long_short_weights(preds, k_long=1, k_short=1, gross=1.0, max_position_weight=1.0)
    with pytest.raises(ValueError, match="scores for \\['B'\\]"):
        score_proportional_weights(preds, gross=1.0, max_position_weight=1.0, long_only=True)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"gross": -1.0}, "gross"),
        ({"max_position_weight": 0.0}, "max_position_weight"),
        ({"k_long": 0}, "k_long"),
        ({"predictions": _preds({"A": 1.0}).rename({"score": "s"})}, "lacks"),
        ({"predictions": pl.concat([_preds({"A": 1.0})] * 2)}, "duplicate"),
    ],
)
def test_long_short_bad_options_raise(kwargs: dict, match: str) -> None:
    args = {
        "predictions": _preds({"A": 1.0, "B": 0.0}),
        "k_long": 1,
        "k_short": 1,
        "gross": 1.0,
        "max_position_weight": 0.5,
    } | kwargs
    with pytest.raises(ValueError, match=match):
        long_short_weights(**args)


scores = st.lists(st.floats(-1e6, 1e6), min_size=0, max_size=30)
fractions = st.floats(0.01, 1.0)


@settings(deadline=None)  # no wall-clock limit: a loaded CI machine is not a bug
@given(
    values=scores,
    k_long=st.integers(1, 10),
    k_short=st.integers(1, 10),
    gross=st.floats(0.01, 2.0),
    cap=fractions,
)
def test_long_short_nets_to_zero_within_caps_and_gross(
    values: list[float], k_long: int, k_short: int, gross: float, cap: float
) -> None:
    preds = _preds({f"S{i:02d}": v for i, v in enumerate(values)})
    out = long_short_weights(
        preds, k_long=k_long, k_short=k_short, gross=gross, max_position_weight=cap
    )
    weights = out["target_weight"].to_list()
    longs = [w for w in weights if w > 0]
    shorts = [w for w in weights if w < 0]
    assert (
        len(longs) <= k_long and len(shorts) <= k_short and len(longs) + len(shorts) == len(weights)
    )
    assert all(abs(w) <= cap for w in weights)
    assert sum(weights) == pytest.approx(0.0, abs=1e-12)
    if weights:
        expected = 2 * min(gross / 2, cap * min(len(longs), len(shorts)))
        assert sum(abs(w) for w in weights) == pytest.approx(expected, rel=1e-12)
        score = dict(preds.iter_rows())
        assert min(score[s] for s, w in out.iter_rows() if w > 0) >= max(
            score[s] for s, w in out.iter_rows() if w < 0
        )


@settings(deadline=None)
@given(values=scores, gross=st.floats(0.01, 2.0), cap=fractions, long_only=st.booleans())
def test_score_proportional_respects_caps_gross_and_neutrality(
    values: list[float], gross: float, cap: float, long_only: bool
) -> None:
    preds = _preds({f"S{i:02d}": v for i, v in enumerate(values)})
    out = score_proportional_weights(
        preds, gross=gross, max_position_weight=cap, long_only=long_only
    )
    weights = out["target_weight"].to_list()
    assert all(abs(w) <= cap for w in weights)
    assert sum(abs(w) for w in weights) <= gross * (1 + 1e-12)
    if long_only:
        assert all(w > 0 for w in weights)
    else:
        assert sum(weights) == pytest.approx(0.0, abs=1e-12)
    # Better score, never a smaller weight.
    score = dict(preds.iter_rows())
    ordered = [w for _, w in sorted(out.iter_rows(), key=lambda row: -score[row[0]])]
    assert all(a >= b - 1e-15 for a, b in zip(ordered, ordered[1:], strict=False))


# --- vol targeting ---------------------------------------------------------------------


def test_vol_target_scale_on_two_correlated_assets() -> None:
    # w'Σw = 0.25e-4 + 0.25 * 4e-4 + 2 * 0.25e-4 = 1.75e-4; * 252 = 0.0441: annual vol 0.21.
    w = np.array([0.5, 0.5])
    assert _annual_vol(w, COV_2) == pytest.approx(0.21)

    def scale(target: float, max_leverage: float) -> float:
        return vol_target_scale(w, COV_2, target_annual_vol=target, max_leverage=max_leverage)

    assert scale(0.105, 1.0) == pytest.approx(0.5)
    assert scale(0.42, 3.0) == pytest.approx(2.0)
    # Gross 1.0 may only grow to 1.5: vol 0.315, below the 0.42 asked for.
    assert scale(0.42, 1.5) == 1.5


def test_vol_target_scale_on_a_hedged_book_counts_correlation() -> None:
    # Long 1, short 0.25 of the correlated name: w'Σw = 1e-4 - 0.5e-4 + 0.0625 * 4e-4 = 0.75e-4.
    w = np.array([1.0, -0.25])
    k = vol_target_scale(w, COV_2, target_annual_vol=0.10, max_leverage=5.0)
    assert k == pytest.approx(0.10 / math.sqrt(252 * 0.75e-4))
    assert _annual_vol(k * w, COV_2) == pytest.approx(0.10)


def test_a_riskless_book_is_scaled_to_the_leverage_cap() -> None:
    singular = np.array([[1.0, 1.0], [1.0, 1.0]]) * 1e-4
    w = np.array([0.5, -0.5])  # perfectly hedged
    assert vol_target_scale(w, singular, target_annual_vol=0.1, max_leverage=2.0) == 2.0


@pytest.mark.parametrize(
    ("weights", "cov", "kwargs", "match"),
    [
        ([0.5, 0.5], [[1e-4, 2e-4], [2e-4, 1e-4]], {}, "not positive semi-definite"),
        ([0.5, 0.5], COV_2, {"target_annual_vol": -0.1}, "target_annual_vol"),
        ([0.5, 0.5], COV_2, {"max_leverage": 0.0}, "max_leverage"),
        ([0.0, 0.0], COV_2, {}, "all zero"),
        ([0.5, math.nan], COV_2, {}, "weights holds NaN"),
        ([0.5, 0.2, 0.3], COV_2, {}, "must be 3 x 3"),
    ],
)
def test_vol_target_bad_inputs_raise(weights: list, cov: list, kwargs: dict, match: str) -> None:
    options = {"target_annual_vol": 0.1, "max_leverage": 1.0} | kwargs
    with pytest.raises(ValueError, match=match):
        vol_target_scale(np.array(weights), np.array(cov), **options)


def _random_cov(seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.normal(0, 0.01, size=(n, n))
    return a @ a.T + np.diag(rng.uniform(0, 1e-4, size=n))


@settings(deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    weights=st.lists(st.floats(-1.0, 1.0), min_size=1, max_size=8).filter(
        lambda ws: sum(map(abs, ws)) > 1e-3
    ),
    target=st.floats(0.01, 1.0),
    max_leverage=st.floats(0.1, 5.0),
)
def test_vol_targeted_book_hits_the_target_unless_leverage_caps_it(
    seed: int, weights: list[float], target: float, max_leverage: float
) -> None:
    w = np.array(weights)
    cov = _random_cov(seed, w.size)
    k = vol_target_scale(w, cov, target_annual_vol=target, max_leverage=max_leverage)
    gross_after = k * float(np.abs(w).sum())
    assert gross_after <= max_leverage * (1 + 1e-12)
    if gross_after < max_leverage * (1 - 1e-9):
        assert _annual_vol(k * w, cov) == pytest.approx(target, rel=1e-9)
    else:
        assert _annual_vol(k * w, cov) <= target * (1 + 1e-9)


# --- Kelly and fixed fractional ----------------------------------------------------------


def test_kelly_with_a_diagonal_covariance_is_mu_over_variance() -> None:
    mu = np.array([0.0005, 0.0002, -0.0001])
    cov = np.diag([1e-4, 4e-4, 1e-4])  # full Kelly: 5, 0.5, -1
    half = fractional_kelly(mu, cov, fraction=0.5, cap=10.0, max_gross=10.0)
    assert half == pytest.approx([2.5, 0.25, -0.5])
    # Cap 1 clips the first to 1 (gross 1.75); max_gross 1.5 then scales all by 6/7.
    capped = fractional_kelly(mu, cov, fraction=0.5, cap=1.0, max_gross=1.5)
    assert capped == pytest.approx([6 / 7, 3 / 14, -3 / 7])


def test_kelly_with_correlation_uses_the_inverse_covariance() -> None:
    # Σ^-1 = [[4, -1], [-1, 1]] / 3e-4; with mu = 3e-4 each, Σ^-1 mu = [3, 0]: the second
    # name adds only risk the first already carries.
    out = fractional_kelly(np.array([3e-4, 3e-4]), COV_2, fraction=1.0, cap=5.0, max_gross=5.0)
    assert out == pytest.approx([3.0, 0.0], abs=1e-12)


@pytest.mark.parametrize(
    ("cov", "kwargs", "match"),
    [
        (np.array([[1.0, 1.0], [1.0, 1.0]]) * 1e-4, {}, "singular"),
        (np.array([[1e-4, 2e-4], [2e-4, 1e-4]]), {}, "not positive semi-definite"),
        (COV_2, {"fraction": 1.5}, "over-bets"),
        (COV_2, {"fraction": -0.5}, "fraction"),
        (COV_2, {"cap": -1.0}, "cap"),
        (COV_2, {"expected_returns": np.array([math.nan, 0.0])}, "expected_returns holds NaN"),
    ],
)
def test_kelly_bad_inputs_raise(cov: np.ndarray, kwargs: dict, match: str) -> None:
    args = {
        "expected_returns": np.array([1e-4, 1e-4]),
        "fraction": 0.5,
        "cap": 1.0,
        "max_gross": 1.0,
    } | kwargs
    with pytest.raises(ValueError, match=match):
        fractional_kelly(cov=cov, **args)


@settings(deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    mu=st.lists(st.floats(-1e-3, 1e-3), min_size=1, max_size=8),
    fraction=fractions,
    cap=st.floats(0.05, 3.0),
    max_gross=st.floats(0.1, 5.0),
)
def test_kelly_weights_respect_the_caps_and_are_kelly_when_unbound(
    seed: int, mu: list[float], fraction: float, cap: float, max_gross: float
) -> None:
    m = np.array(mu)
    cov = _random_cov(seed, m.size)
    w = fractional_kelly(m, cov, fraction=fraction, cap=cap, max_gross=max_gross)
    assert np.all(np.abs(w) <= cap)
    assert float(np.abs(w).sum()) <= max_gross * (1 + 1e-12)
    kelly = fraction * np.linalg.solve(cov, m)
    if np.abs(kelly).max() <= cap and np.abs(kelly).sum() <= max_gross:
        assert w == pytest.approx(kelly)
    # Uniform scaling and clipping keep each sign; nothing is bet against the Kelly direction.
    assert np.all(w * kelly >= 0)


def test_fixed_fractional_risks_the_same_equity_per_stop() -> None:
    stops = np.array([0.05, 0.02, 0.10])  # risk 1%: 20%, 50%, 10% of equity
    assert fixed_fractional(stops, risk_fraction=0.01, cap=1.0, max_gross=1.0) == pytest.approx(
        [0.2, 0.5, 0.1]
    )
    # Cap 0.4 clips the middle one (sum 0.7); max_gross 0.35 halves them all.
    out = fixed_fractional(stops, risk_fraction=0.01, cap=0.4, max_gross=0.35)
    assert out == pytest.approx([0.1, 0.2, 0.05])


@pytest.mark.parametrize(
    ("stops", "kwargs", "match"),
    [
        ([0.05, 0.0], {}, "stop_distances must be positive"),
        ([0.05, math.nan], {}, "NaN"),
        ([0.05], {"risk_fraction": 1.0}, "risk_fraction"),
        ([0.05], {"max_gross": -1.0}, "max_gross"),
    ],
)
def test_fixed_fractional_bad_inputs_raise(stops: list, kwargs: dict, match: str) -> None:
    options = {"risk_fraction": 0.01, "cap": 0.5, "max_gross": 1.0} | kwargs
    with pytest.raises(ValueError, match=match):
        fixed_fractional(np.array(stops), **options)


@settings(deadline=None)
@given(
    stops=st.lists(st.floats(1e-3, 0.5), min_size=1, max_size=20),
    risk=st.floats(1e-4, 0.05),
    cap=fractions,
    max_gross=st.floats(0.1, 2.0),
)
def test_fixed_fractional_never_risks_more_than_the_fraction(
    stops: list[float], risk: float, cap: float, max_gross: float
) -> None:
    s = np.array(stops)
    w = fixed_fractional(s, risk_fraction=risk, cap=cap, max_gross=max_gross)
    assert np.all((w > 0) & (w <= cap))
    assert float(w.sum()) <= max_gross * (1 + 1e-12)
    assert np.all(w * s <= risk * (1 + 1e-12))
