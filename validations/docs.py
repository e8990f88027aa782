"""Build the Great Expectations Data Docs site: the suite and every stored batch result."""

from __future__ import annotations

from pathlib import Path

from validations.bars import build_suite
from validations.context import SITE, file_context


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
