"""target_weights: hand-computed weights, and the cap/budget invariants under hypothesis."""

from __future__ import annotations

import math

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from strategies.targets import capped_weights, target_weights


def _weights(frame: pl.DataFrame) -> dict[str, float]:
    return dict(frame.iter_rows())


def test_equal_weights_take_the_top_k_by_score() -> None:
    preds = pl.DataFrame({"symbol": ["A", "B", "C", "D"], "score": [0.1, 0.4, 0.3, 0.2]})
    out = target_weights(
        preds, top_k=3, weighting="equal", max_position_weight=0.5, gross_exposure=0.9
    )
    assert out.schema == pl.Schema({"symbol": pl.String, "target_weight": pl.Float64})
    assert out["symbol"].to_list() == ["B", "C", "D"]
    assert out["target_weight"].to_list() == pytest.approx([0.3, 0.3, 0.3])


def test_equal_weights_above_the_cap_stay_at_the_cap_and_leave_cash() -> None:
    preds = pl.DataFrame({"symbol": ["A", "B", "C"], "score": [3.0, 2.0, 1.0]})
    out = target_weights(
        preds, top_k=3, weighting="equal", max_position_weight=0.25, gross_exposure=0.9
    )
    assert out["target_weight"].to_list() == [0.25, 0.25, 0.25]


def test_inverse_vol_caps_one_name_and_shares_the_excess() -> None:
    # raw 1/vol = 10, 5, 2.5 (C's NaN score drops it): A would get 0.9*10/17.5 = 0.514 > 0.5,
    # so A = 0.5 and the remaining 0.4 splits 5:2.5 between B and D.
    preds = pl.DataFrame({"symbol": ["A", "B", "C", "D"], "score": [0.4, 0.3, float("nan"), 0.1]})
    vols = pl.DataFrame({"symbol": ["A", "B", "C", "D"], "vol": [0.1, 0.2, 0.3, 0.4]})
    out = target_weights(
        preds,
        top_k=3,
        weighting="inverse_vol",
        max_position_weight=0.5,
        gross_exposure=0.9,
        volatility=vols,
    )
    assert _weights(out) == pytest.approx({"A": 0.5, "B": 0.4 * 2 / 3, "D": 0.4 / 3})


def test_capping_repeats_until_no_name_is_above_the_cap() -> None:
    # raw 10, 7, 2, 1 with budget 1 and cap 0.4: A (0.5) is capped first; then B gets
    # 0.6*7/10 = 0.42 > 0.4 and is capped too; C and D share 0.2 as 2:1.
    vols = pl.DataFrame({"symbol": ["A", "B", "C", "D"], "vol": [0.1, 1 / 7, 0.5, 1.0]})
    preds = pl.DataFrame({"symbol": ["A", "B", "C", "D"], "score": [4.0, 3.0, 2.0, 1.0]})
    out = target_weights(
        preds,
        top_k=4,
        weighting="inverse_vol",
        max_position_weight=0.4,
        gross_exposure=1.0,
        volatility=vols,
    )
    assert _weights(out) == pytest.approx({"A": 0.4, "B": 0.4, "C": 0.2 * 2 / 3, "D": 0.2 / 3})


def test_ties_go_to_the_smaller_symbol_whatever_the_row_order() -> None:
    preds = pl.DataFrame({"symbol": ["C", "B", "A", "D"], "score": [1.0, 1.0, 1.0, 0.5]})
    for frame in (preds, preds.reverse()):
        out = target_weights(
            frame, top_k=2, weighting="equal", max_position_weight=1.0, gross_exposure=1.0
        )
        assert out["symbol"].to_list() == ["A", "B"]


def test_null_nan_and_infinite_scores_are_not_candidates() -> None:
    preds = pl.DataFrame(
        {"symbol": ["A", "B", "C", "D"], "score": [None, float("nan"), float("inf"), 0.1]}
    )
    out = target_weights(
        preds, top_k=3, weighting="equal", max_position_weight=1.0, gross_exposure=1.0
    )
    assert _weights(out) == {"D": 1.0}


def test_inverse_vol_drops_unmeasurable_names_before_ranking() -> None:
    preds = pl.DataFrame({"symbol": ["A", "B", "C", "D", "E"], "score": [5.0, 4, 3, 2, 1]})
    vols = pl.DataFrame({"symbol": ["A", "B", "C", "E"], "vol": [0.0, float("nan"), 0.2, 0.2]})
    out = target_weights(
        preds,
        top_k=2,
        weighting="inverse_vol",
        max_position_weight=1.0,
        gross_exposure=1.0,
        volatility=vols,
    )
    # A (zero vol), B (NaN vol) and D (no vol) are out; C and E fill the two slots.
    assert _weights(out) == pytest.approx({"C": 0.5, "E": 0.5})


def test_no_candidates_give_an_empty_frame() -> None:
    preds = pl.DataFrame({"symbol": ["A"], "score": [float("nan")]})
    out = target_weights(
        preds, top_k=3, weighting="equal", max_position_weight=1.0, gross_exposure=1.0
    )
    assert out.is_empty()
    assert out.columns == ["symbol", "target_weight"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"predictions": pl.DataFrame({"symbol": ["A", "A"], "score": [1.0, 2.0]})}, "duplicate"),
        ({"predictions": pl.DataFrame({"symbol": ["A"]})}, "lacks column"),
        ({"top_k": 0}, "top_k"),
        ({"max_position_weight": 0.0}, "max_position_weight"),
        ({"gross_exposure": -1.0}, "gross_exposure"),
        ({"weighting": "inverse_vol"}, "volatility"),
        (
            {
                "weighting": "inverse_vol",
                "volatility": pl.DataFrame({"symbol": ["A", "A"], "vol": [0.1, 0.2]}),
            },
            "duplicate",
        ),
    ],
)
def test_bad_inputs_raise_a_clear_error(kwargs: dict, match: str) -> None:
    args = {
        "predictions": pl.DataFrame({"symbol": ["A", "B"], "score": [1.0, 2.0]}),
        "top_k": 2,
        "weighting": "equal",
        "max_position_weight": 0.5,
        "gross_exposure": 1.0,
    } | kwargs
    with pytest.raises(ValueError, match=match):
        target_weights(**args)


raw_weights = st.lists(st.floats(1e-3, 1e3), min_size=1, max_size=30)
fractions = st.floats(0.01, 1.0)


@given(raw=raw_weights, cap=fractions, budget=fractions)
def test_capped_weights_solve_the_water_filling_problem(
    raw: list[float], cap: float, budget: float
) -> None:
    weights = capped_weights(raw, cap=cap, budget=budget)
    assert all(0 <= w <= cap for w in weights)
    assert sum(weights) <= budget + 1e-12
    assert sum(weights) == pytest.approx(min(budget, cap * len(raw)), rel=1e-9)
    # The unique solution: uncapped names share one factor w/raw, and every capped name's
    # raw weight times that factor would reach the cap.
    free = [i for i, w in enumerate(weights) if w < cap]
    factors = [weights[i] / raw[i] for i in free]
    if factors:
        assert max(factors) == pytest.approx(min(factors), rel=1e-9)
        capped = [i for i, w in enumerate(weights) if w == cap]
        assert all(raw[i] * factors[0] >= cap * (1 - 1e-9) for i in capped)


@given(
    scores=st.lists(st.one_of(st.floats(-1, 1), st.just(math.nan)), min_size=0, max_size=25),
    vols=st.lists(st.floats(0.0, 2.0), min_size=25, max_size=25),
    top_k=st.integers(1, 10),
    cap=fractions,
    gross=fractions,
    weighting=st.sampled_from(["equal", "inverse_vol"]),
)
def test_target_weights_respect_cap_budget_and_top_k(
    scores: list[float], vols: list[float], top_k: int, cap: float, gross: float, weighting: str
) -> None:
    symbols = [f"S{i:02d}" for i in range(len(scores))]
    out = target_weights(
        pl.DataFrame(
            {"symbol": symbols, "score": scores}, schema={"symbol": pl.String, "score": pl.Float64}
        ),
        top_k=top_k,
        weighting=weighting,  # type: ignore[arg-type]
        max_position_weight=cap,
        gross_exposure=gross,
        volatility=pl.DataFrame({"symbol": [f"S{i:02d}" for i in range(25)], "vol": vols}),
    )
    weights = out["target_weight"].to_list()
    assert len(weights) <= top_k
    assert out["symbol"].n_unique() == out.height
    assert all(0 <= w <= cap for w in weights)
    assert sum(weights) <= gross + 1e-12
