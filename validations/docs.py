"""The Data Docs site of every quantlake suite: one batch's page, or the whole site.

The daily-bars, minute-bars, macro and news suites store their results in one file context and
show them in its one site (validations/context.py). Rendering a batch's page rebuilds the site
index too, so after any run the index lists the latest runs of every suite.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from validations.bars import SUITE, build_suite
from validations.context import SITE, file_context
from validations.contract_run import publish_docs

if TYPE_CHECKING:
    from great_expectations import ExpectationSuite


def publish_bar_docs(context_dir: Path, *, batch_id: str) -> str:
    """Render the page of the stored daily-bars result of ``batch_id``; return its path.

    Also renders the suite's page and the site index. ``validate_bars`` calls it unless told
    not to (``render_docs=False``), in which case the ingest flow calls it after the commit.
    """
    return publish_docs(context_dir, suite=SUITE, batch_id=batch_id)


def publish_suite_docs(context_dir: Path, *, suite: str, batch_id: str) -> str:
    """Render the page of ``suite``'s stored result of ``batch_id``, the suite's page and the
    site index (every suite's runs); return the page's path. Raises LookupError when the
    context holds no such result (validate with a ``context_dir`` first)."""
    return publish_docs(context_dir, suite=suite, batch_id=batch_id)


def build_data_docs(context_dir: Path, docs_dir: Path) -> Path:
    """Point the context's Data Docs site at ``docs_dir``, rebuild it and return its index.html.

    Every suite's page is in it, also before any batch ran; later validations with the same
    ``context_dir`` keep writing their pages into ``docs_dir``.
    """
    context = file_context(context_dir, docs_dir=docs_dir)
    for suite in all_suites():
        context.suites.add_or_update(suite)
    context.build_data_docs(site_names=[SITE])
    index = docs_dir / "index.html"
    if not index.is_file():
        raise RuntimeError(f"GX built the Data Docs site {SITE!r} but {index} is missing")
    return index


def all_suites() -> list[ExpectationSuite]:
    """Return the declared suite of every dataset: daily bars, minute bars, macro, news."""
    # Imported here: validations.macro and .news import validations.validate, which imports
    # this module.
    from validations import macro, minute_bars, news
    from validations.macro_news_contract import build_suite as contract_suite

    return [
        build_suite(),
        minute_bars.build_suite(),
        contract_suite(macro.CONTRACT),
        contract_suite(news.CONTRACT),
    ]
