"""The market simulator: determinism, calendar, OHLC, splits, bad ticks and market statistics."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from flows.sources.base import BAR_COLUMNS, SPLIT_COLUMNS, SourceError
from flows.sources.simulator import MarketSimulator
from quantlake.settings import SimulatorSettings
from warehouse import calendar

START = dt.date(2015, 1, 2)
END = dt.date(2020, 12, 31)


def simulator(**overrides: object) -> MarketSimulator:
    options = {"n_symbols": 30, "start": START, "seed": 11, "split_rate": 0.0, "bad_tick_rate": 0.0}
    return MarketSimulator(SimulatorSettings(**(options | overrides)))


def log_returns(bars: pl.DataFrame) -> np.ndarray:
    """Return close-to-close log returns as a (sessions - 1, symbols) array."""
    wide = bars.pivot(on="symbol", index="session", values="close").sort("session")
    closes = wide.drop("session").to_numpy()
    return np.diff(np.log(closes), axis=0)


def violations(bars: pl.DataFrame) -> pl.Series:
    """Flag the rows that break the bar contract (the oracle for bad ticks)."""
    prices = ["open", "high", "low", "close"]
    broken = (
        pl.any_horizontal(pl.col(c).is_null() for c in [*prices, "volume"])
        | pl.any_horizontal(pl.col(c) <= 0 for c in prices)
        | (pl.col("low") > pl.min_horizontal("open", "close"))
        | (pl.col("high") < pl.max_horizontal("open", "close"))
        | (pl.col("volume") < 0)
    )
    return bars.select(broken.fill_null(True).alias("broken")).to_series()


def test_same_seed_gives_the_same_bars_and_another_seed_does_not() -> None:
    a = simulator().fetch(start=START, end=END)
    b = simulator().fetch(start=START, end=END)
    c = simulator(seed=12).fetch(start=START, end=END)
    assert a.bars.equals(b.bars)
    assert not a.bars.equals(c.bars)


@pytest.mark.parametrize(
    ("window_start", "window_end"),
    [(dt.date(2017, 3, 1), dt.date(2017, 6, 30)), (START, dt.date(2015, 1, 9))],
)
def test_a_window_equals_the_same_rows_of_a_longer_fetch(
    window_start: dt.date, window_end: dt.date
) -> None:
    settings = {"split_rate": 2.0, "bad_tick_rate": 0.01}
    window = simulator(**settings).fetch(start=window_start, end=window_end)
    full = simulator(**settings).fetch(start=START, end=END)
    in_window = pl.col("session").is_between(window_start, window_end)
    assert window.bars.height > 0
    assert window.bars.equals(full.bars.filter(in_window))
    assert window.splits.equals(
        full.splits.filter(pl.col("ex_session").is_between(window_start, window_end))
    )


def test_a_cached_path_extends_without_changing_earlier_bars() -> None:
    sim = simulator(bad_tick_rate=0.01, split_rate=1.0)
    early = sim.fetch(start=START, end=dt.date(2016, 6, 30))
    later = sim.fetch(start=START, end=END)
    again = sim.fetch(start=START, end=dt.date(2016, 6, 30))
    assert later.bars.filter(pl.col("session") <= dt.date(2016, 6, 30)).equals(early.bars)
    assert again.bars.equals(early.bars)


def test_nothing_exists_before_the_configured_start() -> None:
    before = simulator().fetch(start=dt.date(2014, 1, 1), end=dt.date(2014, 12, 31))
    straddle = simulator().fetch(start=dt.date(2014, 12, 1), end=dt.date(2015, 1, 9))
    assert before.bars.is_empty()
    assert before.bars.schema == pl.Schema(BAR_COLUMNS)
    assert straddle.bars.get_column("session").min() == dt.date(2015, 1, 2)


def test_bars_fall_on_exchange_sessions_only_one_per_symbol() -> None:
    batch = simulator().fetch(start=START, end=END)
    sessions = batch.bars.get_column("session").unique().sort().to_list()
    assert sessions == calendar.sessions(START, END)
    assert not any(day.weekday() >= 5 for day in sessions)
    assert dt.date(2015, 7, 3) not in sessions  # Independence Day observed
    assert dt.date(2018, 12, 5) not in sessions  # national day of mourning, exchange closed
    assert batch.bars.select("symbol", "session").is_unique().all()
    assert batch.bars.height == len(sessions) * 30


def test_bars_have_the_declared_columns_and_synthetic_symbols() -> None:
    batch = simulator(n_symbols=12).fetch(start=START, end=dt.date(2015, 3, 31))
    assert batch.bars.schema == pl.Schema(BAR_COLUMNS)
    assert batch.splits.schema == pl.Schema(SPLIT_COLUMNS)
    expected = [f"SIM{i:03d}" for i in range(1, 13)]
    assert batch.bars.get_column("symbol").unique().sort().to_list() == expected


def test_good_bars_satisfy_the_contract() -> None:
    bars = simulator(split_rate=3.0).fetch(start=START, end=END).bars
    assert not violations(bars).any()
    assert (bars.get_column("high") > bars.get_column("low")).mean() > 0.99


def test_bad_ticks_break_the_contract_at_about_the_configured_rate() -> None:
    rate = 0.01
    bars = simulator(bad_tick_rate=rate, n_symbols=40).fetch(start=START, end=END).bars
    n = bars.height
    broken = int(violations(bars).sum())
    # Binomial(n, rate): five standard deviations either side.
    assert abs(broken - n * rate) < 5 * np.sqrt(n * rate * (1 - rate))
    assert bars.get_column("close").null_count() > 0
    assert (bars.get_column("close") < 0).any()
    assert (bars.get_column("high") < bars.get_column("low")).any()
    assert (bars.get_column("open") == 0).any()
    assert (bars.get_column("volume") < 0).any()


def test_splits_are_reported_and_the_unadjusted_price_drops_by_the_ratio() -> None:
    batch = simulator(split_rate=3.0).fetch(start=START, end=END)
    splits = batch.splits
    assert splits.height >= 10
    assert set(splits.get_column("split_ratio").to_list()) <= {2.0, 3.0, 4.0, 5.0}
    bars = batch.bars.sort("symbol", "session").with_columns(
        prev_close=pl.col("close").shift(1).over("symbol"),
        prev_volume=pl.col("volume").shift(1).over("symbol"),
    )
    ex = bars.join(splits, left_on=["symbol", "session"], right_on=["symbol", "ex_session"])
    assert ex.height == splits.height
    jump = np.log(ex.get_column("prev_close").to_numpy() / ex.get_column("close").to_numpy())
    assert np.all(np.abs(jump - np.log(ex.get_column("split_ratio").to_numpy())) < 0.25)
    # Volume is in unadjusted shares: on average it rises by the ratio (daily noise aside).
    volume_jump = np.log(
        ex.get_column("volume").to_numpy() / ex.get_column("prev_volume").to_numpy()
    )
    assert abs(np.mean(volume_jump - np.log(ex.get_column("split_ratio").to_numpy()))) < 0.3
    # Outside split sessions nothing moves by anything like a split.
    others = bars.join(
        splits, left_on=["symbol", "session"], right_on=["symbol", "ex_session"], how="anti"
    )
    moves = others.select((pl.col("prev_close") / pl.col("close")).log().abs()).to_series()
    assert moves.max() < np.log(1.6)


def test_split_sessions_and_symbols_follow_the_filters() -> None:
    full = simulator(split_rate=3.0).fetch(start=START, end=END).splits
    some = tuple(full.get_column("symbol").unique().sort().to_list()[:3])
    window = (dt.date(2016, 1, 1), dt.date(2018, 12, 31))
    part = simulator(split_rate=3.0).fetch(start=window[0], end=window[1], symbols=some).splits
    expected = full.filter(pl.col("symbol").is_in(some), pl.col("ex_session").is_between(*window))
    assert part.sort("symbol", "ex_session").equals(expected.sort("symbol", "ex_session"))


def test_returns_move_together_across_symbols() -> None:
    returns = log_returns(simulator().fetch(start=START, end=END).bars)
    corr = np.corrcoef(returns, rowvar=False)
    mean_pairwise = corr[np.triu_indices_from(corr, k=1)].mean()
    assert 0.1 < mean_pairwise < 0.6


def test_volatility_clusters() -> None:
    returns = log_returns(simulator().fetch(start=START, end=END).bars)
    squared = returns.mean(axis=1) ** 2
    autocorrelation = np.corrcoef(squared[1:], squared[:-1])[0, 1]
    per_symbol = [np.corrcoef(r[1:] ** 2, r[:-1] ** 2)[0, 1] for r in returns.T]
    assert autocorrelation > 0.05
    assert np.mean(per_symbol) > 0.02


def test_annual_volatility_is_in_a_realistic_range() -> None:
    returns = log_returns(simulator().fetch(start=START, end=END).bars)
    annual = returns.std(axis=0) * np.sqrt(252)
    assert np.all((annual > 0.12) & (annual < 0.6))
    assert 0.18 < np.median(annual) < 0.4


def test_volume_rises_with_the_size_of_the_move() -> None:
    bars = simulator().fetch(start=START, end=END).bars.sort("symbol", "session")
    moves = bars.with_columns(
        size=(pl.col("close") / pl.col("close").shift(1).over("symbol")).log().abs(),
        log_volume=pl.col("volume").log() - pl.col("volume").log().mean().over("symbol"),
    ).drop_nulls()
    assert np.corrcoef(moves.get_column("size"), moves.get_column("log_volume"))[0, 1] > 0.1


def test_symbols_filter_and_unknown_symbols() -> None:
    batch = simulator().fetch(start=START, end=dt.date(2015, 2, 27), symbols=("SIM003", "SIM001"))
    assert set(batch.bars.get_column("symbol")) == {"SIM001", "SIM003"}
    with pytest.raises(SourceError, match="AAPL"):
        simulator().fetch(start=START, end=END, symbols=("SIM001", "AAPL"))
