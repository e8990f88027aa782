"""Each rule check's polars mask counts what its GX expectation counts on the same rows.

The daily path evaluates the checks in polars and gives GX only their counts, so here GX runs
every check on the rows itself (ephemerally) as the oracle for validations/unexpected.py.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from tests.unit.validations.daily_cases import HAND_BUILT, REAL
from validations.bars import RULES
from validations.bars_profile import checked_frame
from validations.rules import Parameters
from validations.unexpected import unexpected

ROW_CHECKS = [(r.name, i, c) for r in RULES if r.scope == "row" for i, c in enumerate(r.checks)]


def _gx_counts(frame: pl.DataFrame, params: Parameters) -> dict[tuple[str, int], Any]:
    """Return GX's unexpected_count per (rule, check), GX running on the rows (as pandas)."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    data = frame.to_pandas()
    data["session"] = data["session"].astype("datetime64[ns]")
    data["symbol"] = data["symbol"].astype(object)
    context = gx.get_context(mode="ephemeral")
    suite = context.suites.add(
        gx.ExpectationSuite(
            name="checks",
            expectations=[
                getattr(gxe, c.expectation)(**c.kwargs, meta={"key": [name, i]})
                for name, i, c in ROW_CHECKS
            ],
        )
    )
    batch = context.data_sources.add_pandas("p").add_dataframe_asset("a")
    definition = gx.ValidationDefinition(
        name="checks", data=batch.add_batch_definition_whole_dataframe("w"), suite=suite
    )
    result = context.validation_definitions.add(definition).run(
        batch_parameters={"dataframe": data},
        expectation_parameters=params.for_gx(),
        result_format={"result_format": "SUMMARY"},
    )
    return {
        tuple(r.expectation_config.meta["key"]): r.result.get("unexpected_count")
        for r in result.results
    }


def _polars_counts(frame: pl.DataFrame, params: Parameters) -> dict[tuple[str, int], Any]:
    sums = checked_frame(frame).select(
        unexpected(c, params).sum().alias(f"{name}/{i}") for name, i, c in ROW_CHECKS
    )
    return {(name, i): sums.item(0, f"{name}/{i}") for name, i, _ in ROW_CHECKS}


def _compare(frame: pl.DataFrame, today: dt.date) -> None:
    params = Parameters.for_frame(frame, today=today, exchange="XNYS")
    gx_counts = _gx_counts(frame, params)
    assert None not in gx_counts.values(), gx_counts
    assert any(gx_counts.values())  # the case breaks some checks: the comparison has teeth
    assert _polars_counts(frame, params) == gx_counts


@pytest.mark.parametrize("name", ["unit_rows", "unit_odd", "unit_odd_int_volume"])
def test_masks_count_what_gx_counts_on_hand_built_rows(name: str) -> None:
    build, today = HAND_BUILT[name]
    _compare(build(Path()), today)


@pytest.mark.parametrize("name", ["messy_AAPL", "messy_folder_early_today"])
def test_masks_count_what_gx_counts_on_messy_files(name: str, shared_data: Path) -> None:
    build, today = REAL[name]
    _compare(build(shared_data), today)
