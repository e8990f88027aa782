"""Run a profile suite in Great Expectations: ephemeral, or stored with its Data Docs pages.

In a data folder's file context the stored suite, validation definition and checkpoint are
reused while they match what the code declares (the suite carries a fingerprint of its
declaration, see validations/contract.py) and replaced otherwise, so a run stores nothing but
its result. Rendering Data Docs costs about as much as validating: it can wait until after the
lakehouse commit (:func:`publish_docs`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from validations.context import SITE, file_context

if TYPE_CHECKING:
    import pandas as pd
    from great_expectations import ExpectationSuite
    from great_expectations.core import ExpectationSuiteValidationResult
    from great_expectations.data_context import AbstractDataContext

# The profile has a row per symbol: COMPLETE costs nothing and lists the failing symbols.
PROFILE_RESULT_FORMAT: dict[str, Any] = {"result_format": "COMPLETE"}
_BATCH_DEFINITION = "whole_profile"


def _batch_definition(context: AbstractDataContext, datasource: str, asset: str) -> Any:
    try:
        source = context.data_sources.get(datasource)
    except KeyError:
        source = context.data_sources.add_pandas(datasource)
    try:
        found = source.get_asset(asset)
    except LookupError:
        found = source.add_dataframe_asset(asset)
    try:
        return found.get_batch_definition(_BATCH_DEFINITION)
    except KeyError:
        return found.add_batch_definition_whole_dataframe(_BATCH_DEFINITION)


def _stored_suite(context: AbstractDataContext, suite: ExpectationSuite) -> ExpectationSuite:
    """Return the stored suite when its fingerprint matches ``suite``'s; store ``suite`` if not."""
    from great_expectations.exceptions import DataContextError

    try:
        stored = context.suites.get(suite.name)
    except DataContextError:
        return context.suites.add(suite)
    if stored.meta.get("fingerprint") == suite.meta["fingerprint"]:
        return stored
    return context.suites.add_or_update(suite)


def _definition(context: AbstractDataContext, suite: ExpectationSuite, batch: Any) -> Any:
    """Return the validation definition of ``suite`` on ``batch``, stored under the suite's name."""
    import great_expectations as gx
    from great_expectations.exceptions import DataContextError

    try:
        stored = context.validation_definitions.get(suite.name)
    except DataContextError:
        stored = None
    if stored is not None and (stored.suite.id, stored.batch_definition.id) == (suite.id, batch.id):
        return stored
    return context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=suite.name, data=batch, suite=suite)
    )


def _checkpoint(context: AbstractDataContext, definition: Any) -> Any:
    """Return the checkpoint that runs ``definition`` with no actions (docs render apart)."""
    import great_expectations as gx
    from great_expectations.exceptions import DataContextError

    try:
        stored = context.checkpoints.get(definition.name)
    except DataContextError:
        stored = None
    if (
        stored is not None
        and [d.id for d in stored.validation_definitions] == [definition.id]
        and not stored.actions
        and stored.result_format == PROFILE_RESULT_FORMAT
    ):
        return stored
    return context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=definition.name,
            validation_definitions=[definition],
            actions=[],
            result_format=PROFILE_RESULT_FORMAT,
        )
    )


def run_profile_suite(
    profile: pd.DataFrame,
    suite: ExpectationSuite,
    *,
    datasource: str,
    asset: str,
    context_dir: Path | None,
    batch_id: str,
    render_docs: bool = False,
) -> tuple[ExpectationSuiteValidationResult, str | None]:
    """Validate ``profile``; return GX's result and, if rendered, the Data Docs page's path.

    With ``context_dir`` the result is stored in the file context there (run name batch_id)
    and, with ``render_docs``, its page rendered; without, GX runs ephemerally.
    """
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import ProgressBarsConfig

    run_id = RunIdentifier(run_name=batch_id)
    batch = {"dataframe": profile}
    if context_dir is None:
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        batch_definition = _batch_definition(context, datasource, asset)
        definition = _definition(context, context.suites.add(suite), batch_definition)
        result = definition.run(
            batch_parameters=batch, result_format=PROFILE_RESULT_FORMAT, run_id=run_id
        )
        return result, None
    context = file_context(context_dir)
    stored = _stored_suite(context, suite)
    definition = _definition(context, stored, _batch_definition(context, datasource, asset))
    outcome = _checkpoint(context, definition).run(batch_parameters=batch, run_id=run_id)
    ((key, result),) = outcome.run_results.items()
    return result, (_render(context, key) if render_docs else None)


def publish_docs(context_dir: Path, *, suite: str, batch_id: str) -> str:
    """Render the Data Docs pages of ``suite``'s newest stored result for ``batch_id``."""
    context = file_context(context_dir)
    keys = [
        key
        for key in context.validation_results_store.list_keys()
        if key.run_id.run_name == batch_id and key.expectation_suite_identifier.name == suite
    ]
    if not keys:
        raise LookupError(
            f"no stored {suite} result for batch {batch_id} in {context_dir}: validate it with "
            "a context_dir first"
        )
    return _render(context, max(keys, key=lambda k: str(k.run_id.run_time)))


def _render(context: AbstractDataContext, key: Any) -> str:
    """Render the result ``key``'s page, its suite's page and the index; return the page path."""
    context.build_data_docs(
        site_names=[SITE], resource_identifiers=[key, key.expectation_suite_identifier]
    )
    (url,) = context.get_docs_sites_urls(resource_identifier=key, site_name=SITE)
    site_url = url["site_url"]
    if site_url is None or not site_url.startswith("file://"):
        raise RuntimeError(f"Data Docs site {SITE!r} gave {site_url!r}, expected a file:// URL")
    return unquote(urlparse(site_url).path)
