"""A data contract as the macro and news suites declare it, and running its GX suite.

A Contract is a suite name, the column types it checks and its row rules (the same
:class:`validations.rules.Rule` as the daily-bars suite); the batch rules (columns present,
their types, a unique row_number) are built from the types. Nothing here is macro- or
news-specific; the daily-bars suite keeps its own modules (bars.py, context.py).
GX is imported inside the functions: ``import great_expectations`` takes seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from validations.context import RESULT_FORMAT, SITE, file_context
from validations.rules import Check, Rule

if TYPE_CHECKING:
    import pandas as pd
    from great_expectations import ExpectationSuite
    from great_expectations.core import ExpectationSuiteValidationResult
    from great_expectations.data_context import AbstractDataContext

_DATASOURCE = "quantlake_pandas"
_BATCH_DEFINITION = "whole_frame"
# The pandas dtype GX sees for each polars type (see macro_news_validate.to_pandas).
PANDAS_TYPES: dict[type[pl.DataType], str] = {
    pl.String: "str",
    pl.Date: "datetime64[ns]",
    pl.Datetime: "datetime64[ns]",
    pl.Float64: "float64",
    pl.Int64: "int64",
    pl.Int32: "int32",
}


@dataclass(frozen=True)
class Contract:
    """A suite: the columns it checks (polars types) and its row rules."""

    suite: str
    description: str
    columns: Mapping[str, pl.DataType]
    row_rules: tuple[Rule, ...]

    @property
    def rules(self) -> tuple[Rule, ...]:
        """Return the batch rules, then the row rules."""
        return batch_rules(self.columns) + self.row_rules

    def rule(self, name: str) -> Rule:
        """Return the rule called ``name``."""
        found = [r for r in self.rules if r.name == name]
        if not found:
            raise KeyError(f"suite {self.suite} has no rule {name!r}")
        return found[0]


def pandas_type(dtype: pl.DataType) -> str:
    """Return the pandas dtype name GX reports for a column of polars type ``dtype``."""
    return PANDAS_TYPES[type(dtype)]


def batch_rules(columns: Mapping[str, pl.DataType]) -> tuple[Rule, ...]:
    """Return the rules that reject a whole batch: columns, types, unique row_number."""
    types = {"row_number": "int64", **{c: pandas_type(t) for c, t in columns.items()}}
    return (
        Rule(
            "columns_present",
            "error",
            "batch",
            "the contract's columns are present",
            (
                Check(
                    "ExpectTableColumnsToMatchSet",
                    {"column_set": list(types), "exact_match": False},
                ),
            ),
        ),
        Rule(
            "column_types",
            "error",
            "batch",
            "the contract's columns have their declared types",
            tuple(
                Check("ExpectColumnValuesToBeInTypeList", {"column": c, "type_list": [t]})
                for c, t in types.items()
            ),
        ),
        Rule(
            "row_number_unique",
            "error",
            "batch",
            "row_number identifies a row of the batch",
            (Check("ExpectColumnValuesToBeUnique", {"column": "row_number"}),),
        ),
    )


def build_suite(contract: Contract) -> ExpectationSuite:
    """Return the GX suite; each expectation's meta names its rule, check and severity."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    suite = gx.ExpectationSuite(name=contract.suite, meta={"notes": contract.description})
    for rule in contract.rules:
        for i, check in enumerate(rule.checks):
            meta = {"rule": rule.name, "check": i, "severity": rule.severity, "scope": rule.scope}
            expectation = getattr(gxe, check.expectation)(
                **check.kwargs,
                meta=meta,
                description=f"{rule.name} ({rule.severity}): {rule.description}",
            )
            suite.add_expectation(expectation)
    return suite


def _definition(context: AbstractDataContext, contract: Contract) -> Any:
    import great_expectations as gx

    try:
        source = context.data_sources.get(_DATASOURCE)
    except KeyError:
        source = context.data_sources.add_pandas(_DATASOURCE)
    try:
        asset = source.get_asset(contract.suite)
    except LookupError:
        asset = source.add_dataframe_asset(contract.suite)
    try:
        batch = asset.get_batch_definition(_BATCH_DEFINITION)
    except KeyError:
        batch = asset.add_batch_definition_whole_dataframe(_BATCH_DEFINITION)
    suite = context.suites.add_or_update(build_suite(contract))
    return context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=contract.suite, data=batch, suite=suite)
    )


def run_suite(
    contract: Contract, frame: pd.DataFrame, *, context_dir: Path | None, batch_id: str
) -> tuple[ExpectationSuiteValidationResult, str | None]:
    """Validate ``frame``; return GX's result and, with a ``context_dir``, its Data Docs page.

    Without ``context_dir`` GX runs in a fresh ephemeral context (nothing persisted); with it,
    a checkpoint named after the suite stores the result and updates the Data Docs site.
    """
    import great_expectations as gx
    from great_expectations.checkpoint import UpdateDataDocsAction
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import ProgressBarsConfig

    run_id = RunIdentifier(run_name=batch_id)
    batch = {"dataframe": frame}
    if context_dir is None:
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        definition = _definition(context, contract)
        result = definition.run(batch_parameters=batch, result_format=RESULT_FORMAT, run_id=run_id)
        return result, None
    context = file_context(context_dir)
    checkpoint = context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=contract.suite,
            validation_definitions=[_definition(context, contract)],
            actions=[UpdateDataDocsAction(name="update_data_docs", site_names=[SITE])],
            result_format=RESULT_FORMAT,
        )
    )
    outcome = checkpoint.run(batch_parameters=batch, run_id=run_id)
    ((key, result),) = outcome.run_results.items()
    (url,) = context.get_docs_sites_urls(resource_identifier=key, site_name=SITE)
    site_url = url["site_url"]
    if site_url is None or not site_url.startswith("file://"):
        raise RuntimeError(f"Data Docs site {SITE!r} gave {site_url!r}, expected a file:// URL")
    from urllib.parse import unquote, urlparse

    return result, unquote(urlparse(site_url).path)
