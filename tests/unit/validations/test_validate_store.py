"""The daily suite in a file context: stored once, results per batch, Data Docs when asked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.validations.test_validate import ROWS, TODAY, raw_frame
from validations.bars import RULES, SUITE, build_suite
from validations.context import file_context
from validations.docs import publish_bar_docs
from validations.validate import ValidationMismatch, validate_bars


def _suite_file(context_dir: Path) -> Path:
    return context_dir / "gx" / "expectations" / f"{SUITE}.json"


def test_docs_can_wait_until_after_the_commit(tmp_path: Path) -> None:
    outcome = validate_bars(
        raw_frame(ROWS), today=TODAY, context_dir=tmp_path, batch_id="late-1", render_docs=False
    )
    assert outcome.docs_path is None
    site = tmp_path / "data_docs"  # the context's default site folder
    assert not list(site.rglob("*late-1*"))
    page = Path(publish_bar_docs(tmp_path, batch_id="late-1"))
    assert page.is_file() and page.is_relative_to(site) and "late-1" in page.parts
    html = page.read_text()
    assert "low_le_open" in html and "unique_symbol_session" in html
    with pytest.raises(LookupError, match="no stored daily_bars result for batch never"):
        publish_bar_docs(tmp_path, batch_id="never")


def test_the_suite_is_one_expectation_per_rule_and_is_not_rewritten(tmp_path: Path) -> None:
    validate_bars(raw_frame(ROWS[:2]), today=TODAY, context_dir=tmp_path, batch_id="one")
    stored = json.loads(_suite_file(tmp_path).read_text())
    assert [e["meta"]["rule"] for e in stored["expectations"]] == [r.name for r in RULES]
    before = _suite_file(tmp_path).stat().st_mtime_ns
    validate_bars(raw_frame(ROWS[:2]), today=TODAY, context_dir=tmp_path, batch_id="two")
    assert _suite_file(tmp_path).stat().st_mtime_ns == before
    results = tmp_path / "gx" / "uncommitted" / "validations"
    assert len(list(results.rglob("*.json"))) == 2


def test_a_stale_stored_suite_is_replaced(tmp_path: Path) -> None:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    context = file_context(tmp_path)
    old = gxe.ExpectColumnValuesToNotBeNull(column="symbol", meta={"rule": "keys_not_null"})
    context.suites.add(gx.ExpectationSuite(name=SUITE, expectations=[old]))
    outcome = validate_bars(raw_frame(ROWS), today=TODAY, context_dir=tmp_path, batch_id="b")
    assert {r.rule for r in outcome.rules if not r.success} >= {"low_le_open", "trading_session"}
    stored = json.loads(_suite_file(tmp_path).read_text())
    assert len(stored["expectations"]) == len(RULES)


def test_a_suite_that_disagrees_with_the_counts_is_an_error(tmp_path: Path) -> None:
    # Same fingerprint, different content: someone edited the stored suite by hand.
    context = file_context(tmp_path)
    suite = build_suite()
    for expectation in suite.expectations:
        expectation.max_value = 100
    context.suites.add(suite)
    with pytest.raises(ValidationMismatch, match="rule keys_not_null: GX says success=True"):
        validate_bars(raw_frame(ROWS), today=TODAY, context_dir=tmp_path, batch_id="b")
