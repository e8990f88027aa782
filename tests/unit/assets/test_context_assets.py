"""The macro and sentiment feature assets materialized over session partitions on a temporary
lakehouse of hand-made curated macro vintages and news, against the pure functions on all of it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import dagster as dg
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from assets.features.context_assets import (
    MACRO_KEY,
    SENTIMENT_KEY,
    macro_features_asset,
    macro_frame,
    sentiment_features_asset,
    session_frame,
)
from assets.features.sentiment import sentiment_features
from assets.resources import LakehouseResource
from assets.run import RANGE_END_TAG, RANGE_START_TAG
from warehouse.calendar import session_close, sessions
from warehouse.lake import Lakehouse
from warehouse.schemas import (
    CURATED_MACRO_VINTAGES,
    CURATED_NEWS,
    CURATED_NEWS_SYMBOLS,
    MACRO_FEATURES,
    SENTIMENT_FEATURES,
)

UTC = dt.UTC
DAYS = sessions(dt.date(2024, 2, 1), dt.date(2024, 3, 28))
FIRST, LAST = DAYS[20], DAYS[-1]  # the range materialized; earlier sessions are history
P = 29  # DAYS[P] is a Thursday: the next session is the next day
PIVOT, AFTER = DAYS[P], DAYS[P + 1]  # a late release lands one minute after PIVOT's close


def _materialize(lake: Lakehouse, asset: dg.AssetsDefinition, first: dt.date, last: dt.date):
    result = dg.materialize(
        [asset],
        instance=dg.DagsterInstance.ephemeral(),
        resources={"lakehouse": LakehouseResource(root=str(lake.root))},
        tags={RANGE_START_TAG: first.isoformat(), RANGE_END_TAG: last.isoformat()},
    )
    assert result.success
    # One event per partition of the range, each with the run's metadata.
    events = result.get_asset_materialization_events()
    assert len(events) == len(sessions(first, last))
    return {k: v.value for k, v in events[0].materialization.metadata.items()}


def _vintage(series: str, day: dt.date, value: float, known: dt.datetime) -> dict[str, Any]:
    return {
        "series_id": series,
        "observation_date": day,
        "knowledge_time": known,
        "value": value,
        "source": "test",
        "batch_id": "b1",
        "ingested_at": known,
    }


def _macro_rows(series: tuple[str, ...]) -> pl.DataFrame:
    """Daily values known the next day at 22:00 UTC, a gap, and a late release after PIVOT."""
    start = dt.date(2024, 1, 2)
    rows = []
    for i in range(85):
        day = start + dt.timedelta(days=i)
        known = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(22), UTC)
        values = {
            "DGS10": 4.0 + 0.01 * i,
            "DGS2": 4.5 - 0.02 * i,
            "VIXCLS": 12.0 + (i % 7),
            "SP500": 5000.0 + i,
        }
        rows += [_vintage(s, day, values[s], known) for s in series if (i % 11) or s != "VIXCLS"]
    if "VIXCLS" in series:  # a release of PIVOT's own date a minute after PIVOT's close
        late = session_close(PIVOT) + dt.timedelta(minutes=1)
        rows.append(_vintage("VIXCLS", PIVOT, 99.0, late))
    return CURATED_MACRO_VINTAGES.frame(rows)


def _write(lake: Lakehouse, dataset, frame: pl.DataFrame) -> None:  # noqa: ANN001
    with lake.transaction("test rows") as txn:
        txn.merge(dataset, frame)


def test_macro_features_match_the_pure_function_on_all_data_and_respect_knowledge_time(
    lake: Lakehouse,
) -> None:
    vintages = _macro_rows(("DGS10", "DGS2", "VIXCLS", "SP500"))
    _write(lake, CURATED_MACRO_VINTAGES, vintages)
    meta = _materialize(lake, macro_features_asset, FIRST, LAST)
    stored = lake.read(MACRO_FEATURES, order_by="session")
    # Oracle: the pure function over every session and every vintage, then the range.
    expected, missing = macro_frame(session_frame(DAYS[0], LAST), vintages)
    expected = expected.filter(pl.col("session") >= FIRST)
    assert missing == [] and meta["missing_series"] == []
    assert stored.drop("macro_snapshot").equals(expected)
    assert meta["rows"] == meta["rows_written"] == len(DAYS) - 20 == meta["sessions"]
    assert stored.get_column("macro_snapshot").unique().to_list() == [meta["macro_snapshot"]]
    assert meta["snapshot_written"] > meta["snapshot_read"]
    # The release known a minute after PIVOT's close is invisible at PIVOT, visible next session.
    vix = dict(stored.select("session", "vix").iter_rows())
    assert vix[PIVOT] != 99.0 and vix[AFTER] == 99.0
    # A rerun, and a single partition inside the range, write nothing.
    assert _materialize(lake, macro_features_asset, FIRST, LAST)["rows_written"] == 0
    again = _materialize(lake, macro_features_asset, PIVOT, PIVOT)
    assert again["rows_written"] == 0 and again["snapshot_written"] is None


def test_missing_series_are_named_and_their_columns_stay_null(lake: Lakehouse) -> None:
    _write(lake, CURATED_MACRO_VINTAGES, _macro_rows(("VIXCLS", "SP500")))
    meta = _materialize(lake, macro_features_asset, FIRST, LAST)
    stored = lake.read(MACRO_FEATURES)
    assert meta["missing_series"] == ["DGS10", "DGS2"]
    assert stored.get_column("term_spread").null_count() == stored.height == meta["rows"]
    assert stored.get_column("vix").null_count() == 0


def _news_rows() -> tuple[pl.DataFrame, pl.DataFrame]:
    """Items on several symbols around the closes, one a minute after PIVOT's close."""
    items, tags = [], []
    for i, day in enumerate(DAYS):
        close = session_close(day)
        for j, (symbol, offset) in enumerate((("AAA", -60), ("BBB", 30), ("AAA", 1))):
            if (i + j) % 3 == 0 and day != PIVOT:
                continue
            at = close + dt.timedelta(minutes=offset)
            content = f"c{i}-{j}"
            items.append(
                {
                    "content_id": content,
                    "publisher": "test",
                    "published_at": at,
                    "time_precision": "minute",
                    "knowledge_time": at,
                    "headline": f"headline {content}",
                    "sentiment": ((i * 7 + j * 3) % 11 - 5) / 5,
                    "sentiment_words": 2,
                    "source": "test",
                    "batch_id": "n1",
                    "ingested_at": at,
                }
            )
            tags.append({"content_id": content, "symbol": symbol, "tagged_by": "source"})
    return CURATED_NEWS.frame(items), CURATED_NEWS_SYMBOLS.frame(tags)


def test_sentiment_features_match_the_pure_function_and_a_late_item_counts_next_session(
    lake: Lakehouse,
) -> None:
    news, tags = _news_rows()
    _write(lake, CURATED_NEWS, news)
    _write(lake, CURATED_NEWS_SYMBOLS, tags)
    meta = _materialize(lake, sentiment_features_asset, FIRST, LAST)
    stored = lake.read(SENTIMENT_FEATURES, order_by="symbol, session")
    joined = news.join(tags, on="content_id").select("symbol", "knowledge_time", "sentiment")
    expected = (
        sentiment_features(session_frame(DAYS[0], LAST), joined, time_column="knowledge_time")
        .filter((pl.col("session") >= FIRST) & (pl.col("news_count_5") > 0))
        .sort("symbol", "session")
    )
    # The window sums are differences of running sums: equal up to rounding to the full read.
    assert_frame_equal(stored.drop("news_snapshot"), expected, check_exact=False, rel_tol=1e-12)
    assert meta["rows"] == meta["rows_written"] == expected.height > 0
    # The AAA item a minute after PIVOT's close enters the window at the next session, and
    # leaves it five sessions later.
    counts = stored.filter(pl.col("symbol") == "AAA").select("session", "news_count_5")
    count = dict(counts.iter_rows())
    late = news.filter(pl.col("content_id") == f"c{P}-2")
    assert late.item(0, "knowledge_time") > session_close(PIVOT)
    hand = joined.filter(
        (pl.col("symbol") == "AAA")
        & (pl.col("knowledge_time") > session_close(DAYS[P - 4]))
        & (pl.col("knowledge_time") <= session_close(AFTER))
    )
    assert count[AFTER] == hand.height and count[AFTER] != count[PIVOT]
    assert _materialize(lake, sentiment_features_asset, FIRST, LAST)["rows_written"] == 0


@pytest.mark.parametrize(
    ("asset", "key", "reason"),
    [
        (macro_features_asset, MACRO_KEY, "QUANTLAKE_MACRO__DIRECTORY"),
        (sentiment_features_asset, SENTIMENT_KEY, "QUANTLAKE_NEWS__DIRECTORY"),
    ],
)
def test_an_empty_source_materializes_zero_rows_and_says_why(
    lake: Lakehouse, asset: dg.AssetsDefinition, key: dg.AssetKey, reason: str
) -> None:
    meta = _materialize(lake, asset, FIRST, LAST)
    assert meta["rows"] == meta["rows_written"] == 0
    assert reason in meta["skipped"]
    assert meta["snapshot_written"] is None
    assert asset.key == key
