"""The lakehouse contract: atomic commits, idempotent merges, as-of reads, schema checks."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from warehouse import schemas
from warehouse.lake import Lakehouse, LakehouseError, SchemaMismatch, table_status

NOW = dt.datetime(2024, 1, 3, 22, 0, tzinfo=dt.UTC)


def bars(closes: dict[str, float], session: dt.date = dt.date(2024, 1, 2)) -> pl.DataFrame:
    n = len(closes)
    return pl.DataFrame(
        {
            "symbol": list(closes),
            "session": [session] * n,
            "open": list(closes.values()),
            "high": [c * 1.01 for c in closes.values()],
            "low": [c * 0.99 for c in closes.values()],
            "close": list(closes.values()),
            "volume": [1000.0] * n,
            "split_factor": [1.0] * n,
            "source": ["test"] * n,
            "batch_id": ["b1"] * n,
            "knowledge_time": [NOW] * n,
        }
    )


def test_merge_twice_writes_nothing_the_second_time(lake: Lakehouse) -> None:
    with lake.transaction("first") as txn:
        assert txn.merge(schemas.CURATED_BARS, bars({"AAA": 10.0, "BBB": 20.0})) == 2
    before = lake.current_snapshot()
    with lake.transaction("again") as txn:
        assert txn.merge(schemas.CURATED_BARS, bars({"AAA": 10.0, "BBB": 20.0})) == 0
    assert txn.snapshot_id is None
    assert lake.current_snapshot() == before
    assert lake.count(schemas.CURATED_BARS) == 2


def test_merge_updates_changed_rows_and_time_travel_sees_the_old_value(lake: Lakehouse) -> None:
    with lake.transaction("first") as first:
        first.merge(schemas.CURATED_BARS, bars({"AAA": 10.0, "BBB": 20.0}))
    with lake.transaction("fix") as second:
        assert second.merge(schemas.CURATED_BARS, bars({"AAA": 11.0, "BBB": 20.0})) == 1
    now = lake.read(schemas.CURATED_BARS, where="symbol = ?", params=["AAA"])
    then = lake.read(
        schemas.CURATED_BARS, where="symbol = ?", params=["AAA"], as_of=first.snapshot_id
    )
    assert now.get_column("close").to_list() == [11.0]
    assert then.get_column("close").to_list() == [10.0]
    assert lake.count(schemas.CURATED_BARS) == 2


def test_a_failed_transaction_leaves_every_table_as_it_was(lake: Lakehouse) -> None:
    with lake.transaction("seed") as txn:
        txn.merge(schemas.CURATED_BARS, bars({"AAA": 10.0}))
    before = lake.current_snapshot()
    with pytest.raises(RuntimeError, match="crash"), lake.transaction("boom") as txn:
        txn.merge(schemas.CURATED_BARS, bars({"BBB": 5.0}))
        txn.append(
            schemas.BATCHES,
            pl.DataFrame({c: [None] for c in schemas.BATCHES.column_names}),
        )
        raise RuntimeError("crash")
    assert lake.current_snapshot() == before
    assert lake.count(schemas.CURATED_BARS) == 1
    assert lake.count(schemas.BATCHES) == 0


def test_snapshot_records_message_and_extra(lake: Lakehouse) -> None:
    with lake.transaction("ingest test", batch_id="b1") as txn:
        txn.merge(schemas.CURATED_BARS, bars({"AAA": 10.0}))
    snap = lake.snapshots(limit=1)[0]
    assert snap.snapshot_id == txn.snapshot_id
    assert snap.message == "ingest test"
    assert snap.extra["batch_id"] == "b1"


def test_schema_mismatch_names_the_missing_column(lake: Lakehouse) -> None:
    frame = bars({"AAA": 10.0}).drop("close")
    with pytest.raises(SchemaMismatch, match="close"), lake.transaction("bad") as txn:
        txn.merge(schemas.CURATED_BARS, frame)


def test_merge_refuses_duplicate_keys(lake: Lakehouse) -> None:
    frame = pl.concat([bars({"AAA": 10.0}), bars({"AAA": 11.0})])
    with pytest.raises(LakehouseError, match="duplicate key"), lake.transaction("dup") as txn:
        txn.merge(schemas.CURATED_BARS, frame)
    assert lake.count(schemas.CURATED_BARS) == 0


def test_values_with_quotes_travel_as_data_not_sql(lake: Lakehouse) -> None:
    odd = "X'); DROP TABLE curated.bars; --"
    with lake.transaction("odd") as txn:
        txn.merge(schemas.CURATED_BARS, bars({odd: 1.0}))
    got = lake.read(schemas.CURATED_BARS, where="symbol = ?", params=[odd])
    assert got.get_column("symbol").to_list() == [odd]


def test_insert_missing_skips_stored_keys(lake: Lakehouse) -> None:
    with lake.transaction("one") as txn:
        txn.insert_missing(schemas.CURATED_BARS, bars({"AAA": 10.0}))
    with lake.transaction("two") as txn:
        assert txn.insert_missing(schemas.CURATED_BARS, bars({"AAA": 99.0, "BBB": 1.0})) == 1
    got = lake.read(schemas.CURATED_BARS, order_by="symbol")
    assert got.get_column("close").to_list() == [10.0, 1.0]


def test_two_processes_share_the_catalog(lake: Lakehouse) -> None:
    with lake.transaction("one") as txn:
        txn.merge(schemas.CURATED_BARS, bars({"AAA": 10.0}))
    with Lakehouse(lake.root) as other:
        with other.transaction("two") as txn:
            txn.merge(schemas.CURATED_BARS, bars({"BBB": 10.0}))
        assert other.count(schemas.CURATED_BARS) == 2
    assert lake.count(schemas.CURATED_BARS) == 2


def test_table_status_reports_rows_and_last_change(lake: Lakehouse) -> None:
    with lake.transaction("one") as txn:
        txn.merge(schemas.CURATED_BARS, bars({"AAA": 10.0}))
    status = table_status(lake).filter(pl.col("dataset") == "curated.bars").row(0, named=True)
    assert status["rows"] == 1
    assert status["last_snapshot"] == txn.snapshot_id
    assert set(table_status(lake).get_column("dataset")) == set(schemas.BY_TABLE)


def test_a_lakehouse_from_an_older_schema_gains_the_new_columns(tmp_path) -> None:
    root = tmp_path / "lake"
    with Lakehouse(root) as old:
        old.query("ALTER TABLE paper.cash DROP COLUMN updated_at")  # as an older version made it
        assert "updated_at" not in old.query("SELECT * FROM paper.cash LIMIT 0").columns
        snapshots = old.current_snapshot()
    with Lakehouse(root) as reopened:
        assert "updated_at" in reopened.query("SELECT * FROM paper.cash LIMIT 0").columns
        assert reopened.current_snapshot() == snapshots + 1
    with Lakehouse(root) as again:  # nothing to add: reopening writes no snapshot
        assert again.current_snapshot() == snapshots + 1
