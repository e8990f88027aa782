"""Data Docs of the daily-bars suite: one batch's page, or the whole site."""

from __future__ import annotations

from pathlib import Path

from validations.bars import SUITE, build_suite
from validations.context import SITE, file_context
from validations.contract_run import publish_docs


def publish_bar_docs(context_dir: Path, *, batch_id: str) -> str:
    """Render the page of the stored daily-bars result of ``batch_id``; return its path.

    Also renders the suite's page and the site index. ``validate_bars`` calls it unless told
    not to (``render_docs=False``), in which case the ingest flow calls it after the commit.
    """
    return publish_docs(context_dir, suite=SUITE, batch_id=batch_id)


def build_data_docs(context_dir: Path, docs_dir: Path) -> Path:
    """Point the context's Data Docs site at ``docs_dir``, rebuild it and return its index.html.

    Later validations with the same ``context_dir`` keep writing their pages into ``docs_dir``.
    """
    context = file_context(context_dir, docs_dir=docs_dir)
    context.suites.add_or_update(build_suite())  # so the contract shows before any batch ran
    context.build_data_docs(site_names=[SITE])
    index = docs_dir / "index.html"
    if not index.is_file():
        raise RuntimeError(f"GX built the Data Docs site {SITE!r} but {index} is missing")
    return index
