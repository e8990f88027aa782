"""Out-of-sample metrics against slow obvious implementations (scipy and plain loops)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest
from scipy import stats

from assets.models.metrics import newey_west_tstat, session_metrics, summarize


@pytest.fixture(scope="module")
def scored() -> pl.DataFrame:
    rng = np.random.default_rng(5)
    rows = []
    for day in range(30):
        n = int(rng.integers(3, 25))
        score = np.round(rng.normal(size=n), 1)  # rounded: ties in the score happen
        ret = 0.3 * score + rng.normal(size=n)
        for i in range(n):
            rows.append(
                (dt.date(2024, 1, 1) + dt.timedelta(days=day), f"X{i:02d}", score[i], ret[i])
            )
    frame = pl.DataFrame(rows, schema=["session", "symbol", "score", "fwd_return"], orient="row")
    return frame.sort("session", "symbol")


def _decile_spread(score: np.ndarray, ret: np.ndarray) -> float:
    """Top minus bottom tenth by score (ties: the row listed first ranks lower)."""
    order = sorted(range(len(score)), key=lambda i: (score[i], i))
    k = max(1, len(score) // 10)
    return float(np.mean(ret[order[-k:]]) - np.mean(ret[order[:k]]))


def test_session_metrics_match_scipy_and_a_loop(scored: pl.DataFrame) -> None:
    got = session_metrics(scored)
    assert got.height == scored.get_column("session").n_unique()
    for row, (_, rows) in zip(
        got.iter_rows(named=True), scored.group_by("session", maintain_order=True), strict=True
    ):
        score, ret = rows.get_column("score").to_numpy(), rows.get_column("fwd_return").to_numpy()
        assert row["n"] == len(score)
        assert row["ic"] == pytest.approx(stats.pearsonr(score, ret).statistic)
        assert row["rank_ic"] == pytest.approx(stats.spearmanr(score, ret).statistic)
        hit = np.mean(np.sign(score - score.mean()) == np.sign(ret - ret.mean()))
        assert row["hit"] == pytest.approx(hit)
        assert row["spread"] == pytest.approx(_decile_spread(score, ret))


def test_small_sessions_are_skipped_and_constant_scores_have_no_ic() -> None:
    frame = pl.DataFrame(
        {
            "session": [dt.date(2024, 1, 2)] * 2 + [dt.date(2024, 1, 3)] * 3,
            "symbol": ["A", "B", "A", "B", "C"],
            "score": [1.0, 2.0, 0.5, 0.5, 0.5],
            "fwd_return": [0.1, 0.2, 0.1, -0.1, 0.3],
        }
    )
    got = session_metrics(frame)
    assert got.get_column("session").to_list() == [dt.date(2024, 1, 3)]
    assert got.item(0, "ic") is None
    summary = summarize(got, lag=0, rows=5)
    assert math.isnan(summary.ic) and math.isnan(summary.ic_tstat)


def _newey_west_loop(x: list[float], lag: int) -> float:
    n, m = len(x), sum(x) / len(x)
    var = sum((v - m) ** 2 for v in x) / n
    for j in range(1, lag + 1):
        cov = sum((x[t] - m) * (x[t - j] - m) for t in range(j, n)) / n
        var += 2 * (1 - j / (lag + 1)) * cov
    return m / math.sqrt(var * n / (n - 1) / n)


def test_newey_west_tstat_lag_zero_is_the_one_sample_t_and_lags_match_a_loop() -> None:
    x = np.random.default_rng(2).normal(0.02, 0.1, size=60)
    assert newey_west_tstat(x, lag=0) == pytest.approx(stats.ttest_1samp(x, 0.0).statistic)
    for lag in (1, 4, 9):
        assert newey_west_tstat(x, lag=lag) == pytest.approx(_newey_west_loop(list(x), lag))
    assert math.isnan(newey_west_tstat(x[:1], lag=4))


def test_summary_means_over_sessions(scored: pl.DataFrame) -> None:
    per_session = session_metrics(scored)
    got = summarize(per_session, lag=4, rows=scored.height)
    assert got.ic == pytest.approx(per_session.get_column("ic").mean())
    assert got.decile_spread == pytest.approx(per_session.get_column("spread").mean())
    assert got.ic_tstat == pytest.approx(
        newey_west_tstat(per_session.get_column("ic").to_numpy(), lag=4)
    )
    assert (got.sessions, got.rows) == (30, scored.height)
    assert got.ic > 0 and got.decile_spread > 0  # the scores carry signal by construction
