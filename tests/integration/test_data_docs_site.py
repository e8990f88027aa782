"""After a macro and a news ingest, the Data Docs site lists both suites' runs, and the runs'
quality reports judge each source's freshness (read from the generated files and the lakehouse).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.ingest.macro import ingest_macro_flow
from flows.ingest.news import ingest_news_flow
from quantlake import runtime
from quantlake.cli_quality import app
from quantlake.settings import load_settings
from warehouse import schemas
from warehouse.lake import Lakehouse

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 1, 5, 12, tzinfo=dt.UTC)
SERIES = {
    # Daily, one day's lag: 01-01 and 01-02 are out but within the 3-day grace.
    "DGS2": "date,value\n2025-12-29,3.45\n2025-12-30,3.47\n2025-12-31,3.48\n",
    # Monthly, 15 days' lag: November was out 12-15, December is due 01-15.
    "CPIAUCSL": "date,value\n2025-09-01,324.368\n2025-10-01,\n2025-11-01,325.0\n",
    # Monthly, 7 days' lag: July on was out long ago.
    "UNRATE": "date,value\n2025-05-01,4.2\n2025-06-01,4.1\n",
}
NEWS = (
    "headline,published_at\n"
    "Acme beats estimates,2026-01-04T10:00:00Z\n"
    "Acme hires,2026-01-04T11:00:00Z\n"
)


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefect_server: None) -> Path:
    """A data folder with three FRED files and a news file configured."""
    macro = tmp_path / "fred"
    macro.mkdir()
    for name, text in SERIES.items():
        (macro / f"{name}.csv").write_text(text)
    news = tmp_path / "wire_news.csv"
    news.write_text(NEWS)
    monkeypatch.setenv("QUANTLAKE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("QUANTLAKE_MACRO__DIRECTORY", str(macro))
    monkeypatch.setenv("QUANTLAKE_NEWS__FILES", json.dumps([str(news)]))
    runtime.prepare(load_settings())
    return tmp_path / "data"


def test_data_docs_list_both_suites_and_reports_judge_freshness(data: Path) -> None:
    macro = ingest_macro_flow(now=NOW, report_to_dagster=False)
    news = ingest_news_flow(now=NOW, report_to_dagster=False)
    assert (macro.validation, news.validation) == ("passed", "passed")

    docs = load_settings().docs_dir
    index = (docs / "index.html").read_text()
    for text in ("macro_series", "news_items", macro.batch_id, news.batch_id):
        assert text in index
    for summary, suite in ((macro, "macro_series"), (news, "news_items")):
        page = Path(summary.docs_path)
        assert page.is_file() and page.is_relative_to(docs)
        assert summary.batch_id in str(page)
        assert (docs / "expectations" / f"{suite}.html").is_file()

    with Lakehouse(data / "lake") as lake:
        rows = lake.read(schemas.QUALITY_REPORTS)
    verdicts = {
        (r["dataset"], r["symbol"]): json.loads(r["details"])["freshness"]
        for r in rows.iter_rows(named=True)
    }
    assert verdicts[("macro", "DGS2")]["verdict"] == "fresh"
    assert verdicts[("macro", "DGS2")]["behind"] == 2
    assert verdicts[("macro", "CPIAUCSL")]["verdict"] == "fresh"
    assert verdicts[("macro", "UNRATE")]["verdict"] == "stale"
    assert verdicts[("macro", "*")]["stale"] == ["UNRATE"]
    assert verdicts[("news", "*")]["verdict"] == "fresh"
    page = Path(macro.quality_report).read_text()
    assert "Freshness at 2026-01-05 12:00 UTC" in page and "UNRATE" in page

    out = CliRunner().invoke(
        app, ["--freshness", "--now", "2026-01-05T12:00:00"], env={"COLUMNS": "200"}
    )
    assert out.exit_code == 0, out.output
    assert "fred / macro" in out.output and "1 of 3 subjects not fresh: UNRATE" in out.output
    assert "news / news" in out.output
