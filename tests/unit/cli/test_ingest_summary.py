"""The daily ingest summary as a person reads it: every row received is accounted for."""

from __future__ import annotations

from rich.console import Console

from flows.ingest.daily_summary import IngestSummary
from quantlake.report import ingest_table


def _render(summary: IngestSummary, width: int) -> str:
    console = Console(record=True, width=width, color_system=None)
    console.print(ingest_table(summary))
    return console.export_text()


def test_received_rows_split_into_passed_quarantined_and_skipped() -> None:
    summary = IngestSummary(
        source="file",
        status="loaded",
        batch_id="b1",
        validation="passed",
        rows_received=10,
        rows_in=8,
        rows_passed=5,
        rows_quarantined=3,
        rows_skipped=2,
        quarantined_by_rule={"values_finite": 1, "symbol_pattern": 1, "[/x]": 1},
        skipped_by_reason={"undated": 2},
        warnings={"volume_positive": 4, "stale_run": 0},
    )
    for width in (80, 160):
        text = _render(summary, width)
        assert "rows received" in text and "10" in text
        assert "5 passed to curated" in text
        assert "3 rows (1 values_finite, 1 symbol_pattern, 1 [/x])" in text
        assert "2 rows (2 undated)" in text
        assert "4 rows: volume_positive" in text
        assert "stale_run" not in text  # a warning rule that flagged nothing is not news


def test_nothing_skipped_says_none() -> None:
    summary = IngestSummary(source="simulator", status="up_to_date")
    assert "0 rows (none)" in _render(summary, 80)
