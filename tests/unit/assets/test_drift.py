"""Population stability index: hand-computed values and a slow, obvious implementation."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from assets.features.drift import (
    bin_shares,
    cross_sectional_z,
    feature_psi,
    population_stability_index,
    quantile_edges,
)


def slow_psi(reference: list[float], current: list[float], *, bins: int, epsilon: float) -> float:
    """PSI written out: linear-interpolation quantiles, a loop per value and per bin."""
    ref = sorted(x for x in reference if math.isfinite(x))
    cur = [x for x in current if math.isfinite(x)]
    if not ref or not cur:
        return math.nan
    cuts = []
    for k in range(1, bins):
        h = (len(ref) - 1) * k / bins
        lo = math.floor(h)
        hi = min(lo + 1, len(ref) - 1)
        cuts.append(ref[lo] + (h - lo) * (ref[hi] - ref[lo]))
    edges = sorted(set(cuts))

    def shares(values: list[float]) -> list[float]:
        counts = [0] * (len(edges) + 1)
        for x in values:
            counts[sum(1 for e in edges if e <= x)] += 1
        return [max(c / len(values), epsilon) for c in counts]

    return sum((c - r) * math.log(c / r) for r, c in zip(shares(ref), shares(cur), strict=True))


def test_two_bins_by_hand() -> None:
    # Reference 0..9 is cut at its median 4.5: shares 0.5 / 0.5. Current 0..7 puts 5 of 8 below.
    psi = population_stability_index(np.arange(10.0), np.arange(8.0), bins=2)
    expected = (0.625 - 0.5) * math.log(0.625 / 0.5) + (0.375 - 0.5) * math.log(0.375 / 0.5)
    assert psi == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(0.0638532, abs=1e-7)


def test_an_empty_bin_counts_epsilon() -> None:
    # Every current value lies above the median: the lower bin is empty and counts 1e-4.
    psi = population_stability_index(np.arange(10.0), np.full(5, 100.0), bins=2, epsilon=1e-4)
    expected = (1e-4 - 0.5) * math.log(1e-4 / 0.5) + (1.0 - 0.5) * math.log(1.0 / 0.5)
    assert psi == pytest.approx(expected, rel=1e-12)


def test_quantile_edges_split_the_reference_in_equal_counts() -> None:
    reference = np.arange(100.0)
    edges = quantile_edges(reference, bins=4)
    assert edges.tolist() == pytest.approx([24.75, 49.5, 74.25])
    assert bin_shares(reference, edges).tolist() == [0.25, 0.25, 0.25, 0.25]


def test_tied_cut_points_merge_into_fewer_bins() -> None:
    # Every quantile of [1, 1, 1, 1, 2] is 1: one edge, two bins (below 1 | from 1 on).
    reference = np.array([1.0, 1.0, 1.0, 1.0, 2.0])
    assert quantile_edges(reference, bins=4).tolist() == [1.0]
    assert population_stability_index(reference, np.array([1.0, 2.0, 1.0]), bins=4) == 0.0
    below = population_stability_index(reference, np.array([0.0]), bins=4, epsilon=1e-4)
    assert below == pytest.approx(2 * (1 - 1e-4) * math.log(1e4), rel=1e-12)


def test_missing_values_are_left_out_of_both_samples() -> None:
    rng = np.random.default_rng(0)
    reference, current = rng.normal(size=500), rng.normal(0.3, 1.0, size=200)
    holed_ref = np.concatenate([reference, [np.nan, np.inf, -np.inf]])
    holed_cur = np.concatenate([[np.nan] * 50, current])
    assert population_stability_index(holed_ref, holed_cur) == population_stability_index(
        reference, current
    )


def test_psi_is_undefined_without_values_in_a_sample() -> None:
    assert math.isnan(population_stability_index(np.arange(10.0), np.array([np.nan, np.nan])))
    assert math.isnan(population_stability_index(np.array([]), np.arange(10.0)))


def test_identical_samples_have_zero_psi_and_a_shift_is_large() -> None:
    rng = np.random.default_rng(1)
    sample = rng.normal(size=5000)
    assert population_stability_index(sample, sample) == 0.0
    assert population_stability_index(sample, sample + 1.0) > 0.25
    assert population_stability_index(sample, rng.normal(size=5000)) < 0.02


def test_invalid_options_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 2 bins"):
        population_stability_index(np.arange(10.0), np.arange(10.0), bins=1)
    with pytest.raises(ValueError, match="epsilon"):
        population_stability_index(np.arange(10.0), np.arange(10.0), bins=10, epsilon=0.2)


values = st.lists(
    st.one_of(
        st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
        st.integers(-3, 3).map(float),  # ties
        st.just(math.nan),
    ),
    max_size=60,
)


@given(reference=values, current=values, bins=st.integers(2, 12))
def test_matches_the_slow_implementation(
    reference: list[float], current: list[float], bins: int
) -> None:
    fast = population_stability_index(np.array(reference), np.array(current), bins=bins)
    slow = slow_psi(reference, current, bins=bins, epsilon=1e-4)
    if math.isnan(slow):
        assert math.isnan(fast)
    else:
        assert fast == pytest.approx(slow, rel=1e-9, abs=1e-12)


def test_feature_psi_ranks_features_and_reports_missing_shares() -> None:
    rng = np.random.default_rng(2)
    base = rng.normal(size=1000)
    reference = pl.DataFrame({"same": base, "moved": base, "gone": base})
    current = pl.DataFrame(
        {
            "same": base[:400],
            "moved": base[:400] + 2.0,
            "gone": pl.Series([None] * 400, dtype=pl.Float64),
        }
    )
    psi = feature_psi(reference, current, columns=["same", "moved", "gone"])

    assert psi.get_column("feature").to_list() == ["gone", "moved", "same"]
    rows = {r["feature"]: r for r in psi.iter_rows(named=True)}
    assert math.isnan(rows["gone"]["psi"])
    assert rows["gone"]["current_missing_share"] == 1.0
    assert rows["moved"]["psi"] == pytest.approx(
        population_stability_index(base, base[:400] + 2.0), rel=1e-12
    )
    assert rows["same"]["reference_present"] == 1000
    assert rows["same"]["current_present"] == 400
    assert rows["same"]["current_missing_share"] == 0.0


def test_a_move_every_symbol_shares_is_not_drift_after_per_session_standardization() -> None:
    rng = np.random.default_rng(5)
    sessions = np.repeat(np.arange(60), 30)
    values = rng.normal(size=60 * 30)
    reference = pl.DataFrame({"session": sessions[:1200], "x": values[:1200]})
    # The last 20 sessions: every symbol up by 5 (a market rally) -> raw PSI is huge.
    current = pl.DataFrame({"session": sessions[1200:], "x": values[1200:] + 5.0})
    raw = population_stability_index(reference["x"].to_numpy(), current["x"].to_numpy())
    z_ref = cross_sectional_z(reference, columns=["x"])["x"].to_numpy()
    z_cur = cross_sectional_z(current, columns=["x"])["x"].to_numpy()
    assert raw > 1.0
    assert population_stability_index(z_ref, z_cur) < 0.1
    # Standardized per session: mean 0 and standard deviation 1 within each session.
    per_session = (
        cross_sectional_z(current, columns=["x"])
        .group_by("session")
        .agg(m=pl.col("x").mean(), s=pl.col("x").std())
    )
    assert per_session["m"].abs().max() < 1e-12
    assert (per_session["s"] - 1.0).abs().max() < 1e-12
