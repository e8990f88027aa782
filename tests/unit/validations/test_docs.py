"""Validation results persisted in a file-based GX context and shown in its Data Docs site."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.validations.test_validate import ROWS, TODAY, raw_frame
from validations.docs import build_data_docs
from validations.validate import validate_bars


def test_results_persist_and_show_in_data_docs(tmp_path: Path) -> None:
    context_dir = tmp_path / "ctx"
    first = validate_bars(raw_frame(ROWS), today=TODAY, context_dir=context_dir, batch_id="alpha-1")
    second = validate_bars(
        raw_frame(ROWS[:2]), today=TODAY, context_dir=context_dir, batch_id="beta-2"
    )
    for outcome in (first, second):
        assert outcome.docs_path is not None and Path(outcome.docs_path).is_file()
    assert "/beta-2/" in second.docs_path

    docs_dir = tmp_path / "docs"
    index = build_data_docs(context_dir, docs_dir)
    assert index == docs_dir / "index.html"
    html = index.read_text()
    assert "daily_bars" in html and "alpha-1" in html and "beta-2" in html

    # The site now lives in docs_dir: later batches write their pages there.
    third = validate_bars(raw_frame(ROWS[:3]), today=TODAY, context_dir=context_dir, batch_id="c-3")
    assert third.docs_path is not None and Path(third.docs_path).is_relative_to(docs_dir)
    assert "low_le_open" in (docs_dir / "expectations" / "daily_bars.html").read_text()


def test_rerunning_reuses_the_same_gx_objects(tmp_path: Path) -> None:
    for batch_id in ("one", "two"):
        outcome = validate_bars(
            raw_frame(ROWS[:2]), today=TODAY, context_dir=tmp_path, batch_id=batch_id
        )
        assert outcome.status == "passed"
    gx_dir = tmp_path / "gx"
    assert [p.name for p in (gx_dir / "expectations").glob("*.json")] == ["daily_bars.json"]
    assert len(list((gx_dir / "checkpoints").glob("*.json"))) == 1
    assert len(list((gx_dir / "validation_definitions").glob("*.json"))) == 1
    assert len(list((gx_dir / "uncommitted" / "validations").rglob("*.json"))) == 2


def test_docs_build_on_a_new_context_shows_the_suite(tmp_path: Path) -> None:
    index = build_data_docs(tmp_path / "ctx", tmp_path / "site")
    assert "daily_bars" in index.read_text()


def test_the_site_shows_every_suite_and_each_published_batch(tmp_path: Path) -> None:
    from tests.unit.validations.test_macro_validate import JUN, row
    from tests.unit.validations.test_macro_validate import TODAY as MACRO_TODAY
    from validations.docs import publish_suite_docs
    from validations.macro import SUITE, validate_macro
    from warehouse.schemas import RAW_MACRO

    context_dir, docs_dir = tmp_path / "ctx", tmp_path / "site"
    index = build_data_docs(context_dir, docs_dir)
    html = index.read_text()
    for suite in ("daily_bars", "minute_bars", "macro_series", "news_items"):
        assert suite in html
        assert (docs_dir / "expectations" / f"{suite}.html").is_file()

    rows = RAW_MACRO.frame([row(1, "CPI", JUN, "313.2")])
    passed = validate_macro(rows, today=MACRO_TODAY, context_dir=context_dir, batch_id="macro-7")
    assert passed.status == "passed"
    validate_bars(raw_frame(ROWS[:2]), today=TODAY, context_dir=context_dir, batch_id="bars-8")
    page = Path(publish_suite_docs(context_dir, suite=SUITE, batch_id="macro-7"))
    assert page.is_file() and page.is_relative_to(docs_dir) and "macro-7" in str(page)
    html = index.read_text()
    assert "macro-7" in html and "bars-8" in html  # the index lists every suite's runs
    with pytest.raises(LookupError, match="no stored macro_series result for batch nope"):
        publish_suite_docs(context_dir, suite=SUITE, batch_id="nope")
