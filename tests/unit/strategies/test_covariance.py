"""shrunk_covariance: a hand case, sklearn's LedoitWolf and the paper's sum as oracles, checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.covariance import LedoitWolf

from strategies.covariance import shrinkage_intensity, shrunk_covariance, validate_covariance


def _paper_intensity(returns: np.ndarray) -> float:
    """Ledoit & Wolf (2004), Lemmas 3.2-3.4, written out term by term (the slow oracle)."""
    x = returns - returns.mean(axis=0)
    t, n = x.shape
    s = x.T @ x / t
    m = np.trace(s) / n

    def norm2(a: np.ndarray) -> float:
        return float(np.trace(a @ a.T)) / n

    d2 = norm2(s - m * np.eye(n))
    b2_bar = sum(norm2(np.outer(row, row) - s) for row in x) / t**2
    return min(b2_bar, d2) / d2


def test_three_days_shrink_fully_to_the_scaled_identity() -> None:
    # Demeaned already. S = [[2, 1], [1, 2]] / 3, m = 2/3, d2 = ||S - mI||^2 = (2/9) / 2 = 1/9.
    # ||x_k x_k' - S||_F^2 = 7/9, 7/9, 10/9, so b2_bar = (24/9) / 9 / 2 = 4/27 > d2: intensity 1.
    returns = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    assert shrinkage_intensity(returns) == pytest.approx(1.0)
    assert shrunk_covariance(returns) == pytest.approx(np.eye(2) * 2 / 3)


def test_matches_sklearn_ledoit_wolf_and_the_paper_on_correlated_returns() -> None:
    rng = np.random.default_rng(7)
    true_cov = np.array([[4.0, 1.8, 0.5], [1.8, 2.0, 0.3], [0.5, 0.3, 1.0]]) * 1e-4
    returns = rng.multivariate_normal([0.0005, 0.0, -0.0002], true_cov, size=250)
    fitted = LedoitWolf().fit(returns)
    intensity = shrinkage_intensity(returns)
    assert 0 < intensity < 1  # a real interpolation, not an end point
    assert intensity == pytest.approx(fitted.shrinkage_, rel=1e-9)
    assert intensity == pytest.approx(_paper_intensity(returns), rel=1e-9)
    assert shrunk_covariance(returns) == pytest.approx(fitted.covariance_, rel=1e-9, abs=1e-15)


def test_rows_with_a_nan_are_dropped_whole_not_zero_filled() -> None:
    rng = np.random.default_rng(1)
    complete = rng.normal(0, 0.01, size=(40, 3))
    gappy = np.insert(complete, [5, 20], [[np.nan, 0.02, 0.01], [0.03, 0.01, np.nan]], axis=0)
    assert shrunk_covariance(gappy) == pytest.approx(shrunk_covariance(complete), rel=1e-12)
    zero_filled = shrunk_covariance(np.nan_to_num(gappy))
    assert not np.allclose(shrunk_covariance(gappy), zero_filled)


def test_more_names_than_days_still_gives_a_positive_definite_matrix() -> None:
    returns = np.random.default_rng(3).normal(0, 0.02, size=(10, 30))
    cov = shrunk_covariance(returns)
    assert np.linalg.eigvalsh(cov)[0] > 0
    assert cov == pytest.approx(LedoitWolf().fit(returns).covariance_, rel=1e-9, abs=1e-15)


@settings(deadline=None)  # no wall-clock limit: a loaded CI machine is not a bug
@given(
    returns=arrays(
        np.float64, st.tuples(st.integers(2, 30), st.integers(1, 6)), elements=st.floats(-0.2, 0.2)
    )
)
def test_result_is_the_convex_mix_of_sample_and_target_and_is_psd(returns: np.ndarray) -> None:
    x = returns - returns.mean(axis=0)
    sample = x.T @ x / x.shape[0]
    target = np.trace(sample) / sample.shape[0] * np.eye(sample.shape[0])
    d = shrinkage_intensity(returns)
    cov = shrunk_covariance(returns)
    assert 0.0 <= d <= 1.0
    assert cov == pytest.approx((1 - d) * sample + d * target, rel=1e-9, abs=1e-15)
    assert np.array_equal(cov, cov.T)
    assert np.linalg.eigvalsh(cov)[0] >= -1e-12 * max(1.0, float(np.abs(cov).max()))


@pytest.mark.parametrize(
    ("returns", "match"),
    [
        (np.array([0.01, 0.02, 0.03]), "T x N"),
        (np.array([[0.01, np.inf], [0.02, 0.0], [0.0, 0.01]]), "infinite"),
        (np.array([[0.01, np.nan], [0.02, 0.0], [np.nan, 0.01]]), "1 complete row"),
    ],
)
def test_unusable_returns_raise(returns: np.ndarray, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        shrunk_covariance(returns)


@pytest.mark.parametrize(
    ("cov", "match"),
    [
        (np.array([[1.0, 2.0], [2.0, 1.0]]), "not positive semi-definite"),
        (np.array([[1.0, 0.5], [0.0, 1.0]]), "not symmetric"),
        (np.array([[1.0, np.nan], [np.nan, 1.0]]), "NaN"),
        (np.eye(3), "must be 2 x 2"),
    ],
)
def test_validate_covariance_rejects_what_is_not_a_covariance(cov: np.ndarray, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        validate_covariance(cov, size=2)


def test_validate_covariance_accepts_a_singular_psd_matrix() -> None:
    singular = np.array([[1.0, 1.0], [1.0, 1.0]]) * 1e-4
    assert validate_covariance(singular, size=2) == pytest.approx(singular)
