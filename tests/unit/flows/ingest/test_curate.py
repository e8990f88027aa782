"""Curation: batch identity and split adjustment, checked against hand-computed values."""

from __future__ import annotations

import datetime as dt

import polars as pl

from flows.ingest import curate
from flows.sources.base import BAR_COLUMNS, SPLIT_COLUMNS, SourceBatch

NOW = dt.datetime(2024, 1, 10, 22, tzinfo=dt.UTC)
D = [dt.date(2024, 1, d) for d in (2, 3, 4, 5)]


def batch(closes: list[float], splits: list[tuple[str, dt.date, float]] = ()) -> SourceBatch:
    n = len(closes)
    bars = pl.DataFrame(
        {
            "symbol": ["AAA"] * n,
            "session": D[:n],
            "open": closes,
            "high": closes,
            "low": closes,
            "close": closes,
            "volume": [100.0] * n,
        },
        schema=BAR_COLUMNS,
    )
    sp = pl.DataFrame(list(splits), schema=SPLIT_COLUMNS, orient="row")
    return SourceBatch(source="test", bars=bars, splits=sp)


def test_batch_id_depends_on_content_only() -> None:
    assert curate.batch_id(batch([1.0, 2.0])) == curate.batch_id(batch([1.0, 2.0]))
    assert curate.batch_id(batch([1.0, 2.0])) != curate.batch_id(batch([1.0, 2.5]))


def test_raw_rows_number_rows_in_arrival_order() -> None:
    raw = curate.raw_rows(batch([1.0, 2.0, 3.0]), batch_id="b", ingested_at=NOW)
    assert raw.get_column("row_number").to_list() == [0, 1, 2]
    assert raw.columns[:4] == ["batch_id", "source", "ingested_at", "row_number"]


def test_curated_rows_divide_prices_before_a_split() -> None:
    # 2:1 split effective 2024-01-04: 100 -> 50.
    b = batch([100.0, 102.0, 51.0, 52.0], [("AAA", D[2], 2.0)])
    raw = curate.raw_rows(b, batch_id="b", ingested_at=NOW)
    cur = curate.curated_rows(raw, splits=b.splits, knowledge_time=NOW)
    assert cur.get_column("close").to_list() == [50.0, 51.0, 51.0, 52.0]
    assert cur.get_column("volume").to_list() == [200.0, 200.0, 100.0, 100.0]
    assert cur.get_column("split_factor").to_list() == [2.0, 2.0, 1.0, 1.0]


def test_readjust_applies_only_new_splits_to_stored_rows() -> None:
    b = batch([100.0, 102.0])
    raw = curate.raw_rows(b, batch_id="b", ingested_at=NOW)
    stored = curate.curated_rows(raw, splits=b.splits, knowledge_time=NOW)
    new = pl.DataFrame([("AAA", D[2], 4.0)], schema=SPLIT_COLUMNS, orient="row")
    again = curate.readjusted_rows(stored, new_splits=new, knowledge_time=NOW)
    assert again.get_column("close").to_list() == [25.0, 25.5]
    assert again.get_column("split_factor").to_list() == [4.0, 4.0]
