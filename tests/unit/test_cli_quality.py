"""`quantlake quality` through typer's CliRunner on a lakehouse holding two stored reports."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.quality.report import QualityReport, report_path, write_quality_report
from quantlake.cli_quality import app
from warehouse import schemas
from warehouse.lake import Lakehouse

runner = CliRunner()
OLD = dt.datetime(2024, 4, 9, 22, tzinfo=dt.UTC)
NEW = dt.datetime(2024, 4, 10, 22, tzinfo=dt.UTC)


def row(source: str, dataset: str, symbol: str, status: str, **kw: object) -> dict[str, object]:
    counts = {"rows_in": 10, "rows_passed": 10, "rows_quarantined": 0, "conflicts": 0}
    return {
        "source": source,
        "dataset": dataset,
        "symbol": symbol,
        "status": status,
        "quarantined_by_rule": "{}",
        "details": "{}",
        "gaps": 0,
        "splits_found": 0,
        "last_session": dt.date(2024, 4, 10),
        "sessions_behind": 0,
        **counts,
        **kw,
    }


STALE = {
    "verdict": "stale",
    "reason": "1 of 4 subjects not fresh: BBB",
    "latest": "2024-04-10",
    "latest_knowledge": "2024-04-10 22:00 UTC",
    "expected": "2024-04-10",
    "behind": 3,
    "unit": "sessions",
    "age_seconds": 3600,
    "stale": ["BBB"],
    "subjects": 4,
}


def report(run_id: str, at: dt.datetime) -> QualityReport:
    split = {"session": "2024-02-14", "label": "2:1", "ratio": 2.0, "evidence": "close 100 -> 50"}
    fresh = {"freshness": {**STALE, "stale": [], "verdict": "fresh", "reason": "all fresh"}}
    rows = [
        row(
            "file",
            "daily_bars",
            "*",
            "warning",
            gaps=2,
            splits_found=1,
            rows_quarantined=1,
            details=json.dumps({"freshness": STALE}),
        ),  # fmt: skip
        row(
            "file",
            "daily_bars",
            "AAA",
            "warning",
            splits_found=1,
            details=json.dumps({"splits": [split]}),
        ),  # fmt: skip
        row(
            "file",
            "daily_bars",
            "BBB",
            "warning",
            gaps=2,
            rows_quarantined=1,
            quarantined_by_rule='{"prices_not_null": 1}',
            details=json.dumps({"freshness": {**STALE, "reason": "3 sessions behind"}}),
        ),  # fmt: skip
        row("file", "daily_bars", "DDD", "ok"),
        row("file", "daily_bars", "[/odd]", "warning", conflicts=1),  # not rich markup
        row(
            "fred",
            "macro",
            "*",
            "ok",
            gaps=None,
            splits_found=None,
            sessions_behind=None,
            details=json.dumps(fresh),
        ),  # fmt: skip
        row("fred", "macro", "DGS10", "ok", gaps=None, splits_found=None, sessions_behind=None),
    ]
    stamped = [{**r, "run_id": run_id, "created_at": at, "batch_ids": "[]"} for r in rows]
    return QualityReport(run_id, at, schemas.QUALITY_REPORTS.frame(stamped))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    with Lakehouse(data / "lake") as lake:
        write_quality_report(lake, report("run-old", OLD), reports_dir=data / "reports")
        write_quality_report(lake, report("run-new", NEW), reports_dir=data / "reports")
    return data


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.output


def test_help_explains_the_command_and_its_options() -> None:
    code, out = invoke("--help")
    assert code == 0
    for text in ("--run", "--source", "--all-symbols", "--data-dir", "quality report"):
        assert text in out
    assert "--freshness" in out and "--now" in out


def test_the_latest_report_shows_sources_problems_first_and_the_html_path(data_dir: Path) -> None:
    code, out = invoke("--data-dir", str(data_dir))
    assert code == 0, out
    assert "run-new" in out and "run-old" not in out
    assert "file / daily_bars: warning" in out and "fred / macro: ok" in out
    assert "AAA" in out and "BBB" in out and "[/odd]" in out and "prices_not_null 1" in out
    assert "DDD" not in out and "DGS10" not in out
    assert out.count("1 symbol(s) without problems not shown") == 2  # DDD, DGS10
    assert "2:1" in out and "close 100 -> 50" in out
    # The per-source freshness block, as of the report's run.
    assert "Freshness at 2024-04-10 22:00 UTC (when the report was built)" in out
    assert "1 of 4 subjects not fresh: BBB" in out and "all fresh" in out
    assert "3 sessions behind" in out  # BBB's own verdict, in the symbols table
    html = report_path(data_dir / "reports", "run-new")
    assert html.is_file() and f"HTML report: {html}" in out


def test_all_symbols_and_one_source(data_dir: Path) -> None:
    code, out = invoke("--data-dir", str(data_dir), "--all-symbols", "--source", "file")
    assert code == 0, out
    assert "DDD" in out and "DGS10" not in out and "macro" not in out
    assert out.index("BBB") < out.index("DDD")  # problems first


def test_an_older_run_by_id(data_dir: Path) -> None:
    code, out = invoke("--data-dir", str(data_dir), "--run", "run-old")
    assert code == 0 and "run-old" in out


def test_unknown_run_or_source_says_what_exists(data_dir: Path) -> None:
    code, out = invoke("--data-dir", str(data_dir), "--run", "nope")
    assert code == 1
    assert "nope" in out and "Recent runs: run-new, run-old" in out
    code, out = invoke("--data-dir", str(data_dir), "--source", "alpaca")
    assert code == 1 and "file, fred" in out


def test_no_lakehouse_or_no_report_says_what_to_do(tmp_path: Path) -> None:
    code, out = invoke("--data-dir", str(tmp_path / "nothing"))
    assert code == 1 and "No lakehouse" in out and "quantlake ingest" in out
    assert not (tmp_path / "nothing").exists()  # looking does not create a lakehouse
    with Lakehouse(tmp_path / "empty" / "lake") as lake:
        lake.snapshots(limit=1)  # creates the catalog and every dataset
    code, out = invoke("--data-dir", str(tmp_path / "empty"))
    assert code == 1 and "no quality report" in out


def test_a_missing_html_page_is_said_not_hidden(data_dir: Path) -> None:
    report_path(data_dir / "reports", "run-new").unlink()
    code, out = invoke("--data-dir", str(data_dir))
    assert code == 0 and "not found" in out


def test_freshness_now_judges_every_source_without_a_report(tmp_path: Path) -> None:
    data = tmp_path / "data"
    known = dt.datetime(2024, 4, 10, 21, tzinfo=dt.UTC)
    bars = [
        {"symbol": s, "session": day, "source": "file", "knowledge_time": known}
        for s, day in (("AAA", dt.date(2024, 4, 10)), ("BBB", dt.date(2024, 4, 5)))
    ]
    item = {"content_id": "c1", "published_at": known, "source": "news", "knowledge_time": known}
    with Lakehouse(data / "lake") as lake, lake.transaction("seed") as txn:
        txn.append(schemas.CURATED_BARS, schemas.CURATED_BARS.frame(bars))
        txn.append(schemas.CURATED_NEWS, schemas.CURATED_NEWS.frame([item]))
    at = ("--data-dir", str(data), "--freshness", "--now", "2024-04-10T22:00:00")
    code, out = invoke(*at)
    assert code == 0, out
    assert "Freshness at 2024-04-10 22:00 UTC" in out
    assert "file / daily_bars" in out and "1 of 2 subjects not fresh: BBB" in out
    assert "3 sessions behind 2024-04-10" in out  # BBB: 04-08, 04-09 and 04-10 missing
    assert "news / news" in out and "newest item 1h 0m old" in out
    assert "AAA" not in out  # fresh symbols only with --all-symbols
    code, out = invoke(*at, "--all-symbols", "--source", "file")
    assert code == 0 and "AAA" in out and "up to date with 2024-04-10" in out
    assert "news / news" not in out


def test_now_without_freshness_is_refused(data_dir: Path) -> None:
    code, out = invoke("--data-dir", str(data_dir), "--now", "2024-04-10T22:00:00")
    assert code == 2 and "--now goes with --freshness" in out
