"""Label leakage guard: correlations against scipy and hand-built leaks."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from scipy import stats

from assets.features.leakage import label_correlations, leaking_features, strongest


@pytest.fixture
def frame() -> pl.DataFrame:
    rng = np.random.default_rng(4)
    label = rng.normal(0.0, 0.02, size=400)
    noise = rng.normal(size=400)
    feature = 0.3 * label / 0.02 + noise
    feature[::17] = np.nan  # missing feature values
    label_with_holes = label.copy()
    label_with_holes[5::23] = np.nan  # rows whose label is not known yet
    return pl.DataFrame(
        {
            "honest": feature,
            "leak": label_with_holes,  # the label itself
            "inverse_leak": -3.0 * label_with_holes + 1.0,
            "monotonic_leak": np.exp(50.0 * label_with_holes),  # nonlinear, same ranks
            "constant": np.full(400, 2.0),
            "fwd_return": label_with_holes,
        }
    ).with_columns(pl.col("honest").fill_nan(None))


FEATURES = ["honest", "leak", "inverse_leak", "monotonic_leak", "constant"]


def test_correlations_match_scipy_on_rows_where_both_are_present(frame: pl.DataFrame) -> None:
    result = label_correlations(frame, features=FEATURES, label="fwd_return")
    row = result.filter(pl.col("feature") == "honest").row(0, named=True)
    x = frame.get_column("honest").to_numpy()
    y = frame.get_column("fwd_return").to_numpy()
    both = np.isfinite(x) & np.isfinite(y)

    assert row["rows"] == int(both.sum())
    assert row["pearson"] == pytest.approx(stats.pearsonr(x[both], y[both]).statistic, rel=1e-9)
    assert row["spearman"] == pytest.approx(stats.spearmanr(x[both], y[both]).statistic, rel=1e-9)
    assert 0.1 < row["pearson"] < 0.5  # a real, modest signal is not a leak


def test_copies_and_monotonic_functions_of_the_label_are_flagged(frame: pl.DataFrame) -> None:
    result = label_correlations(frame, features=FEATURES, label="fwd_return")
    by_name = {r["feature"]: r for r in result.iter_rows(named=True)}

    assert by_name["leak"]["pearson"] == pytest.approx(1.0)
    assert by_name["inverse_leak"]["pearson"] == pytest.approx(-1.0)
    assert by_name["monotonic_leak"]["spearman"] == pytest.approx(1.0)
    assert by_name["monotonic_leak"]["pearson"] < 0.95  # only the rank correlation sees it
    assert leaking_features(result, threshold=0.95) == ["inverse_leak", "leak", "monotonic_leak"]


def test_a_constant_feature_has_undefined_correlation_and_is_not_flagged(
    frame: pl.DataFrame,
) -> None:
    result = strongest(label_correlations(frame, features=FEATURES, label="fwd_return"))
    constant = result.filter(pl.col("feature") == "constant").row(0, named=True)

    assert math.isnan(constant["pearson"]) and math.isnan(constant["spearman"])
    assert constant["max_abs"] is None
    assert result.get_column("feature").to_list()[-1] == "constant"


def test_too_few_rows_give_undefined_correlation() -> None:
    tiny = pl.DataFrame({"a": [1.0, 2.0, None], "y": [1.0, 2.0, 3.0]})
    row = label_correlations(tiny, features=["a"], label="y").row(0, named=True)
    assert row["rows"] == 2
    assert math.isnan(row["pearson"])


def test_threshold_must_be_a_correlation() -> None:
    result = label_correlations(
        pl.DataFrame({"a": [1.0, 2.0, 3.0], "y": [1.0, 2.0, 3.0]}), features=["a"], label="y"
    )
    with pytest.raises(ValueError, match="threshold"):
        leaking_features(result, threshold=1.5)
