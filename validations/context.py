"""Great Expectations contexts for the daily-bars suite: ephemeral, or file-based with Data Docs.

Everything is created add-or-update by fixed names, so running again (in this or another
process) reuses the same datasource, suite, validation definition and checkpoint.
GX is imported inside the functions: ``import great_expectations`` takes seconds.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from validations.bars import SUITE, build_suite

if TYPE_CHECKING:
    import pandas as pd
    from great_expectations.core import ExpectationSuiteValidationResult
    from great_expectations.data_context import AbstractDataContext, FileDataContext

SITE = "quantlake"
DEFAULT_DOCS_DIR = "data_docs"  # under the context directory, until build_data_docs names one
_DATASOURCE = "quantlake_pandas"
_ASSET = "bars"
_BATCH_DEFINITION = "whole_frame"
# SUMMARY keeps the stored results small whatever the batch size; validate.py lists every
# failing row with polars and checks it against GX's count and sample (see unexpected.py).
RESULT_FORMAT: dict[str, Any] = {"result_format": "SUMMARY", "partial_unexpected_count": 20}


def _quiet(context: AbstractDataContext) -> None:
    """Turn off tqdm progress bars (they go to stderr of every flow run)."""
    from great_expectations.data_context.types.base import ProgressBarsConfig

    current = context.variables.progress_bars
    if current is None or current.get("globally", True):
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        context.variables.save()


def _site_config(docs_dir: Path) -> dict[str, Any]:
    return {
        "class_name": "SiteBuilder",
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
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


def _validation_definition(context: AbstractDataContext) -> Any:
    import great_expectations as gx

    try:
        source = context.data_sources.get(_DATASOURCE)
    except KeyError:
        source = context.data_sources.add_pandas(_DATASOURCE)
    try:
        asset = source.get_asset(_ASSET)
    except LookupError:
        asset = source.add_dataframe_asset(_ASSET)
    try:
        batch = asset.get_batch_definition(_BATCH_DEFINITION)
    except KeyError:
        batch = asset.add_batch_definition_whole_dataframe(_BATCH_DEFINITION)
    suite = context.suites.add_or_update(build_suite())
    return context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=SUITE, data=batch, suite=suite)
    )


def run_suite(
    frame: pd.DataFrame, parameters: dict[str, Any], *, context_dir: Path | None, batch_id: str
) -> tuple[ExpectationSuiteValidationResult, str | None]:
    """Validate ``frame`` with the suite; return GX's result and, with a context_dir, its page.

    Without ``context_dir`` the run happens in a fresh ephemeral context (nothing persisted).
    With it, a checkpoint stores the result and updates the Data Docs site.
    """
    import great_expectations as gx
    from great_expectations.checkpoint import UpdateDataDocsAction
    from great_expectations.core.run_identifier import RunIdentifier

    run_id = RunIdentifier(run_name=batch_id)
    batch = {"dataframe": frame}
    if context_dir is None:
        context = gx.get_context(mode="ephemeral")
        _quiet(context)
        definition = _validation_definition(context)
        result = definition.run(
            batch_parameters=batch,
            expectation_parameters=parameters,
            result_format=RESULT_FORMAT,
            run_id=run_id,
        )
        return result, None
    context = file_context(context_dir)
    checkpoint = context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=SUITE,
            validation_definitions=[_validation_definition(context)],
            actions=[UpdateDataDocsAction(name="update_data_docs", site_names=[SITE])],
            result_format=RESULT_FORMAT,
        )
    )
    outcome = checkpoint.run(
        batch_parameters=batch, expectation_parameters=parameters, run_id=run_id
    )
    ((key, result),) = outcome.run_results.items()
    (url,) = context.get_docs_sites_urls(resource_identifier=key, site_name=SITE)
    return result, _file_url_path(url["site_url"])


def _file_url_path(url: str | None) -> str:
    if url is None or not url.startswith("file://"):
        raise RuntimeError(f"Data Docs site {SITE!r} gave {url!r}, expected a file:// URL")
    return unquote(urlparse(url).path)
