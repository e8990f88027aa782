"""Macro novelty, vintages and curated rows, against hand-worked histories."""

from __future__ import annotations

import datetime as dt

import polars as pl

from flows.ingest import macro_rows
from flows.sources.fred import OBS_COLUMNS
from warehouse import schemas

D = dt.date
JAN, FEB = D(2024, 1, 1), D(2024, 2, 1)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def obs(rows: list[tuple[str, dt.date, dt.date | None, str]]) -> pl.DataFrame:
    """Return observations (series, date, realtime_start, value_text) as the source delivers."""
    return pl.DataFrame(
        [
            {
                "origin": "t.csv",
                "line": i + 2,
                "series_id": s,
                "observation_date": d,
                "realtime_start": r,
                "value_text": v,
                "value": None if v in ("", ".") else float(v),
                "frequency": "M",
            }
            for i, (s, d, r, v) in enumerate(rows)
        ],
        schema=OBS_COLUMNS,
    )


def stored(rows: list[tuple[str, dt.date, dt.date | None, str, bool]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=macro_rows.STORED_COLUMNS, orient="row")


def vintages(rows: list[tuple[dt.date, dt.datetime, float | None, str]]) -> pl.DataFrame:
    """Return curated.macro_vintages rows of series X: (date, knowledge_time, value, batch)."""
    return schemas.CURATED_MACRO_VINTAGES.frame(
        [
            {
                "series_id": "X",
                "observation_date": d,
                "knowledge_time": k,
                "value": v,
                "source": "fred",
                "batch_id": b,
                "ingested_at": utc(2024, 6, 1),
            }
            for d, k, v, b in rows
        ]
    )


def test_nothing_stored_means_everything_is_new_and_nothing_revised() -> None:
    incoming = obs([("X", JAN, None, "1.0"), ("X", FEB, None, "")])
    new, revised = macro_rows.new_observations(incoming, stored([]))
    assert new.equals(incoming)
    assert revised.to_list() == [False, False]


def test_plain_rows_compare_with_the_latest_value_received() -> None:
    before = stored(
        [
            ("X", JAN, None, "1.0", False),  # the first value received for January
            ("X", JAN, None, "1.1", True),  # ...revised to 1.1 later
            ("X", FEB, None, "", True),  # February was missing
        ]
    )
    incoming = obs(
        [
            ("X", JAN, None, "1.0"),  # back to 1.0: a revision, not old news
            ("X", FEB, None, ""),  # still missing: old news
            ("X", D(2024, 3, 1), None, "2.0"),  # new
        ]
    )
    new, revised = macro_rows.new_observations(incoming, before)
    assert new.select("observation_date", "value_text").rows() == [
        (JAN, "1.0"),
        (D(2024, 3, 1), "2.0"),
    ]
    assert revised.to_list() == [True, False]


def test_duplicates_in_the_files_do_not_flip_the_stored_value() -> None:
    # Two files disagree on January; the later one (1.1) won when it was first loaded.
    before = stored([("X", JAN, None, "1.0", False), ("X", JAN, None, "1.1", True)])
    incoming = obs([("X", JAN, None, "1.0"), ("X", JAN, None, "1.1")])
    new, revised = macro_rows.new_observations(incoming, before)
    assert new.is_empty() and revised.is_empty()
    # When the winner changes, every row of the observation is delivered (and validated).
    changed = obs([("X", JAN, None, "1.0"), ("X", JAN, None, "1.2")])
    new, revised = macro_rows.new_observations(changed, before)
    assert new.get_column("value_text").to_list() == ["1.0", "1.2"]
    assert revised.to_list() == [True, True]


def test_stated_vintages_are_old_news_only_with_the_same_value() -> None:
    before = stored([("X", JAN, D(2024, 2, 2), "1.0", False)])
    incoming = obs(
        [
            ("X", JAN, D(2024, 2, 2), "1.0"),  # stored
            ("X", JAN, D(2024, 3, 8), "1.1"),  # a later vintage
            ("X", JAN, D(2024, 2, 2), "0.9"),  # the stored vintage, corrected
        ]
    )
    new, revised = macro_rows.new_observations(incoming, before)
    assert new.select("realtime_start", "value_text").rows() == [
        (D(2024, 3, 8), "1.1"),
        (D(2024, 2, 2), "0.9"),
    ]
    assert revised.to_list() == [False, False]  # their knowledge time is their stated vintage


def test_curated_takes_the_latest_value_known_since_its_run_began() -> None:
    chain = vintages(
        [
            (JAN, utc(2024, 2, 15, 22), 1.0, "b1"),
            (JAN, utc(2024, 3, 15, 22), 1.1, "b2"),  # revision
            (JAN, utc(2024, 4, 15, 22), 1.1, "b3"),  # repeats: tells nothing new
            (FEB, utc(2024, 3, 15, 22), None, "b1"),  # missing
            (FEB, utc(2024, 4, 15, 22), 2.0, "b3"),  # published late: a revision of nothing
        ]
    )
    cur = macro_rows.curated_rows(chain.sample(fraction=1.0, shuffle=True, seed=3)).sort(
        "observation_date"
    )
    assert cur.columns == schemas.CURATED_MACRO.column_names
    assert cur.select(
        "observation_date", "value", "knowledge_time", "revisions", "batch_id"
    ).rows() == [
        (JAN, 1.1, utc(2024, 3, 15, 22), 1, "b2"),
        (FEB, 2.0, utc(2024, 4, 15, 22), 1, "b3"),
    ]


def test_missing_stays_missing_in_curated() -> None:
    cur = macro_rows.curated_rows(vintages([(JAN, utc(2024, 2, 15, 22), None, "b1")]))
    assert cur.select("value", "revisions").rows() == [(None, 0)]


def test_chain_lets_a_new_vintage_replace_a_stored_one_with_the_same_time() -> None:
    old = vintages([(JAN, utc(2024, 2, 15, 22), 1.0, "b1"), (JAN, utc(2024, 3, 15, 22), 1.1, "b1")])
    new = vintages([(JAN, utc(2024, 2, 15, 22), 0.9, "b2")])
    assert macro_rows.chain(old, new).select("value", "batch_id").rows() == [
        (0.9, "b2"),
        (1.1, "b1"),
    ]


def test_conflicts_name_revisions_and_replaced_vintages() -> None:
    old = vintages([(JAN, utc(2024, 2, 15, 22), 1.0, "b1")])
    new = vintages(
        [
            (JAN, utc(2024, 2, 15, 22), 0.9, "b2"),  # the same vintage, another value
            (JAN, utc(2024, 6, 1), 1.2, "b2"),  # a revision known at the ingest
            (FEB, utc(2024, 3, 15, 22), 2.0, "b2"),  # first value: no conflict
        ]
    )
    assert macro_rows.conflicts(old, new) == [
        "X 2024-01-01 vintage 2024-02-15 22:00 UTC: 1.0 replaced by 0.9",
        "X 2024-01-01: 0.9 -> 1.2 (revision known 2024-06-01 00:00 UTC)",
    ]


def test_raw_rows_number_in_order_with_batch_columns() -> None:
    incoming = obs([("X", JAN, None, "1.0"), ("X", FEB, None, "2.0")]).with_columns(
        knowledge_time=pl.lit(utc(2024, 6, 1))
    )
    raw = macro_rows.raw_rows(incoming, source="fred", batch_id="b", ingested_at=utc(2024, 6, 1))
    assert raw.columns == schemas.RAW_MACRO.column_names
    assert raw.get_column("row_number").to_list() == [0, 1]
