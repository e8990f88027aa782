"""Transaction.merge against an oracle: new keys inserted, changed rows updated, identical
rows skipped, only the frame's key range compared, keys matched null-safely."""

from __future__ import annotations

import datetime as dt
import random

import polars as pl
import pytest

from warehouse import schemas
from warehouse.lake import Lakehouse, LakehouseError

NOW = dt.datetime(2024, 1, 3, 22, 0, tzinfo=dt.UTC)
D0, D1, D2 = dt.date(2024, 1, 1), dt.date(2024, 1, 2), dt.date(2024, 1, 3)
BARS = schemas.CURATED_BARS


def bars(rows: list[tuple[str | None, dt.date, float | None]]) -> pl.DataFrame:
    """Return curated bars (symbol, session, close); the other prices follow the close."""
    return BARS.frame(
        [
            {
                "symbol": symbol,
                "session": session,
                **{p: close for p in ("open", "high", "low", "close")},
                "volume": 1000.0,
                "split_factor": 1.0,
                "source": "test",
                "batch_id": "b1",
                "knowledge_time": NOW,
            }
            for symbol, session, close in rows
        ]
    )


def upserted(stored: pl.DataFrame, frame: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """The oracle: the table after upserting ``frame`` by key, and the rows that differ."""
    written = frame.join(stored, on=frame.columns, how="anti", nulls_equal=True)
    kept = stored.join(frame, on=list(BARS.key), how="anti", nulls_equal=True)
    return pl.concat([kept, frame]), written.height


def stored(lake: Lakehouse) -> pl.DataFrame:
    return lake.read(BARS).sort(["symbol", "session"], nulls_last=True)


def test_a_mixed_merge_inserts_new_updates_changed_and_skips_identical(lake: Lakehouse) -> None:
    with lake.transaction("seed") as txn:
        txn.merge(BARS, bars([("AAA", D1, 10.0), ("BBB", D1, 20.0), ("CCC", D1, 30.0)]))
        txn.merge(BARS, bars([("ZZZ", D0, 5.0)]))  # outside the next frame's key range
    frame = bars([("AAA", D1, 10.0), ("BBB", D1, 21.0), ("DDD", D1, 40.0)])
    with lake.transaction("mixed") as txn:
        assert txn.merge(BARS, frame) == 2  # BBB changed, DDD new; AAA identical
    assert txn.rows_written == {BARS.table: 2}
    got = stored(lake).select("symbol", "session", "close").rows()
    assert got == [
        ("AAA", D1, 10.0),
        ("BBB", D1, 21.0),
        ("CCC", D1, 30.0),
        ("DDD", D1, 40.0),
        ("ZZZ", D0, 5.0),
    ]
    before = lake.current_snapshot()
    with lake.transaction("again") as again:
        assert again.merge(BARS, frame) == 0
    assert again.snapshot_id is None
    assert lake.current_snapshot() == before


def test_rows_between_the_frames_keys_but_not_in_it_are_left_alone(lake: Lakehouse) -> None:
    with lake.transaction("seed") as txn:
        txn.merge(BARS, bars([("AAA", D0, 1.0), ("BBB", D1, 2.0), ("CCC", D2, 3.0)]))
    with lake.transaction("ends") as txn:
        assert txn.merge(BARS, bars([("AAA", D0, 1.5), ("CCC", D2, 3.0)])) == 1
    got = stored(lake).select("symbol", "close").rows()
    assert got == [("AAA", 1.5), ("BBB", 2.0), ("CCC", 3.0)]


def test_a_null_key_matches_a_null_so_a_rerun_writes_nothing(lake: Lakehouse) -> None:
    with lake.transaction("first") as txn:
        assert txn.merge(BARS, bars([(None, D1, 1.0), ("AAA", D1, 2.0)])) == 2
    with lake.transaction("again") as txn:
        assert txn.merge(BARS, bars([(None, D1, 1.0)])) == 0
    with lake.transaction("change") as txn:
        assert txn.merge(BARS, bars([(None, D1, 9.0)])) == 1
    got = stored(lake).select("symbol", "close").rows()
    assert got == [("AAA", 2.0), (None, 9.0)]


def test_merge_refuses_duplicate_null_keys(lake: Lakehouse) -> None:
    frame = bars([(None, D1, 1.0), (None, D1, 2.0), ("AAA", D1, 1.0)])
    with pytest.raises(LakehouseError, match="1 duplicate key"), lake.transaction("d") as txn:
        txn.merge(BARS, frame)
    assert lake.count(BARS) == 0


def test_random_merges_agree_with_the_oracle(lake: Lakehouse) -> None:
    rng = random.Random(7)
    space = [(s, d) for s in ("AAA", "BBB", "CCC", "DDD", None) for d in (D0, D1, D2)]
    expected = bars([])
    for round_ in range(12):
        keys = rng.sample(space, rng.randint(1, 8))
        frame = bars([(s, d, rng.choice([1.0, 2.0, None])) for s, d in keys])
        expected, written = upserted(expected, frame)
        before = lake.current_snapshot()
        with lake.transaction(f"round {round_}") as txn:
            assert txn.merge(BARS, frame) == written, f"round {round_}"
        assert (lake.current_snapshot() == before) == (written == 0)
        want = expected.sort(["symbol", "session"], nulls_last=True)
        assert stored(lake).equals(want), f"round {round_}"


def test_minute_bars_merge_by_a_timestamp_key(lake: Lakehouse) -> None:
    minute = schemas.CURATED_MINUTE_BARS
    ts = dt.datetime(2024, 1, 2, 14, 30, tzinfo=dt.UTC)

    def rows(close: float) -> pl.DataFrame:
        return minute.frame(
            [
                {"symbol": "SPY", "ts": ts + dt.timedelta(minutes=i), "close": close + i}
                for i in range(3)
            ]
        )

    with lake.transaction("one") as txn:
        assert txn.merge(minute, rows(1.0)) == 3
    with lake.transaction("same") as txn:
        assert txn.merge(minute, rows(1.0)) == 0
    with lake.transaction("later") as txn:
        assert txn.merge(minute, rows(1.0).tail(1).with_columns(close=pl.lit(9.0))) == 1
    got = lake.read(minute, order_by="ts").get_column("close").to_list()
    assert got == [1.0, 2.0, 9.0]


def test_a_second_merge_in_one_transaction_updates_the_rows_the_first_wrote(
    lake: Lakehouse,
) -> None:
    # The ingest flow does this: curated rows, then the same rows re-adjusted for a split.
    before = lake.current_snapshot()
    with lake.transaction("both") as txn:
        assert txn.merge(BARS, bars([("AAA", D0, 10.0), ("AAA", D1, 10.0)])) == 2
        assert txn.merge(BARS, bars([("AAA", D0, 5.0), ("AAA", D1, 10.0)])) == 1
    assert txn.rows_written == {BARS.table: 3}
    assert stored(lake).select("session", "close").rows() == [(D0, 5.0), (D1, 10.0)]
    assert lake.current_snapshot() == txn.snapshot_id == before + 1  # one commit
