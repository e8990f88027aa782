"""Bit-identical features however the range is cut: a session's features are a function of the
symbol's last ``HISTORY_SESSIONS + 1`` bars up to it, nothing else.

The whole history computed in one range is compared with every session computed alone and with
a few arbitrary cuts of the range, each read the way a partition run reads (per symbol, the
``HISTORY_SESSIONS`` bars before the range's first session). The comparison is ``==`` on the
values, nulls in the same places; no tolerance. The history is longer than the features'
memory, so the finite-memory smoothing restarts many times inside it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from functools import cache

import numba
import numpy as np
import polars as pl
import pytest

from assets.features.compute import FEATURE_LOOKBACK, FEATURE_MEMORY, compute_features
from assets.features.window import HISTORY_SESSIONS
from tests.unit.assets.bars import random_walk_bars
from warehouse.schemas import FEATURE_COLUMNS

NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
N_SESSIONS = HISTORY_SESSIONS + 300
PRICES = ("open", "high", "low", "close")


@cache
def _bars() -> pl.DataFrame:
    """Four symbols: one whole, one listed late, one halted for 450 sessions, and one with a
    flat stretch and missing opens and volumes (the features' undefined cases)."""
    bars = random_walk_bars(n_symbols=4, n_sessions=N_SESSIONS, seed=23)
    index = pl.col("session").rank("dense").over("symbol") - 1
    bars = bars.with_columns(index=index)
    late = (pl.col("symbol") == "S001") & (pl.col("index") < 600)
    halted = (pl.col("symbol") == "S002") & pl.col("index").is_between(300, 749)
    bars = bars.filter(~late & ~halted)
    odd = pl.col("symbol") == "S003"
    flat = odd & pl.col("index").is_between(400, 460)
    flattened = bars.with_columns(
        pl.when(flat).then(pl.lit(value)).otherwise(pl.col(c)).alias(c)
        for c, value in (*((c, 40.0) for c in PRICES), ("volume", 9_000.0))
    )
    return flattened.with_columns(
        pl.when(odd & (pl.col("index") % 97 == 5)).then(None).otherwise("open").alias("open"),
        pl.when(odd & (pl.col("index") % 89 == 7)).then(None).otherwise("volume").alias("volume"),
    ).drop("index")


@cache
def _whole() -> pl.DataFrame:
    return compute_features(_bars(), known_at=NOW).sort("symbol", "session")


@cache
def _sessions() -> list[dt.date]:
    return _bars().get_column("session").unique().sort().to_list()


def _read(first: dt.date, last: dt.date) -> pl.DataFrame:
    """Return what a run over [first, last] reads: those sessions' bars and, per symbol, the
    ``HISTORY_SESSIONS`` bars before ``first``."""
    before = pl.col("session") < first
    history = (
        _bars()
        .filter(before)
        .sort("session")
        .group_by("symbol", maintain_order=True)
        .tail(HISTORY_SESSIONS)
    )
    return pl.concat([history, _bars().filter(~before & (pl.col("session") <= last))])


def _computed(first: dt.date, last: dt.date) -> pl.DataFrame:
    features = compute_features(_read(first, last), known_at=NOW)
    return features.filter(pl.col("session").is_between(first, last))


def _assert_identical(got: pl.DataFrame, want: pl.DataFrame) -> None:
    got, want = got.sort("symbol", "session"), want.sort("symbol", "session")
    assert got.select("symbol", "session").equals(want.select("symbol", "session"))
    for name in FEATURE_COLUMNS:
        a = got.get_column(name).cast(pl.Float64).fill_null(np.nan).to_numpy()
        b = want.get_column(name).cast(pl.Float64).fill_null(np.nan).to_numpy()
        assert np.array_equal(np.isnan(a), np.isnan(b)), name
        assert (a[~np.isnan(a)] == b[~np.isnan(b)]).all(), name


def test_the_history_is_long_enough_to_exercise_finite_memory() -> None:
    # Every feature's memory fits in the read, and the history is longer than the longest.
    assert max(FEATURE_MEMORY.values()) == HISTORY_SESSIONS + 1
    assert all(FEATURE_MEMORY[n] >= FEATURE_LOOKBACK[n] for n in FEATURE_COLUMNS)
    assert len(_sessions()) >= max(FEATURE_MEMORY.values()) + 299
    # The undefined cases happen: nulls past the warm-up (flat stretch, missing volume).
    assert _whole().get_column("volume_z_20").null_count() > 20


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Run the numba kernels on one thread: a few thousand tiny calls spend most of their time
    waking threads otherwise (and the values must not depend on the thread count either)."""
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    yield
    numba.set_num_threads(threads)


def test_every_session_computed_alone_equals_the_whole_history_bit_for_bit(
    one_thread: None,
) -> None:
    whole = _whole()
    by_session = whole.partition_by("session", as_dict=True)
    for day in _sessions():
        _assert_identical(_computed(day, day), by_session[(day,)])


@pytest.mark.parametrize(
    "cuts",
    [(157, 903, 905), (1, 2, 640), (500, 501, 502, 1000), (11, 333, 777, 1111)],
    ids=lambda c: "-".join(map(str, c)),
)
def test_arbitrary_cuts_of_the_range_equal_the_whole_history_bit_for_bit(
    cuts: tuple[int, ...],
) -> None:
    days = _sessions()
    edges = [0, *cuts, len(days)]
    pieces = [_computed(days[a], days[b - 1]) for a, b in zip(edges, edges[1:], strict=False)]
    _assert_identical(pl.concat(pieces), _whole())


def test_a_shorter_read_than_the_memory_would_differ() -> None:
    # The contract is tight: 400 bars are fewer than the EMA-50's memory, so its value at the
    # last session changes (the tests above compare something); the plain windows do not.
    day = _sessions()[-1]
    short = _bars().filter(pl.col("session") >= _sessions()[-400])
    alone = compute_features(short, known_at=NOW).filter(pl.col("session") == day)
    whole = _whole().filter(pl.col("session") == day)
    assert FEATURE_MEMORY["ema_ratio_50"] > 400
    assert (alone.get_column("ema_ratio_50") != whole.get_column("ema_ratio_50")).all()
    assert alone.get_column("ret_252").equals(whole.get_column("ret_252"))
