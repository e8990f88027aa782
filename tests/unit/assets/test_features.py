"""Bar checks, the RSI kernel on published values, labels, and the null share past warm-up.

Each feature against its oracle: test_feature_library_oracle*.py."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from assets.features.compute import (
    compute_features,
    labels,
    null_share_after_warmup,
)
from assets.features.library.wilder import wilder_rsi_nb
from warehouse.schemas import FEATURE_COLUMNS

NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


def _no_restart(*arrays: object) -> np.ndarray:
    """Return restart flags for rows that all lie in one calendar block (no restart)."""
    return np.zeros(sum(len(a) for a in arrays), dtype=np.bool_)


def _assert_close(got: list[float | None], want: list[float | None], label: object) -> None:
    """Nulls exactly where the oracle has none, values equal to 1e-9 elsewhere."""
    assert [v is None for v in got] == [v is None for v in want], label
    pairs = [(g, w) for g, w in zip(got, want, strict=True) if w is not None]
    assert [g for g, _ in pairs] == pytest.approx([w for _, w in pairs], rel=1e-9), label


def _bars(lengths: dict[str, int], *, seed: int) -> pl.DataFrame:
    """Hand-sized bars: each symbol's own number of sessions, shuffled row order."""
    rng = np.random.default_rng(seed)
    rows = []
    day0 = dt.date(2024, 1, 1)
    for symbol, n in lengths.items():
        close = 20 * np.exp(np.cumsum(rng.normal(0, 0.03, n)))
        for t in range(n):
            rows.append(
                {
                    "symbol": symbol,
                    "session": day0 + dt.timedelta(days=t),
                    "open": close[t],
                    "high": close[t] * (1 + rng.uniform(0.001, 0.04)),
                    "low": close[t] * (1 - rng.uniform(0.001, 0.04)),
                    "close": close[t],
                    "volume": float(rng.integers(1_000, 50_000)),
                    "knowledge_time": dt.datetime(2024, 6, 1, tzinfo=dt.UTC),
                }
            )
    return pl.DataFrame(rows).sample(fraction=1.0, shuffle=True, seed=seed)


def test_rsi_kernel_matches_a_hand_computed_wilder_example() -> None:
    # Period 3. Changes +1, -1, +2, +1, -3.
    # Bar 3: avg gain (1+0+2)/3 = 1, avg loss 1/3, RS 3, RSI 75.
    # Bar 4: gain (1*2+1)/3 = 1, loss (1/3*2+0)/3 = 2/9, RS 4.5, RSI 100-100/5.5.
    # Bar 5: gain (1*2+0)/3 = 2/3, loss (2/9*2+3)/3 = 31/27, RSI 100-100/(1+18/31).
    close = np.array([10.0, 11.0, 10.0, 12.0, 13.0, 10.0])
    rsi = wilder_rsi_nb(close, np.array([0, 6], dtype=np.int64), _no_restart(close), 3)
    assert np.isnan(rsi[:3]).all()
    assert rsi[3:] == pytest.approx([75.0, 100 - 100 / 5.5, 100 - 100 / (1 + 18 / 31)])


def test_rsi_kernel_matches_wilders_published_example() -> None:
    # The 14-day example of StockCharts' ChartSchool "RSI" spreadsheet (cs-rsi.xls), published
    # values rounded to 0.01.
    close = [44.3389, 44.0902, 44.1497, 43.6124, 44.3278, 44.8264, 45.0955, 45.4245, 45.8433,
             46.0826, 45.8931, 46.0328, 45.614, 46.282, 46.282, 46.0028, 46.0328, 46.4116,
             46.2222, 45.6439, 46.2122, 46.2521, 45.7137, 46.4515, 45.7835, 45.3548, 44.0288,
             44.1783, 44.2181, 44.5672, 43.4205, 42.6628, 43.1314]  # fmt: skip
    published = [70.53, 66.32, 66.55, 69.41, 66.36, 57.97, 62.93, 63.26, 56.06, 62.38, 54.71,
                 50.42, 39.99, 41.46, 41.87, 45.46, 37.30, 33.08, 37.77]  # fmt: skip
    rsi = wilder_rsi_nb(
        np.array(close), np.array([0, len(close)], dtype=np.int64), _no_restart(close), 14
    )
    assert rsi[14:] == pytest.approx(published, abs=0.005)


def test_rsi_kernel_restarts_at_each_group_offset() -> None:
    a = np.array([5.0, 6.0, 5.5, 7.0, 6.0, 6.5])
    b = np.array([100.0, 90.0, 95.0, 80.0, 85.0])
    both = wilder_rsi_nb(
        np.concatenate([a, b]), np.array([0, 6, 11], dtype=np.int64), _no_restart(a, b), 3
    )
    alone_b = wilder_rsi_nb(b, np.array([0, 5], dtype=np.int64), _no_restart(b), 3)
    np.testing.assert_array_equal(both[6:], alone_b)


def test_flat_volume_gives_null_z_score_not_nan() -> None:
    bars = _bars({"AAA": 30}, seed=2).with_columns(volume=pl.lit(1000.0))
    z = compute_features(bars, known_at=NOW).get_column("volume_z_20")
    assert z.null_count() == 30
    assert not z.is_nan().any()


def test_bars_known_after_the_computation_moment_are_left_out() -> None:
    bars = _bars({"AAA": 30}, seed=3)
    late = bars.get_column("session").max()
    bars = bars.with_columns(
        knowledge_time=pl.when(pl.col("session") == late)
        .then(pl.lit(NOW + dt.timedelta(hours=1)))
        .otherwise(pl.col("knowledge_time"))
    )
    got = compute_features(bars, known_at=NOW)
    assert got.height == 29
    assert late not in got.get_column("session").to_list()


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [("close", 0.0, "non-positive"), ("low", None, "missing"), ("knowledge_time", None, "null")],
)
def test_bad_bars_are_refused(column: str, value: object, message: str) -> None:
    bars = _bars({"AAA": 10}, seed=4).sort("session")
    broken = bars.with_columns(
        pl.when(pl.int_range(pl.len()) == 4).then(value).otherwise(pl.col(column)).alias(column)
    )
    with pytest.raises(ValueError, match=message):
        compute_features(broken, known_at=NOW)


def test_labels_are_forward_returns_and_null_where_unknown() -> None:
    bars = _bars({"AAA": 12, "BBB": 8}, seed=6)
    got = labels(bars, horizon=3).sort("symbol", "session")
    for (symbol,), rows in got.partition_by("symbol", as_dict=True).items():
        mine = bars.filter(pl.col("symbol") == symbol).sort("session")
        close, days = mine.get_column("close").to_list(), mine.get_column("session").to_list()
        n = len(close)
        want = [close[t + 3] / close[t] - 1 for t in range(n - 3)] + [None] * 3
        _assert_close(rows.get_column("fwd_return").to_list(), want, symbol)
        assert rows.get_column("label_session").to_list() == days[3:] + [None] * 3
        assert rows.get_column("horizon").unique().to_list() == [3]


def test_null_share_counts_only_rows_past_each_warm_up() -> None:
    features = compute_features(_bars({"AAA": 300, "BBB": 300}, seed=7), known_at=NOW)
    assert null_share_after_warmup(features) == dict.fromkeys(FEATURE_COLUMNS, 0.0)
    holed = features.with_columns(
        rsi_14=pl.when(pl.col("session") == features.get_column("session").max())
        .then(None)
        .otherwise(pl.col("rsi_14"))
    )
    # rsi_14 is defined from bar 14: 2 x 286 rows past its warm-up; the last session (both
    # symbols) is now null.
    assert null_share_after_warmup(holed)["rsi_14"] == pytest.approx(2 / 572)


def test_rsi_without_losses_is_100_and_without_moves_is_50() -> None:
    offsets = np.array([0, 6, 12], dtype=np.int64)
    close = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0] + [7.0] * 6)
    rsi = wilder_rsi_nb(close, offsets, _no_restart(close), 3)
    assert rsi[3:6].tolist() == [100.0] * 3
    assert rsi[9:12].tolist() == [50.0] * 3
