"""build_targets: construction, sizing and turnover control, with hand-computed cases and
properties (weights within caps and the gross budget, long only, turnover within its cap)."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strategies.portfolio import PortfolioConfig, build_targets
from strategies.turnover import turnover

NO_WEIGHTS = pl.DataFrame(schema={"symbol": pl.String, "weight": pl.Float64})


def preds(scores: dict[str, float]) -> pl.DataFrame:
    return pl.DataFrame({"symbol": list(scores), "score": list(scores.values())})


def vols(values: dict[str, float]) -> pl.DataFrame:
    return pl.DataFrame({"symbol": list(values), "vol": list(values.values())})


def weights(targets) -> dict[str, float]:
    return dict(targets.weights.iter_rows())


def test_top_k_equal_weights_by_hand() -> None:
    config = PortfolioConfig(top_k=2, weighting="equal", gross_exposure=0.8, max_position_weight=1)
    out = build_targets(
        preds({"A": 0.3, "B": 0.1, "C": 0.2}),
        config=config,
        volatility=vols({}),
        current_weights=NO_WEIGHTS,
    )
    assert weights(out) == pytest.approx({"A": 0.4, "C": 0.4})
    assert out.turnover == pytest.approx(0.8) == out.turnover_wanted


def test_fixed_fractional_by_hand() -> None:
    # 1% risk, stop 2 daily vols; A: 16% annual vol -> daily 0.01008 -> stop 2.016% -> 49.6%,
    # capped at 25%; B: 80% annual -> stop 10.08% -> 9.92%.
    config = PortfolioConfig(top_k=2, weighting="equal", sizing="fixed_fractional")
    out = build_targets(
        preds({"A": 1.0, "B": 0.5}),
        config=config,
        volatility=vols({"A": 0.16, "B": 0.80}),
        current_weights=NO_WEIGHTS,
    )
    daily_b = 0.80 / math.sqrt(252)
    assert weights(out) == pytest.approx({"A": 0.25, "B": 0.01 / (2 * daily_b)})


def test_vol_target_scales_the_book_to_the_target() -> None:
    rng = np.random.default_rng(0)
    rets = rng.normal(0, 0.02, size=(300, 2))
    returns = pl.DataFrame({"A": rets[:, 0], "B": rets[:, 1]})
    config = PortfolioConfig(
        top_k=2,
        weighting="equal",
        sizing="vol_target",
        target_annual_vol=0.10,
        max_position_weight=0.5,
        gross_exposure=1.0,
    )
    out = build_targets(
        preds({"A": 1.0, "B": 0.5}),
        config=config,
        volatility=vols({}),
        current_weights=NO_WEIGHTS,
        returns=returns,
    )
    from strategies.covariance import shrunk_covariance

    w = np.array([weights(out)["A"], weights(out)["B"]])
    vol = math.sqrt(252 * w @ shrunk_covariance(rets) @ w)
    assert vol == pytest.approx(0.10, rel=1e-9)


def test_kelly_without_an_edge_holds_nothing_and_needs_its_inputs() -> None:
    config = PortfolioConfig(top_k=2, weighting="equal", sizing="kelly")
    returns = pl.DataFrame({"A": [0.01, -0.02, 0.0, 0.01], "B": [0.0, 0.01, -0.01, 0.02]})
    args = {"config": config, "volatility": vols({"A": 0.2, "B": 0.3})}
    args |= {"current_weights": NO_WEIGHTS, "returns": returns}
    out = build_targets(preds({"A": 1.0, "B": 0.0}), ic=-0.01, **args)
    assert out.weights.is_empty() and any("not positive" in n for n in out.notes)
    with pytest.raises(ValueError, match="IC"):
        build_targets(preds({"A": 1.0, "B": 0.0}), ic=None, **args)


def test_kelly_with_an_edge_buys_the_best_name_more() -> None:
    rng = np.random.default_rng(1)
    rets = rng.normal(0, 0.015, size=(250, 3))
    returns = pl.DataFrame({"A": rets[:, 0], "B": rets[:, 1], "C": rets[:, 2]})
    config = PortfolioConfig(top_k=2, weighting="equal", sizing="kelly", kelly_fraction=0.25)
    out = build_targets(
        preds({"A": 2.0, "B": 1.0, "C": -3.0}),
        config=config,
        volatility=vols({"A": 0.24, "B": 0.24, "C": 0.24}),
        current_weights=NO_WEIGHTS,
        returns=returns,
        ic=0.01,
    )
    from strategies.covariance import shrunk_covariance

    # Grinold-Kahn alphas IC * daily vol * z / sqrt(horizon); z of (2, 1, -3): sample std
    # sqrt(7), so z = 2/sqrt(7), 1/sqrt(7).
    z = np.array([2.0, 1.0]) / math.sqrt(7)
    mu = 0.01 * (0.24 / math.sqrt(252)) * z / math.sqrt(5)
    expected = 0.25 * np.linalg.solve(shrunk_covariance(rets[:, :2]), mu)
    w = weights(out)
    assert [w["A"], w["B"]] == pytest.approx(expected.tolist())
    assert w["A"] > w["B"] > 0


def test_a_sizing_rule_without_its_inputs_raises() -> None:
    config = PortfolioConfig(top_k=1, weighting="equal", sizing="vol_target")
    with pytest.raises(ValueError, match="returns history"):
        build_targets(
            preds({"A": 1.0}), config=config, volatility=vols({}), current_weights=NO_WEIGHTS
        )


def test_no_trade_band_keeps_small_moves_and_turnover_cap_scales_the_trade() -> None:
    current = pl.DataFrame({"symbol": ["A", "B"], "weight": [0.48, 0.2]})
    config = PortfolioConfig(
        top_k=2, weighting="equal", gross_exposure=1.0, max_position_weight=0.5, no_trade_band=0.05
    )
    out = build_targets(
        preds({"A": 1.0, "C": 0.5}), config=config, volatility=vols({}), current_weights=current
    )
    # A: 0.48 -> 0.50 is inside the band (kept at 0.48); B exits, C enters.
    assert weights(out) == pytest.approx({"A": 0.48, "C": 0.5})
    capped = build_targets(
        preds({"A": 1.0, "C": 0.5}),
        config=config.model_copy(update={"max_turnover": 0.35}),
        volatility=vols({}),
        current_weights=current,
    )
    assert capped.turnover == pytest.approx(0.35)
    assert capped.turnover_wanted == pytest.approx(0.72)


@settings(max_examples=60)
@given(
    scores=st.lists(st.floats(-5, 5), min_size=1, max_size=12),
    held=st.lists(st.floats(0, 0.3), min_size=0, max_size=12),
    top_k=st.integers(1, 8),
    cap=st.floats(0.05, 1.0),
    gross=st.floats(0.1, 1.0),
    band=st.floats(0, 0.1),
    max_turnover=st.one_of(st.none(), st.floats(0, 2)),
    construction=st.sampled_from(["top_k", "score_proportional"]),
)
def test_targets_respect_caps_budget_and_turnover(
    scores, held, top_k, cap, gross, band, max_turnover, construction
) -> None:
    symbols = [f"S{i}" for i in range(len(scores))]
    current = pl.DataFrame(
        {"symbol": symbols[: len(held)], "weight": held[: len(symbols)]},
        schema={"symbol": pl.String, "weight": pl.Float64},
    )
    config = PortfolioConfig(
        construction=construction,
        top_k=top_k,
        weighting="equal",
        max_position_weight=cap,
        gross_exposure=gross,
        no_trade_band=band,
        max_turnover=max_turnover,
    )
    out = build_targets(
        pl.DataFrame({"symbol": symbols, "score": scores}),
        config=config,
        volatility=vols({}),
        current_weights=current,
    )
    w = out.weights["target_weight"]
    assert (w >= 0).all()
    if band == 0 and max_turnover is None:
        assert (w <= cap + 1e-12).all() and w.sum() <= gross + 1e-9
    if max_turnover is not None:
        assert turnover(out.weights, current) <= max_turnover + 1e-9
