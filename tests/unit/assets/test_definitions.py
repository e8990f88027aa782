"""The code location: it loads, its lineage runs source to order, and automation is wired."""

from __future__ import annotations

import importlib
from pathlib import Path

import dagster as dg
import pytest

from assets import keys
from assets.definitions import AUTOMATION_SENSOR, build_definitions

MODEL = {"horizon": 5, "train_sessions": 252, "test_sessions": 63, "alpha": 1.0, "seed": 0}


@pytest.fixture
def defs(tmp_path: Path) -> dg.Definitions:
    return build_definitions(
        lake_root=str(tmp_path / "lake"),
        catalog="sqlite",
        models_dir=str(tmp_path / "models"),
        model=MODEL,
    )


def test_module_level_defs_load() -> None:
    module = importlib.import_module("assets.definitions")
    dg.Definitions.validate_loadable(module.defs)


def test_lineage_runs_from_raw_bars_to_orders(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    chain = [
        keys.RAW_BARS,
        keys.CURATED_BARS,
        keys.FEATURES,
        keys.MODELS,
        keys.PREDICTIONS,
        keys.ORDERS,
    ]
    for parent, child in zip(chain, chain[1:], strict=False):
        assert parent in graph.get(child).parent_keys, f"{parent} -> {child} missing"
    assert not graph.get(keys.CURATED_BARS).is_materializable
    assert not graph.get(keys.ORDERS).is_materializable


def test_daily_job_selects_the_three_assets(defs: dg.Definitions) -> None:
    job = defs.resolve_job_def("daily_assets_job")
    assert job.asset_layer.executable_asset_keys == {
        keys.FEATURES,
        keys.MODELS,
        keys.PREDICTIONS,
    }


def test_one_automation_sensor_running_by_default(defs: dg.Definitions) -> None:
    sensors = defs.get_repository_def().sensor_defs
    assert [s.name for s in sensors] == [AUTOMATION_SENSOR]
    assert sensors[0].default_status == dg.DefaultSensorStatus.RUNNING


def test_invalid_model_settings_fail_at_load(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="horizon"):
        build_definitions(
            lake_root=str(tmp_path),
            catalog="sqlite",
            models_dir=str(tmp_path),
            model={**MODEL, "horizon": 0},
        )


def test_curated_bars_event_requests_the_whole_chain(defs: dg.Definitions) -> None:
    instance = dg.DagsterInstance.ephemeral()
    before = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    # curated/bars was never reported, so nothing downstream may run yet.
    assert before.total_requested == 0

    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=keys.CURATED_BARS))
    after = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=before.cursor)

    for key in (keys.FEATURES, keys.MODELS, keys.PREDICTIONS):
        assert after.get_num_requested(key) == 1, key
    assert after.total_requested == 3
