"""Point in time, for every feature: nothing after session t changes a feature at t."""

from __future__ import annotations

import datetime as dt
from functools import cache

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from assets.features.compute import compute_features
from tests.unit.assets.bars import random_walk_bars

NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
N_SESSIONS = 300  # past the longest lookback (253 bars), so every feature has values
PRICES = ("open", "high", "low", "close", "volume")


@cache
def _bars() -> pl.DataFrame:
    return random_walk_bars(n_symbols=3, n_sessions=N_SESSIONS, seed=5)


@cache
def _features() -> pl.DataFrame:
    return compute_features(_bars(), known_at=NOW)


def _session(index: int) -> dt.date:
    return _bars().get_column("session").unique().sort()[index]


def _later_changed(
    bars: pl.DataFrame, cut: dt.date, mode: str, symbol: str, factor: float
) -> pl.DataFrame:
    later = pl.col("session") > cut
    if mode == "drop":  # the later bars of every symbol never arrived
        return bars.filter(~later)
    target = later & (pl.col("symbol") == symbol)
    if mode == "spike":  # only the next bar of one symbol moves
        target = target & (pl.col("session") == pl.col("session").filter(later).min())
    return bars.with_columns(
        pl.when(target).then(pl.col(c) * factor).otherwise(pl.col(c)).alias(c) for c in PRICES
    )


@settings(max_examples=60, deadline=None)
@given(
    cut=st.integers(min_value=0, max_value=N_SESSIONS - 2),
    mode=st.sampled_from(["scale", "spike", "drop"]),
    symbol=st.sampled_from(["S000", "S001", "S002"]),
    factor=st.floats(min_value=0.5, max_value=2.0).filter(lambda f: abs(f - 1) > 1e-3),
)
def test_changing_bars_after_t_never_changes_any_feature_at_t(
    cut: int, mode: str, symbol: str, factor: float
) -> None:
    cut_session = _session(cut)
    changed = _later_changed(_bars(), cut_session, mode, symbol, factor)
    after = compute_features(changed, known_at=NOW)
    upto = pl.col("session") <= cut_session
    assert _features().filter(upto).equals(after.filter(upto))
    if mode != "drop":  # the change is real: the symbol's next bar has a new 1-day return
        first_later = (pl.col("symbol") == symbol) & (pl.col("session") == _session(cut + 1))
        before_row = _features().filter(first_later).get_column("ret_1")
        assert not before_row.equals(after.filter(first_later).get_column("ret_1"))


def test_truncating_the_history_at_each_session_reproduces_the_full_run() -> None:
    # A run on the bars known up to t gives, at t, exactly what the full run gives at t.
    full = _features()
    for cut in (0, 13, 20, 59, 251, 252, 253, N_SESSIONS - 2):
        session = _session(cut)
        partial = compute_features(_bars().filter(pl.col("session") <= session), known_at=NOW)
        assert partial.equals(full.filter(pl.col("session") <= session)), cut
