"""The per-run quality report on a lakehouse seeded through the real ingest steps (curate,
validate_bars, the ingest commit), checked against hand-counted defects; macro and news batches
seeded directly; the stored rows, the idempotent write and the HTML page."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

from flows.ingest import curate
from flows.ingest.daily import commit
from flows.quality.freshness import FreshnessRules
from flows.quality.freshness_report import current_freshness
from flows.quality.html import render_quality_html
from flows.quality.report import (
    QualityReport,
    build_quality_report,
    load_quality_report,
    report_path,
    write_quality_report,
)
from flows.sources.base import BAR_COLUMNS, SourceBatch
from validations.validate import validate_bars
from warehouse import calendar, schemas
from warehouse.lake import Lakehouse

DAYS = calendar.sessions(dt.date(2024, 1, 2), dt.date(2024, 3, 28))
NOW1 = dt.datetime(2024, 3, 28, 22, tzinfo=dt.UTC)  # after the close of DAYS[-1]
NOW2 = dt.datetime(2024, 4, 10, 22, tzinfo=dt.UTC)
APRIL_1 = dt.date(2024, 4, 1)  # the session after DAYS[-1] (2024-03-29 is Good Friday)


def bar(symbol: str, day: dt.date, price: float = 100.0, volume: float = 1e6, **kw: object):
    row = {"open": price, "high": price * 1.01, "low": price * 0.99, "close": price}
    return {"symbol": symbol, "session": day, **row, "volume": volume, **kw}


def first_batch() -> list[dict[str, object]]:
    """AAA: unadjusted 2:1 split at DAYS[30]; BBB: no DAYS[10], a null close on DAYS[20];
    CCC: DAYS[5] twice with other volumes; DDD: clean."""
    rows = [bar("AAA", d, 100.0, 1e6) for d in DAYS[:30]]
    rows += [bar("AAA", d, 50.0, 2e6) for d in DAYS[30:]]
    rows += [bar("BBB", d) for d in DAYS if d not in (DAYS[10], DAYS[20])]
    rows += [bar("BBB", DAYS[20], close=None)]
    rows += [bar("CCC", d) for d in DAYS] + [bar("CCC", DAYS[5], volume=2e6)]
    return rows + [bar("DDD", d) for d in DAYS]


def load(lake: Lakehouse, rows: list[dict[str, object]], *, now: dt.datetime) -> str:
    """Ingest ``rows`` through the ingest flow's own steps (without a Prefect server)."""
    bars = pl.DataFrame(rows, schema=BAR_COLUMNS, orient="row")
    batch = SourceBatch(source="file", bars=bars)
    bid = curate.batch_id(batch)
    raw = curate.raw_rows(batch, batch_id=bid, ingested_at=now)
    outcome = validate_bars(raw, today=now.date(), batch_id=bid)
    commit.fn(lake, batch, raw, outcome, batch_id=bid, now=now)
    return bid


@dataclass
class Seeded:
    lake: Lakehouse
    first: str
    second: str
    between: int  # the snapshot after the first batch
    first_report: QualityReport  # built right after the first batch, as the ingest would


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    with Lakehouse(tmp_path_factory.mktemp("quality") / "lake") as lake:
        first = load(lake, first_batch(), now=NOW1)
        report = build_quality_report(lake, batch_ids=[first], now=NOW1)
        # Not lake.current_snapshot(): at 3e0cc3a its fetchone() leaves the reader's result open,
        # and the SQLite catalog then refuses the next commit ("database is locked").
        between = lake.snapshots(limit=1)[0].snapshot_id
        second = load(lake, [bar("CCC", DAYS[5], 101.0), bar("CCC", APRIL_1)], now=NOW2)
        yield Seeded(lake, first, second, between, report)


def by_symbol(report: QualityReport) -> dict[str, dict[str, object]]:
    return {r["symbol"]: r for r in report.rows.iter_rows(named=True)}


def test_first_run_counts_every_hand_made_defect(seeded: Seeded) -> None:
    report = seeded.first_report
    rows = by_symbol(report)
    assert set(rows) == {"*", "AAA", "BBB", "CCC", "DDD"}
    total = rows["*"]
    n = len(DAYS)
    assert (total["rows_in"], total["rows_passed"], total["rows_quarantined"]) == (
        4 * n,
        4 * n - 2,
        2,
    )
    assert json.loads(total["quarantined_by_rule"]) == {
        "prices_not_null": 1,
        "unique_symbol_session": 1,
    }
    assert (total["conflicts"], total["gaps"], total["splits_found"]) == (1, 2, 1)
    assert (total["last_session"], total["sessions_behind"]) == (DAYS[-1], 0)
    assert total["latest_knowledge_time"] == NOW1
    assert total["status"] == "warning"
    assert json.loads(total["batch_ids"]) == [seeded.first]

    assert (rows["AAA"]["splits_found"], rows["AAA"]["status"]) == (1, "warning")
    (split,) = report.details(rows["AAA"])["splits"]
    assert (split["session"], split["label"], split["ratio"]) == (DAYS[30].isoformat(), "2:1", 2.0)
    assert [(s.symbol, s.session, s.ratio) for s in report.detected] == [("AAA", DAYS[30], 2.0)]

    bbb = report.details(rows["BBB"])
    assert (rows["BBB"]["gaps"], rows["BBB"]["rows_quarantined"]) == (2, 1)
    assert bbb["gap_sessions"] == [DAYS[10].isoformat(), DAYS[20].isoformat()]
    assert bbb["examples"]["prices_not_null"].startswith(DAYS[20].isoformat())

    assert (rows["CCC"]["conflicts"], rows["CCC"]["rows_in"], rows["CCC"]["rows_passed"]) == (
        1,
        n + 1,
        n,
    )
    assert "values differ" in report.details(rows["CCC"])["examples"]["unique_symbol_session"]
    ddd = rows["DDD"]
    assert (ddd["status"], ddd["gaps"], ddd["conflicts"], ddd["splits_found"]) == ("ok", 0, 0, 0)
    fresh = report.details(ddd)["freshness"]
    assert (fresh["verdict"], fresh["latest"], fresh["expected"], fresh["behind"]) == (
        "fresh",
        DAYS[-1].isoformat(),
        DAYS[-1].isoformat(),
        0,
    )
    whole = report.details(total)["freshness"]
    assert (whole["verdict"], whole["subjects"], whole["stale"]) == ("fresh", 4, [])
    assert report.symbols.get_column("symbol").to_list()[-1] == "DDD"  # problems first


def test_second_run_sees_a_cross_batch_conflict_and_staleness(seeded: Seeded) -> None:
    report = build_quality_report(seeded.lake, batch_ids=[seeded.second], now=NOW2)
    rows = by_symbol(report)
    assert set(rows) == {"*", "CCC"}
    ccc = rows["CCC"]
    behind = len(calendar.sessions(APRIL_1 + dt.timedelta(days=1), NOW2.date()))
    assert behind == 7
    assert (ccc["rows_in"], ccc["rows_quarantined"], ccc["conflicts"], ccc["gaps"]) == (2, 0, 1, 0)
    assert (ccc["last_session"], ccc["sessions_behind"]) == (APRIL_1, behind)
    assert ccc["latest_knowledge_time"] == NOW2
    assert ccc["status"] == "warning"
    fresh = report.details(ccc)["freshness"]
    assert (fresh["verdict"], fresh["behind"], fresh["unit"]) == ("stale", behind, "sessions")
    assert fresh["expected"] == "2024-04-10"  # the session that closed before NOW2
    assert report.details(rows["*"])["freshness"]["stale"] == ["CCC"]


def test_since_snapshot_picks_the_batches_committed_after_it(seeded: Seeded) -> None:
    by_ids = build_quality_report(seeded.lake, batch_ids=[seeded.second], now=NOW2)
    since = build_quality_report(seeded.lake, since_snapshot=seeded.between, now=NOW2)
    assert since.run_id == by_ids.run_id
    assert since.rows.equals(by_ids.rows)
    empty = build_quality_report(
        seeded.lake, since_snapshot=seeded.lake.snapshots(limit=1)[0].snapshot_id, now=NOW2
    )
    assert empty.rows.is_empty() and empty.status == "ok"


def test_arguments_are_checked(seeded: Seeded) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        build_quality_report(seeded.lake, now=NOW2)
    with pytest.raises(ValueError, match="exactly one"):
        build_quality_report(seeded.lake, batch_ids=[seeded.first], since_snapshot=1, now=NOW2)
    with pytest.raises(ValueError, match="not in meta.batches"):
        build_quality_report(seeded.lake, batch_ids=["nope"], now=NOW2)
    with pytest.raises(ValueError, match="timezone"):
        naive = NOW2.replace(tzinfo=None)
        build_quality_report(seeded.lake, batch_ids=[seeded.first], now=naive)


def test_write_is_idempotent_and_the_stored_report_reads_back(
    seeded: Seeded, tmp_path: Path
) -> None:
    report = build_quality_report(seeded.lake, batch_ids=[seeded.first], now=NOW1)
    path = write_quality_report(seeded.lake, report, reports_dir=tmp_path)
    assert path == report_path(tmp_path, report.run_id) and path.is_file()
    snapshot = seeded.lake.current_snapshot()
    again = build_quality_report(seeded.lake, batch_ids=[seeded.first], now=NOW1)
    write_quality_report(seeded.lake, again, reports_dir=tmp_path)
    assert seeded.lake.current_snapshot() == snapshot
    stored = load_quality_report(seeded.lake, run_id=report.run_id)
    order = ["source", "dataset", "symbol"]
    assert stored.rows.sort(order).equals(report.rows.sort(order))
    page = path.read_text()
    for text in (report.run_id, "AAA", "2:1", DAYS[10].isoformat(), "prices_not_null", "DDD"):
        assert text in page


def test_a_batch_that_failed_fails_the_report_and_a_symbol_with_nothing_usable(
    tmp_path: Path,
) -> None:
    with Lakehouse(tmp_path / "lake") as lake:
        bad = [bar("EEE", d, close=None) for d in DAYS[:5]] + [bar("FFF", d) for d in DAYS[:5]]
        bid = load(lake, bad, now=NOW1)
        rows = by_symbol(build_quality_report(lake, batch_ids=[bid], now=NOW1))
    assert rows["*"]["status"] == "failed"
    assert (rows["EEE"]["status"], rows["EEE"]["rows_passed"]) == ("failed", 0)
    assert rows["FFF"]["gaps"] == 0 and rows["FFF"]["rows_quarantined"] == 0


def test_html_escapes_what_the_data_says(seeded: Seeded) -> None:
    report = build_quality_report(seeded.lake, batch_ids=[seeded.second], now=NOW2)
    hostile = report.rows.with_columns(
        pl.lit(
            json.dumps(
                {
                    "examples": {},
                    "gap_sessions": [],
                    "splits": [
                        {"session": "x", "label": "<b>", "evidence": "<script>alert(1)</script>"}
                    ],
                }
            )
        ).alias("details"),  # fmt: skip
        pl.lit("<i>src</i>").alias("source"),
    )
    page = render_quality_html(QualityReport("run<&>", NOW2, hostile))
    assert "<script>" not in page and "<i>" not in page
    assert "&lt;script&gt;" in page and "run&lt;&amp;&gt;" in page


def _seed(
    lake: Lakehouse,
    spec: str,
    bid: str,
    rows: list[dict[str, object]],
    quarantined: dict[int, str],
    *,
    now: dt.datetime,
) -> None:
    """Seed one batch of ``spec`` (a dataset of flows/quality/reads.py) directly: raw rows,
    the quarantined ones, the others in curated, and the batch record."""
    from flows.quality.reads import SPECS

    layout = SPECS[spec]
    stamp = {"batch_id": bid, "source": "src", "ingested_at": now, "knowledge_time": now}
    raw = layout.raw.frame([{**stamp, "row_number": i, **r} for i, r in enumerate(rows)])
    bad = raw.filter(pl.col("row_number").is_in(list(quarantined))).with_columns(
        rule=pl.col("row_number").replace_strict(quarantined), detail=pl.lit("bad")
    )
    good = raw.filter(~pl.col("row_number").is_in(list(quarantined)))
    extra = {"revisions": pl.lit(0, pl.Int32), "knowledge_time": pl.col("ingested_at")}
    wanted = {c: v for c, v in extra.items() if c in layout.curated.column_names}
    curated = good.with_columns(**wanted).select(layout.curated.column_names)
    record = {**stamp, "dataset": spec, "rows_in": raw.height, "rows_passed": good.height,
              "rows_quarantined": bad.height, "status": "passed", "message": "seeded"}  # fmt: skip
    with lake.transaction("seed") as txn:
        txn.append(layout.raw, raw)
        txn.append(layout.quarantine, bad.select(layout.quarantine.column_names))
        txn.merge(layout.curated, curated.unique(layout.curated.key, keep="last"))
        txn.append(schemas.BATCHES, schemas.BATCHES.frame([record]))


def _obs(series: str, day: dt.date, text: str) -> dict[str, object]:
    value = float(text) if text else None
    frequency = {"DGS10": "D", "UNRATE": "M"}.get(series)
    return {"series_id": series, "observation_date": day, "value_text": text, "value": value,
            "frequency": frequency}  # fmt: skip


def test_macro_rows_are_per_series_with_revisions_as_conflicts(lake: Lakehouse) -> None:
    jan = dt.date(2024, 1, 1)
    jan2, feb = dt.date(2024, 1, 2), dt.date(2024, 2, 1)
    first = [_obs("DGS10", jan, "4.0"), _obs("DGS10", jan2, "4.1"), _obs("UNRATE", jan, "3.7")]
    _seed(lake, "macro", "m1", first, {}, now=NOW1)
    second = [_obs("DGS10", jan2, "4.2"), _obs("UNRATE", feb, "")]
    _seed(lake, "macro", "m2", second, {1: "value_present"}, now=NOW2)
    rows = by_symbol(build_quality_report(lake, batch_ids=["m2"], now=NOW2))
    assert set(rows) == {"*", "DGS10", "UNRATE"}
    assert (rows["DGS10"]["conflicts"], rows["DGS10"]["rows_quarantined"]) == (1, 0)
    assert (rows["UNRATE"]["conflicts"], rows["UNRATE"]["rows_quarantined"]) == (0, 1)
    assert json.loads(rows["UNRATE"]["quarantined_by_rule"]) == {"value_present": 1}
    assert rows["DGS10"]["last_session"] == dt.date(2024, 1, 2)
    assert rows["UNRATE"]["last_session"] == jan  # the quarantined February value never landed
    assert rows["DGS10"]["sessions_behind"] is None and rows["DGS10"]["gaps"] is None
    assert (rows["*"]["rows_in"], rows["*"]["conflicts"], rows["*"]["status"]) == (2, 1, "warning")
    # UNRATE (monthly, out 7 days after the month): February and March are overdue at NOW2.
    unrate = json.loads(rows["UNRATE"]["details"])["freshness"]
    assert (unrate["verdict"], unrate["behind"], unrate["expected"]) == ("stale", 2, "2024-03-01")
    assert json.loads(rows["*"]["details"])["freshness"]["stale"] == ["DGS10", "UNRATE"]


def test_an_unknown_dataset_is_refused_with_what_to_do(lake: Lakehouse) -> None:
    record = {"batch_id": "x", "source": "s", "ingested_at": NOW1, "dataset": "options"}
    with lake.transaction("seed") as txn:
        txn.append(schemas.BATCHES, schemas.BATCHES.frame([record]))
    with pytest.raises(ValueError, match="flows/quality/reads.py"):
        build_quality_report(lake, batch_ids=["x"], now=NOW1)


def test_minute_bars_count_conflicts_and_skip_sessions_behind_for_crypto(lake: Lakehouse) -> None:
    t0 = dt.datetime(2024, 4, 10, 14, 30, tzinfo=dt.UTC)
    day = t0.date()

    def minute(symbol: str, asset: str, ts: dt.datetime, close: float) -> dict[str, object]:
        prices = {"open": close, "high": close, "low": close, "close": close, "volume": 5.0}
        return {"symbol": symbol, "ts": ts, "asset_class": asset, "session": day, **prices}

    first = [minute("SPY", "us_equity", t0, 500.0), minute("BTC/USD", "crypto", t0, 7e4)]
    _seed(lake, "minute_bars", "n1", first, {}, now=NOW2)
    later = t0 + dt.timedelta(minutes=1)
    second = [minute("SPY", "us_equity", t0, 501.0), minute("SPY", "us_equity", later, 0.0)]
    _seed(lake, "minute_bars", "n2", second, {1: "prices_positive"}, now=NOW2)
    rows = by_symbol(build_quality_report(lake, batch_ids=["n2"], now=NOW2))
    assert set(rows) == {"*", "SPY"}
    spy = rows["SPY"]
    assert (spy["rows_in"], spy["rows_quarantined"], spy["conflicts"]) == (2, 1, 1)
    assert (spy["last_session"], spy["sessions_behind"], spy["gaps"]) == (day, 0, None)
    # NOW2 is 18:00 New York: the session's last regular minute (19:59 UTC) is expected.
    fresh = json.loads(spy["details"])["freshness"]
    assert (fresh["verdict"], fresh["latest"], fresh["expected"]) == (
        "stale",
        "2024-04-10 14:30 UTC",
        "2024-04-10 19:59 UTC",
    )
    btc = report_rows_of(lake, "n1")["BTC/USD"]
    assert btc["sessions_behind"] is None
    assert json.loads(btc["details"])["freshness"]["expected"] == "2024-04-10 21:59 UTC"


def report_rows_of(lake: Lakehouse, batch: str) -> dict[str, dict[str, object]]:
    return by_symbol(build_quality_report(lake, batch_ids=[batch], now=NOW2))


def test_news_has_one_row_per_source(lake: Lakehouse) -> None:
    published = dt.datetime(2020, 7, 17, 23, 51, tzinfo=dt.UTC)
    item = {"publisher": "cnbc", "published_at": published, "headline": "h", "content_id": "c1"}
    rows = [item, {**item, "content_id": "c2", "published_at": None}]
    _seed(lake, "news", "w1", rows, {1: "published_at_not_null"}, now=NOW2)
    found = report_rows_of(lake, "w1")
    assert set(found) == {"*"}
    total = found["*"]
    assert (total["rows_in"], total["rows_quarantined"], total["last_session"]) == (
        2,
        1,
        published.date(),
    )
    assert (total["conflicts"], total["gaps"], total["sessions_behind"]) == (None, None, None)
    assert total["latest_knowledge_time"] == NOW2 and total["status"] == "warning"
    fresh = json.loads(total["details"])["freshness"]
    assert (fresh["verdict"], fresh["latest"]) == ("stale", "2020-07-17 23:51 UTC")


def test_a_session_every_symbol_lacks_is_listed_once_and_warns(tmp_path: Path) -> None:
    days = [d for d in DAYS[:10] if d != DAYS[4]]
    now = calendar.session_close(DAYS[9]) + dt.timedelta(hours=1)
    with Lakehouse(tmp_path / "lake") as lake:
        bid = load(lake, [bar(s, d) for s in ("AAA", "BBB") for d in days], now=now)
        report = build_quality_report(lake, batch_ids=[bid], now=now)
    total = by_symbol(report)["*"]
    assert report.details(total)["closures"] == [DAYS[4].isoformat()]
    assert (total["gaps"], total["status"]) == (0, "warning")
    assert {r["status"] for r in report.symbols.iter_rows(named=True)} == {"ok"}


def test_freshness_now_judges_every_source_and_dataset_with_curated_data(lake: Lakehouse) -> None:
    friday_close = dt.datetime(2024, 4, 12, 19, 59, tzinfo=dt.UTC)  # the last regular minute
    bars = [
        {"symbol": symbol, "ts": friday_close, "asset_class": asset, "session": friday_close.date(),
         "open": 1.0, "high": 1.0, "low": 1.0, "close": 1.0, "volume": 1.0}
        for symbol, asset in (("SPY", "us_equity"), ("BTC/USD", "crypto"))
    ]  # fmt: skip
    _seed(lake, "minute_bars", "m1", bars, {}, now=friday_close)
    published = dt.datetime(2024, 4, 13, 10, tzinfo=dt.UTC)
    item = {"publisher": "cnbc", "published_at": published, "headline": "h", "content_id": "c1"}
    _seed(lake, "news", "w1", [item], {}, now=published)
    sunday = dt.datetime(2024, 4, 14, 12, tzinfo=dt.UTC)
    found = current_freshness(lake, now=sunday, rules=FreshnessRules())
    assert [(f.source, f.dataset) for f in found] == [("src", "minute_bars"), ("src", "news")]
    minutes, news = found
    verdicts = {s.subject: s.verdict for s in minutes.subjects}
    assert verdicts == {"SPY": "fresh", "BTC/USD": "stale"}  # crypto trades over the weekend
    assert (minutes.summary.verdict, minutes.summary.stale) == ("stale", ("BTC/USD",))
    assert (news.summary.verdict, news.summary.age) == ("fresh", sunday - published)
