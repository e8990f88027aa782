"""Run the minute-bars suite in Great Expectations: ephemeral, or stored with Data Docs.

Uses the same file context and Data Docs site as the daily suite (validations/context.py), with
its own datasource asset, validation definition and checkpoint, all add-or-update by name.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from validations.context import SITE, file_context
from validations.minute_bars import SUITE, build_suite

if TYPE_CHECKING:
    import pandas as pd
    from great_expectations.core import ExpectationSuiteValidationResult
    from great_expectations.data_context import AbstractDataContext

_DATASOURCE = "quantlake_minute_pandas"
_ASSET = "minute_bar_profiles"
_BATCH_DEFINITION = "whole_profile"
# The profile has a row per symbol: COMPLETE costs nothing and lists the failing symbols.
RESULT_FORMAT: dict[str, Any] = {"result_format": "COMPLETE"}


def _definition(context: AbstractDataContext) -> Any:
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


def _ephemeral() -> AbstractDataContext:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def run_minute_suite(
    profile: pd.DataFrame, *, context_dir: Path | None, batch_id: str
) -> ExpectationSuiteValidationResult:
    """Validate a batch profile; with a context_dir, store the result there (run name batch_id).

    Data Docs are rendered separately (:func:`publish_minute_docs`): rendering costs about as
    much as validating, and is presentation, not part of the batch's verdict.
    """
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier

    run_id = RunIdentifier(run_name=batch_id)
    batch = {"dataframe": profile}
    if context_dir is None:
        definition = _definition(_ephemeral())
        return definition.run(batch_parameters=batch, result_format=RESULT_FORMAT, run_id=run_id)
    context = file_context(context_dir)
    checkpoint = context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=SUITE,
            validation_definitions=[_definition(context)],
            actions=[],
            result_format=RESULT_FORMAT,
        )
    )
    outcome = checkpoint.run(batch_parameters=batch, run_id=run_id)
    ((_, result),) = outcome.run_results.items()
    return result


def publish_minute_docs(context_dir: Path, *, batch_id: str) -> str:
    """Render the Data Docs page of the stored minute-bars result of ``batch_id``; return it."""
    context = file_context(context_dir)
    keys = [
        key
        for key in context.validation_results_store.list_keys()
        if key.run_id.run_name == batch_id and key.expectation_suite_identifier.name == SUITE
    ]
    if not keys:
        raise LookupError(
            f"no stored {SUITE} result for batch {batch_id} in {context_dir}: validate it with "
            "a context_dir first"
        )
    key = max(keys, key=lambda k: str(k.run_id.run_time))
    context.build_data_docs(site_names=[SITE], resource_identifiers=[key])
    (url,) = context.get_docs_sites_urls(resource_identifier=key, site_name=SITE)
    site_url = url["site_url"]
    if site_url is None or not site_url.startswith("file://"):
        raise RuntimeError(f"Data Docs site {SITE!r} gave {site_url!r}, expected a file:// URL")
    return unquote(urlparse(site_url).path)
