"""The file-based Great Expectations context of a data folder, with its one Data Docs site.

Every quantlake suite (daily, minute, macro, news) stores its results in this context and shows
them in the same site. GX is imported inside the functions: ``import great_expectations`` takes
seconds.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from great_expectations.data_context import AbstractDataContext, FileDataContext

SITE = "quantlake"
DEFAULT_DOCS_DIR = "data_docs"  # under the context directory, until build_data_docs names one
# For suites GX runs on the rows themselves (macro, news): SUMMARY keeps the stored results
# small whatever the batch size, and the full list of failing rows comes from polars masks.
RESULT_FORMAT: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": 20}


def _quiet(context: AbstractDataContext) -> None:
    """Turn off tqdm progress bars (they go to stderr of every flow run)."""
    from great_expectations.data_context.types.base import ProgressBarsConfig

    current = context.variables.progress_bars
    if current is None or current.get("globally", True):
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        context.variables.save()


INDEX_RESULTS = 500


def _site_config(docs_dir: Path) -> dict[str, Any]:
    return {
        "class_name": "SiteBuilder",
        # The index lists the newest validation results only: GX loads each listed result on
        # every rebuild, and minute ingest adds one every few minutes.
        "site_index_builder": {
            "class_name": "DefaultSiteIndexBuilder",
            "validation_results_limit": INDEX_RESULTS,
        },
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str(docs_dir.resolve()),
        },
    }


def _configure_site(context: AbstractDataContext, docs_dir: Path | None, default: Path) -> None:
    """Make SITE the one Data Docs site; keep its folder unless ``docs_dir`` names another."""
    sites = context.list_data_docs_sites()
    for name in [n for n in sites if n != SITE]:
        context.delete_data_docs_site(name)
    if SITE not in sites:
        context.add_data_docs_site(SITE, _site_config(docs_dir or default))
    elif docs_dir is not None and sites[SITE] != _site_config(docs_dir):
        context.update_data_docs_site(SITE, _site_config(docs_dir))


def file_context(context_dir: Path, *, docs_dir: Path | None = None) -> FileDataContext:
    """Open (or create) the file-based context under ``context_dir`` with its Data Docs site."""
    import great_expectations as gx

    context = gx.get_context(mode="file", project_root_dir=context_dir)
    _quiet(context)
    _configure_site(context, docs_dir, context_dir / DEFAULT_DOCS_DIR)
    return context
