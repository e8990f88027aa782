"""The code location: it loads, its lineage runs source to order, and automation is wired."""

from __future__ import annotations

import datetime as dt
import importlib
from pathlib import Path

import dagster as dg
import pytest

from assets import keys
from assets.definitions import AUTOMATION_SENSOR, build_definitions
from assets.partitions import SESSIONS
from assets.retrain import RETRAIN_JOB, RETRAIN_SCHEDULE, RETRAIN_SENSOR

MODEL = {"horizon": 5, "train_sessions": 252, "test_sessions": 63, "seed": 0}


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


def test_automation_drift_retrain_and_weekly_schedule_run_by_default(
    defs: dg.Definitions,
) -> None:
    repository = defs.get_repository_def()
    sensors = {s.name: s for s in repository.sensor_defs}
    assert set(sensors) == {AUTOMATION_SENSOR, RETRAIN_SENSOR}
    assert all(s.default_status == dg.DefaultSensorStatus.RUNNING for s in sensors.values())
    (weekly,) = repository.schedule_defs
    assert weekly.name == RETRAIN_SCHEDULE and weekly.job_name == RETRAIN_JOB
    assert weekly.default_status == dg.DefaultScheduleStatus.RUNNING


def test_invalid_model_settings_fail_at_load(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="horizon"):
        build_definitions(
            lake_root=str(tmp_path),
            catalog="sqlite",
            models_dir=str(tmp_path),
            model={**MODEL, "horizon": 0},
        )


def _tick(
    defs: dg.Definitions, instance: dg.DagsterInstance, cursor: object
) -> dg.AutomationResult:
    return dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)


def test_curated_bars_event_requests_the_whole_chain_tick_by_tick(defs: dg.Definitions) -> None:
    instance = dg.DagsterInstance.ephemeral()
    before = _tick(defs, instance, None)
    # curated/bars was never reported, so nothing downstream may run yet.
    assert before.total_requested == 0

    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=keys.CURATED_BARS))
    first = _tick(defs, instance, before.cursor)
    # The missing sessions of the last three years (the model's window needs them; the
    # sensor emits them as one backfill run), the latest included; older ones are a backfill
    # people launch.
    latest = SESSIONS.get_last_partition_key()
    requested = first.get_requested_partitions(keys.FEATURES)
    assert latest in requested and 740 <= len(requested) <= 760
    assert (
        min(requested) >= (dt.date.fromisoformat(latest) - dt.timedelta(days=3 * 366)).isoformat()
    )
    assert first.total_requested == len(requested)

    # A partitioned and an unpartitioned asset cannot share a run: the model follows next tick.
    instance.report_runless_asset_event(
        dg.AssetMaterialization(asset_key=keys.FEATURES, partition=latest)
    )
    second = _tick(defs, instance, first.cursor)
    assert second.get_num_requested(keys.MODELS) == 1
    assert second.get_num_requested(keys.PREDICTIONS) == 0  # its model is still missing

    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=keys.MODELS))
    third = _tick(defs, instance, second.cursor)
    assert third.get_requested_partitions(keys.PREDICTIONS) == {latest}
    assert third.get_num_requested(keys.MODELS) == 0

    instance.report_runless_asset_event(
        dg.AssetMaterialization(asset_key=keys.PREDICTIONS, partition=latest)
    )
    scored = _tick(defs, instance, third.cursor)
    assert scored.total_requested == 0
    # New features (a corrected session) do not retrain the model (weekly, or on drift), but
    # do score predictions again.
    instance.report_runless_asset_event(
        dg.AssetMaterialization(asset_key=keys.FEATURES, partition=latest)
    )
    fourth = _tick(defs, instance, scored.cursor)
    assert fourth.get_num_requested(keys.MODELS) == 0
    assert fourth.get_requested_partitions(keys.PREDICTIONS) == {latest}


def test_partitions_are_exchange_sessions() -> None:
    window = SESSIONS.get_partition_keys_in_range(dg.PartitionKeyRange("2024-12-20", "2025-01-03"))
    # No weekends, no Christmas, no New Year's Day.
    assert window == [
        "2024-12-20",
        "2024-12-23",
        "2024-12-24",
        "2024-12-26",
        "2024-12-27",
        "2024-12-30",
        "2024-12-31",
        "2025-01-02",
        "2025-01-03",
    ]
    july = SESSIONS.get_partition_keys_in_range(dg.PartitionKeyRange("2025-07-01", "2025-07-08"))
    assert july == ["2025-07-01", "2025-07-02", "2025-07-03", "2025-07-07", "2025-07-08"]
