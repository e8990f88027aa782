"""The minute-bars contract: market phases from the calendar, each rule, and GX's verdict."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from flows.ingest.minute_rows import in_batch_conflicts, raw_minute_rows, settle_with_stored
from flows.sources.minute_bars import MINUTE_BAR_COLUMNS, MinuteBatch
from flows.sources.minute_file_layout import MinuteFileLayout
from flows.sources.minute_files import MinuteFileSource
from validations.minute_bars import RULES
from validations.minute_bars_phases import with_phases
from validations.minute_bars_validate import publish_minute_docs, validate_minute_bars

NOW = dt.datetime(2025, 8, 1, tzinfo=dt.UTC)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


# (UTC instant, asset class, session, phase), worked out by hand from the NYSE calendar.
PHASES = [
    (utc(2023, 11, 3, 13, 29), "us_equity", dt.date(2023, 11, 3), "pre"),  # 09:29 EDT
    (utc(2023, 11, 3, 13, 30), "us_equity", dt.date(2023, 11, 3), "regular"),  # 09:30 EDT
    (utc(2023, 11, 3, 19, 59), "us_equity", dt.date(2023, 11, 3), "regular"),
    (utc(2023, 11, 3, 20, 0), "us_equity", dt.date(2023, 11, 3), "post"),  # 16:00 EDT
    (utc(2023, 11, 4, 0, 0), "us_equity", dt.date(2023, 11, 3), "closed"),  # 20:00 EDT Fri
    (utc(2023, 11, 6, 9, 0), "us_equity", dt.date(2023, 11, 6), "pre"),  # 04:00 EST
    (utc(2023, 11, 6, 8, 59), "us_equity", dt.date(2023, 11, 6), "closed"),
    (utc(2023, 11, 6, 14, 29), "us_equity", dt.date(2023, 11, 6), "pre"),  # 09:29 EST
    (utc(2023, 11, 6, 14, 30), "us_equity", dt.date(2023, 11, 6), "regular"),
    (utc(2023, 11, 6, 21, 0), "us_equity", dt.date(2023, 11, 6), "post"),  # 16:00 EST
    (utc(2023, 11, 23, 15, 0), "us_equity", dt.date(2023, 11, 23), "closed"),  # Thanksgiving
    (utc(2023, 11, 24, 17, 59), "us_equity", dt.date(2023, 11, 24), "regular"),  # half-day
    (utc(2023, 11, 24, 18, 0), "us_equity", dt.date(2023, 11, 24), "post"),  # 13:00 close
    (utc(2023, 11, 24, 21, 59), "us_equity", dt.date(2023, 11, 24), "post"),
    (utc(2023, 11, 24, 22, 0), "us_equity", dt.date(2023, 11, 24), "closed"),  # 17:00 EST
    (utc(2024, 3, 8, 14, 30), "us_equity", dt.date(2024, 3, 8), "regular"),  # 09:30 EST
    (utc(2024, 3, 11, 13, 30), "us_equity", dt.date(2024, 3, 11), "regular"),  # 09:30 EDT
    (utc(2024, 3, 11, 13, 29), "us_equity", dt.date(2024, 3, 11), "pre"),
    (utc(2024, 3, 11, 3, 0), "us_equity", dt.date(2024, 3, 10), "closed"),  # Sunday 23:00 EDT
    (utc(2023, 3, 11, 3, 0), "crypto", dt.date(2023, 3, 11), "24h"),  # UTC date, not New York's
]


def test_sessions_and_phases_follow_the_exchange_calendar() -> None:
    frame = pl.DataFrame(
        {"ts": [p[0] for p in PHASES], "asset_class": [p[1] for p in PHASES]},
        schema={"ts": pl.Datetime("us", "UTC"), "asset_class": pl.String},
    )
    out = with_phases(frame)
    assert out.select("session", "market_phase").rows() == [(p[2], p[3]) for p in PHASES]


def raw(rows: list[tuple], *, asset_class: str = "us_equity") -> pl.DataFrame:
    """Raw rows from (symbol, ts, open, high, low, close, volume) tuples, in arrival order."""
    bars = pl.DataFrame(
        [(*r[:2], asset_class, *r[2:], None, None) for r in rows],
        schema=MINUTE_BAR_COLUMNS,
        orient="row",
    )
    return raw_minute_rows(
        MinuteBatch("test", bars), batch_id="b", ingested_at=NOW, exchange="XNYS"
    )


def quarantined(outcome) -> list[tuple[int, str]]:
    return sorted(outcome.quarantined.select("row_number", "rule").rows())


def test_real_minute_bars_pass_and_gx_decides_every_rule(shared_data: Path) -> None:
    source = MinuteFileSource(
        (
            shared_data / "intraday/us_etf_1m_2023-2025",
            shared_data / "intraday/crypto_binanceus_1m_2023-03",
        ),
        layout=MinuteFileLayout(naive_timezone="UTC"),
    )
    batch = source.fetch(start=utc(2023, 3, 1), end=utc(2023, 11, 30), symbols=("DBB", "BTC/USD"))
    frame = raw_minute_rows(batch, batch_id="b", ingested_at=NOW, exchange="XNYS")
    outcome = validate_minute_bars(frame, now=NOW)
    assert outcome.status == "passed" and outcome.rows_quarantined == 0
    assert outcome.passed.height == frame.height
    assert [r.rule for r in outcome.rules] == [r.name for r in RULES]
    failed = {r.rule: r.unexpected_count for r in outcome.rules if not r.success}
    assert failed == {"volume_positive": 72}  # BTC/USD's zero-volume minutes, a warning


def test_each_error_rule_quarantines_its_rows_with_a_readable_detail() -> None:
    t = utc(2023, 11, 6, 15, 0)
    minute = dt.timedelta(minutes=1)
    frame = raw(
        [
            ("AAA", t, 10.0, 10.5, 9.5, 10.0, 100.0),  # 0 fine
            ("AAA", t + minute, 10.0, 9.9, 9.5, 10.0, 100.0),  # 1 open, close > high
            ("AAA", t + 2 * minute, -1.0, 10.5, -2.0, 10.0, 100.0),  # 2 negative prices
            ("AAA", t + 3 * minute, 10.0, 10.5, 9.5, 10.0, -1.0),  # 3 negative volume
            ("AAA", t + dt.timedelta(minutes=4, seconds=30), 10.0, 10.5, 9.5, 10.0, 1.0),  # 4
            ("AAA", NOW, 10.0, 10.5, 9.5, 10.0, 1.0),  # 5 still being traded at NOW
            ("AAA", t + 6 * minute, None, 10.5, 9.5, 10.0, 1.0),  # 6 null open
            ("AAA", t + 7 * minute, 10.0, 10.5, 9.5, 10.0, None),  # 7 null volume
        ]
    ).with_columns(
        # 8: a phase the calendar does not give (a bad upstream stamp or mapping)
        market_phase=pl.when(pl.col("row_number") == 0)
        .then(pl.lit("post"))
        .otherwise("market_phase")
    )
    outcome = validate_minute_bars(frame, now=NOW, max_quarantine_fraction=1.0)
    assert quarantined(outcome) == [
        (0, "phase_consistent"),
        (1, "ohlc_consistent"),
        (2, "prices_positive"),
        (3, "volume_nonnegative"),
        (4, "ts_on_minute"),
        (5, "bar_complete"),
        (6, "prices_not_null"),
        (7, "volume_not_null"),
    ]
    details = dict(outcome.quarantined.select("rule", "detail").iter_rows())
    assert details["ohlc_consistent"] == "open 10.0 > high 9.9, close 10.0 > high 9.9"
    assert details["prices_positive"] == "open -1.0 <= 0, low -2.0 <= 0"
    assert details["prices_not_null"] == "null open"
    assert details["phase_consistent"] == (
        "session 2023-11-06 / post but the calendar says 2023-11-06 / regular"
    )
    assert outcome.passed.height == 0


def test_duplicates_keep_the_last_received_and_count_disagreements() -> None:
    t = utc(2023, 11, 6, 15, 0)
    frame = raw(
        [
            ("AAA", t, 10.0, 10.5, 9.5, 10.0, 100.0),  # 0 superseded, values differ
            ("BBB", t, 5.0, 5.0, 5.0, 5.0, 1.0),  # 1 superseded, identical
            ("AAA", t, 10.0, 10.5, 9.5, 10.2, 100.0),  # 2 newest AAA
            ("BBB", t, 5.0, 5.0, 5.0, 5.0, 1.0),  # 3 newest BBB
        ]
    )
    outcome = validate_minute_bars(frame, now=NOW, max_quarantine_fraction=1.0)
    assert quarantined(outcome) == [(0, "unique_symbol_ts"), (1, "unique_symbol_ts")]
    details = dict(outcome.quarantined.select("row_number", "detail").iter_rows())
    assert details == {
        0: "superseded by row 2, values differ: close 10.0 vs 10.2",
        1: "superseded by row 3",
    }
    assert sorted(outcome.passed.get_column("row_number")) == [2, 3]
    superseded = outcome.quarantined.filter(pl.col("rule") == "unique_symbol_ts")
    assert in_batch_conflicts(frame, superseded) == 1


def test_warnings_are_counted_not_quarantined() -> None:
    t = utc(2023, 11, 6, 15, 0)
    minute = dt.timedelta(minutes=1)
    frame = raw(
        [
            ("AAA", t, 10.0, 10.0, 10.0, 10.0, 0.0),  # zero volume
            ("AAA", t + minute, 12.0, 12.5, 11.9, 12.5, 10.0),  # +25% in a minute
            ("AAA", t + 10 * minute, 10.0, 10.0, 10.0, 10.0, 5.0),  # -20%, but 9 minutes on
            ("AAA", utc(2023, 11, 4, 15, 0), 10.0, 10.0, 10.0, 10.0, 5.0),  # a Saturday
        ]
    )
    outcome = validate_minute_bars(frame, now=NOW)
    assert outcome.status == "passed" and outcome.quarantined.is_empty()
    flagged = {r.rule: r.unexpected_count for r in outcome.rules if not r.success}
    assert flagged == {"volume_positive": 1, "no_extreme_jump": 1, "in_trading_hours": 1}
    jump = next(r for r in outcome.rules if r.rule == "no_extreme_jump")
    assert "close 12.5 vs 10.0 a minute before" in jump.detail
    assert "warnings: 1 volume_positive, 1 in_trading_hours, 1 no_extreme_jump" in outcome.message


def test_a_batch_missing_a_column_or_with_wrong_types_is_rejected_whole() -> None:
    frame = raw([("AAA", utc(2023, 11, 6, 15, 0), 10.0, 10.0, 10.0, 10.0, 1.0)])
    outcome = validate_minute_bars(frame.drop("market_phase"), now=NOW)
    assert (outcome.status, outcome.passed.height) == ("failed", 0)
    assert "missing columns market_phase" in outcome.message
    retyped = validate_minute_bars(frame.with_columns(pl.col("volume").cast(pl.String)), now=NOW)
    assert "volume is String (expected Float64)" in retyped.message
    failed = {r.rule for r in retyped.rules if not r.success}
    assert failed == {"column_types"}


def test_too_many_quarantined_rows_fail_the_batch() -> None:
    t = utc(2023, 11, 6, 15, 0)
    rows = [("AAA", t + dt.timedelta(minutes=i), 10.0, 10.0, 10.0, 10.0, 1.0) for i in range(9)]
    frame = raw([*rows, ("AAA", t + dt.timedelta(minutes=9), 10.0, 9.0, 10.0, 10.0, 1.0)])
    outcome = validate_minute_bars(frame, now=NOW, max_quarantine_fraction=0.05)
    assert outcome.status == "failed"
    assert "10.0% quarantined exceeds the 5.0% limit" in outcome.message
    assert outcome.passed.height == 9


def test_the_result_is_stored_in_data_docs(tmp_path: Path) -> None:
    frame = raw([("AAA", utc(2023, 11, 6, 15, 0), 10.0, 10.0, 10.0, 10.0, 1.0)])
    validate_minute_bars(frame, now=NOW, context_dir=tmp_path / "gx", batch_id="b1")
    page = Path(publish_minute_docs(tmp_path / "gx", batch_id="b1"))
    assert page.is_file() and "b1" in str(page)
    assert "minute_bars" in page.read_text()
    with pytest.raises(LookupError, match="no stored minute_bars result for batch b2"):
        publish_minute_docs(tmp_path / "gx", batch_id="b2")


def test_a_later_known_bar_replaces_a_stored_one_and_an_older_one_does_not() -> None:
    t = utc(2023, 11, 6, 15, 0)
    columns = ["symbol", "ts", "open", "high", "low", "close", "volume", "vwap", "trade_count"]
    stored = pl.DataFrame(
        [
            ("AAA", t, 1.0, 1.0, 1.0, 1.0, 5.0, 1.0, 3),
            ("BBB", t, 2.0, 2.0, 2.0, 2.0, 5.0, None, None),
        ],
        schema=dict(
            zip(
                columns,
                [pl.String, pl.Datetime("us", "UTC")] + [pl.Float64] * 6 + [pl.Int64],
                strict=True,
            )
        ),
        orient="row",
    ).with_columns(knowledge_time=pl.lit(utc(2025, 1, 1)).cast(pl.Datetime("us", "UTC")))
    incoming = pl.DataFrame(
        [
            ("AAA", t, 1.0, 1.0, 1.0, 1.5, 5.0, 1.0, 3),  # disagrees on close
            ("BBB", t, 2.0, 2.0, 2.0, 2.0, 5.0, 2.0, 9),  # adds vwap/trade_count: no conflict
            ("CCC", t, 3.0, 3.0, 3.0, 3.0, 5.0, None, None),  # new
        ],
        schema=stored.drop("knowledge_time").schema,
        orient="row",
    )
    later = incoming.with_columns(
        knowledge_time=pl.lit(utc(2025, 6, 1)).cast(pl.Datetime("us", "UTC"))
    )
    fresh, changed, conflicts = settle_with_stored(later, stored)
    assert (fresh.get_column("symbol").to_list(), changed.get_column("symbol").to_list()) == (
        ["CCC"],
        ["AAA", "BBB"],
    )
    assert conflicts == 1
    earlier = later.with_columns(
        knowledge_time=pl.lit(utc(2024, 6, 1)).cast(pl.Datetime("us", "UTC"))
    )
    fresh, changed, conflicts = settle_with_stored(earlier, stored)
    assert (fresh.height, changed.height, conflicts) == (1, 0, 1)


@pytest.mark.parametrize("bad", ["max_quarantine_fraction", "naive_now"])
def test_bad_arguments_are_refused(bad: str) -> None:
    frame = raw([("AAA", utc(2023, 11, 6, 15, 0), 10.0, 10.0, 10.0, 10.0, 1.0)])
    with pytest.raises(ValueError):
        if bad == "naive_now":
            validate_minute_bars(frame, now=dt.datetime(2025, 1, 1))
        else:
            validate_minute_bars(frame, now=NOW, max_quarantine_fraction=1.5)
