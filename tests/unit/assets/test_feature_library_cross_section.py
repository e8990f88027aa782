"""Cross-sectional ranks and z-scores: a per-session oracle, and a session's values depend on
that session's rows only."""

from __future__ import annotations

import datetime as dt
import statistics

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from assets.features.compute import compute_features
from assets.features.library.cross_section import (
    NAMES,
    RANKED,
    Z_SCORED,
    cross_section_features,
    session_groups_nb,
)
from tests.unit.assets.test_feature_library_oracle import LENGTHS, NOW, assert_matches, make_bars

BASES = RANKED + Z_SCORED
DAY = dt.date(2024, 3, 1)


def _average_ranks(values: list[float]) -> list[float]:
    ordered = sorted(values)
    return [(ordered.index(v) + 1 + len(ordered) - ordered[::-1].index(v)) / 2 for v in values]


def _oracle(frame: pl.DataFrame) -> dict[str, list[float | None]]:
    """Each cross-sectional feature row by row, from the rows of the same session."""
    rows = frame.to_dicts()
    out: dict[str, list[float | None]] = {name: [] for name in NAMES}
    for row in rows:
        peers = [r for r in rows if r["session"] == row["session"]]
        for base in BASES:
            values = [r[base] for r in peers if r[base] is not None]
            mine = row[base]
            if base in RANKED:
                rank = None
                if mine is not None:
                    rank = (_average_ranks(values)[values.index(mine)] - 0.5) / len(values)
                out[f"cs_rank_{base}"].append(rank)
                continue
            spread = len(values) >= 2 and len(set(values)) > 1
            z = None
            if mine is not None and spread:
                z = (mine - statistics.fmean(values)) / statistics.stdev(values)
            out[f"cs_z_{base}"].append(z)
    return out


def _frame(columns: dict[str, list[float | None]], sessions: list[dt.date]) -> pl.DataFrame:
    n = len(sessions)
    return pl.DataFrame(
        {"symbol": [f"S{i}" for i in range(n)], "session": sessions}
        | {b: columns.get(b, [1.0] * n) for b in BASES},
        schema_overrides=dict.fromkeys(BASES, pl.Float64),
    )


def test_hand_made_sessions_with_ties_nulls_one_symbol_and_no_spread() -> None:
    d1, d2, d3 = DAY, DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=2)
    frame = _frame(
        {
            "ret_20": [0.3, 0.1, 0.1, None, 0.2, 5.0, 2.0, 2.0],
            "ret_5": [0.3, 0.1, 0.1, None, 0.2, 5.0, 2.0, 2.0],
        },
        [d1, d1, d1, d1, d1, d2, d3, d3],
    )
    got = cross_section_features(frame)
    # Session 1: 0.1, 0.1, 0.2, 0.3 -> ranks 1.5, 1.5, 3, 4 of n = 4.
    assert got.get_column("cs_rank_ret_20").to_list()[:5] == [0.875, 0.25, 0.25, None, 0.625]
    # One symbol: the middle rank; no z-score (no spread with a single value, nor with ties).
    assert got.get_column("cs_rank_ret_20").to_list()[5:] == [0.5, 0.5, 0.5]
    assert got.get_column("cs_z_ret_5").to_list()[5:] == [None, None, None]
    mean, sd = 0.175, statistics.stdev([0.3, 0.1, 0.1, 0.2])
    z = got.get_column("cs_z_ret_5").to_list()[:5]
    assert z[3] is None
    assert [z[0], z[1], z[4]] == pytest.approx(
        [(0.3 - mean) / sd, (0.1 - mean) / sd, (0.2 - mean) / sd]
    )


def test_features_of_real_bars_match_the_per_session_oracle() -> None:
    features = compute_features(make_bars(LENGTHS, seed=3), known_at=NOW)
    want = _oracle(features)
    for name in NAMES:
        assert_matches(features.get_column(name).to_list(), want[name], name)


@pytest.mark.parametrize("seed", range(5))
def test_a_session_depends_only_on_its_own_rows(seed: int) -> None:
    rng = np.random.default_rng(seed)
    base = compute_features(make_bars(LENGTHS, seed=seed), known_at=NOW)
    session = base.get_column("session").unique().sort()[int(rng.integers(20, 40))]
    alone = cross_section_features(base.filter(pl.col("session") == session))
    others = pl.col("session") != session
    scrambled = base.with_columns(
        pl.when(others).then(pl.col(b) * pl.lit(rng.normal(size=base.height))).otherwise(pl.col(b))
        for b in BASES
    ).sample(fraction=1.0, shuffle=True, seed=seed)
    for frame in (base, scrambled):
        got = cross_section_features(frame).filter(pl.col("session") == session)
        # Shuffled rows sum in another order: equal to the last bits, not bitwise.
        assert_frame_equal(got.sort("symbol"), alone.sort("symbol"), rel_tol=1e-12, abs_tol=0)


def test_session_groups_handle_gaps_and_dates_before_1970() -> None:
    day = np.array([-3, 5, -3, 0, 5, 5], dtype=np.int64)
    order, starts = session_groups_nb(day)
    groups = [sorted(order[a:b].tolist()) for a, b in zip(starts[:-1], starts[1:], strict=True)]
    assert [g for g in groups if g] == [[0, 2], [3], [1, 4, 5]]
    assert starts[-1] == len(day)
