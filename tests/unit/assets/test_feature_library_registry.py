"""The registry: declarations match the schema, each declared lookback and input set is the one
the computation really uses, and the edge cases (one bar, no bars) give nulls, not errors."""

from __future__ import annotations

import datetime as dt
from functools import cache

import polars as pl
import pytest

from assets.features.compute import FEATURE_DOC, FEATURE_LOOKBACK, compute_features
from assets.features.library.registry import FEATURE_INPUTS, FEATURE_SPECS
from tests.unit.assets.bars import random_walk_bars
from warehouse.schemas import FEATURE_COLUMNS, FEATURES

NOW = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
PRICES = ("open", "high", "low", "close", "volume")
# The eight features that existed before the library, with their original lookbacks.
ORIGINAL = {
    "ret_1": 2,
    "ret_5": 6,
    "ret_20": 21,
    "vol_20": 21,
    "ma_ratio_20": 20,
    "rsi_14": 15,
    "volume_z_20": 20,
    "parkinson_20": 20,
}


@cache
def _bars() -> pl.DataFrame:
    return random_walk_bars(n_symbols=4, n_sessions=320, seed=9)


@cache
def _features() -> pl.DataFrame:
    return compute_features(_bars(), known_at=NOW)


def test_the_registry_declares_every_schema_column_once_in_order() -> None:
    names = [s.name for s in FEATURE_SPECS]
    assert len(names) >= 40
    assert tuple(names) == FEATURE_COLUMNS
    assert list(FEATURE_DOC) == list(FEATURE_LOOKBACK) == names
    assert FEATURES.column_names == ["symbol", "session", *names, "curated_snapshot"]
    assert {name: FEATURE_LOOKBACK[name] for name in ORIGINAL} == ORIGINAL
    for spec in FEATURE_SPECS:
        assert spec.doc.strip() and "\n" not in spec.doc and spec.doc.endswith("."), spec.name
        assert spec.inputs and set(spec.inputs) <= set(PRICES), spec.name


def test_each_feature_starts_exactly_at_its_declared_lookback() -> None:
    # Random walks have no flat window: past the warm-up every feature has a value.
    bars_of = _features().with_columns(bar=pl.int_range(pl.len()).over("symbol"))
    for name in FEATURE_COLUMNS:
        first = bars_of.filter(pl.col(name).is_not_null()).group_by("symbol").agg(pl.min("bar"))
        assert first.get_column("bar").to_list() == [FEATURE_LOOKBACK[name] - 1] * 4, name
        after = bars_of.filter(pl.col("bar") >= FEATURE_LOOKBACK[name] - 1)
        assert after.get_column(name).null_count() == 0, name


@pytest.mark.parametrize("column", PRICES)
def test_a_feature_changes_only_with_its_declared_inputs(column: str) -> None:
    # Widen the high and lower the low so that the bars stay valid whatever the column.
    factor = {"high": 1.01, "low": 0.99}.get(column, 1.37)
    changed = compute_features(_bars().with_columns(pl.col(column) * factor), known_at=NOW)
    for name in FEATURE_COLUMNS:
        same = changed.get_column(name).equals(_features().get_column(name))
        if column not in FEATURE_INPUTS[name]:
            assert same, f"{name} changed with {column}, which it does not declare"


def test_a_single_bar_symbol_gets_nulls_and_leaves_the_others_alone() -> None:
    lone = _bars().filter(pl.col("symbol") == "S000").head(1).with_columns(symbol=pl.lit("ZZZ"))
    got = compute_features(pl.concat([_bars(), lone]), known_at=NOW)
    row = got.filter(pl.col("symbol") == "ZZZ")
    assert row.height == 1
    assert row.select(FEATURE_COLUMNS).null_count().sum_horizontal().item() == len(FEATURE_COLUMNS)
    assert got.filter(pl.col("symbol") != "ZZZ").equals(_features())


def test_no_bars_give_an_empty_frame_with_every_column() -> None:
    got = compute_features(_bars().clear(), known_at=NOW)
    assert got.is_empty()
    assert got.columns == ["symbol", "session", *FEATURE_COLUMNS]


def test_duplicate_rows_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        compute_features(pl.concat([_bars(), _bars().tail(1)]), known_at=NOW)
