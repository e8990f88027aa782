"""Retraining: the drift sensor asks once per failure, the schedule and the job's leakage gate."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from assets import keys
from assets.checks import CHECKS
from assets.checks_features import DRIFT_SESSIONS, FEATURE_CHECKS, MIN_DRIFTED_SHARE
from assets.checks_freshness import FRESHNESS_CHECKS
from assets.daily import DAILY_ASSETS
from assets.external import EXTERNAL_ASSETS
from assets.resources import build_resources
from assets.retrain import (
    RETRAIN_JOB,
    RETRAIN_JOBS,
    RETRAIN_SCHEDULES,
    RETRAIN_SENSORS,
    latest_drift_evaluation,
    retrain_on_drift,
    retrain_run_key,
    retrain_weekly,
)
from tests.unit.assets import feature_rows as rows
from tests.unit.assets.test_checks_features import run_checks
from warehouse.lake import Lakehouse

if TYPE_CHECKING:
    from dagster._core.definitions.sensor_definition import SensorExecutionData

U = rows.universe()


def definitions(lake: Lakehouse, tmp_path: Path) -> dg.Definitions:
    """The code location as the lead wires it: daily assets, every check, retraining."""
    return dg.Definitions(
        assets=[*EXTERNAL_ASSETS, *DAILY_ASSETS],
        asset_checks=[*CHECKS, *FEATURE_CHECKS, *FRESHNESS_CHECKS],
        jobs=list(RETRAIN_JOBS),
        schedules=list(RETRAIN_SCHEDULES),
        sensors=list(RETRAIN_SENSORS),
        resources=build_resources(
            lake_root=str(lake.root),
            catalog="sqlite",
            models_dir=str(tmp_path / "models"),
            model=rows.MODEL,
        ),
    )


def tick(instance: dg.DagsterInstance, cursor: str | None = None) -> SensorExecutionData:
    """Evaluate the drift sensor once, as the daemon would, with the previous tick's cursor."""
    return retrain_on_drift.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor))


@pytest.fixture
def drifted(lake: Lakehouse, tmp_path: Path) -> Lakehouse:
    """Features whose vol_20 moved in the latest sessions, and a champion trained before."""
    moved = rows.broadly_shifted(
        rows.features(U), share=MIN_DRIFTED_SHARE, by=10.0, sessions=DRIFT_SESSIONS
    )
    rows.write(lake, bars=rows.bars(U), features=moved, labels=rows.labels(U))
    rows.seed_champion(lake, U, models_dir=tmp_path / "models", train_sessions=200)
    return lake


def test_no_drift_evaluation_requests_nothing() -> None:
    data = tick(dg.DagsterInstance.ephemeral())
    assert not data.run_requests
    assert data.skip_message == "features/daily:features_drift has not been evaluated yet"


def test_a_drift_failure_requests_one_retrain(drifted: Lakehouse, tmp_path: Path) -> None:
    instance = dg.DagsterInstance.ephemeral()
    assert not run_checks(drifted, tmp_path, "features_drift", instance=instance)[
        "features_drift"
    ].passed
    evaluation = latest_drift_evaluation(instance)
    assert evaluation is not None

    first = tick(instance)
    assert [r.run_key for r in first.run_requests] == [retrain_run_key(evaluation)]
    assert first.run_requests[0].tags["quantlake/trigger"] == "drift"
    assert first.cursor == retrain_run_key(evaluation)

    again = tick(instance, cursor=first.cursor)
    assert not again.run_requests
    assert again.skip_message.startswith("retraining was already requested")


def test_a_model_materialized_after_the_failure_stops_the_request(
    drifted: Lakehouse, tmp_path: Path
) -> None:
    instance = dg.DagsterInstance.ephemeral()
    run_checks(drifted, tmp_path, "features_drift", instance=instance)
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=keys.MODELS))

    data = tick(instance)
    assert not data.run_requests
    assert data.skip_message.startswith("the model was materialized in run")

    # The drift persists at the next evaluation: a new failure, a new request.
    run_checks(drifted, tmp_path, "features_drift", instance=instance)
    newer = tick(instance, cursor=data.cursor)
    assert [r.run_key for r in newer.run_requests] == [
        retrain_run_key(latest_drift_evaluation(instance))
    ]


def test_a_passing_drift_check_requests_nothing(lake: Lakehouse, tmp_path: Path) -> None:
    rows.write(lake, bars=rows.bars(U), features=rows.features(U), labels=rows.labels(U))
    rows.seed_champion(lake, U, models_dir=tmp_path / "models", train_sessions=200)
    instance = dg.DagsterInstance.ephemeral()
    assert run_checks(lake, tmp_path, "features_drift", instance=instance)["features_drift"].passed

    data = tick(instance)
    assert not data.run_requests
    assert data.skip_message.startswith("the latest drift check passed")


def test_retrain_job_selects_the_model_and_its_blocking_feature_checks(
    lake: Lakehouse, tmp_path: Path
) -> None:
    defs = definitions(lake, tmp_path)
    dg.Definitions.validate_loadable(defs)
    job = defs.resolve_job_def(RETRAIN_JOB)

    assert job.asset_layer.executable_asset_keys == {keys.MODELS}
    checks = {key.name for key in job.asset_layer.asset_graph.asset_check_keys}
    assert {"features_label_leakage", "features_null_share"} <= checks
    assert "features_drift" not in checks


def test_weekly_schedule_runs_the_retrain_job_friday_evening_in_new_york() -> None:
    friday = dt.datetime(2026, 3, 6, 18, tzinfo=ZoneInfo("America/New_York"))
    data = retrain_weekly.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=friday))

    assert len(data.run_requests) == 1
    assert retrain_weekly.job_name == RETRAIN_JOB
    assert (retrain_weekly.cron_schedule, retrain_weekly.execution_timezone) == (
        "0 18 * * 5",
        "America/New_York",
    )
    assert retrain_weekly.default_status == dg.DefaultScheduleStatus.RUNNING


def started_steps(result: dg.ExecuteInProcessResult) -> list[str]:
    return [e.step_key for e in result.all_events if e.event_type_value == "STEP_START"]


@pytest.mark.parametrize("leak", [True, False])
def test_leaky_features_stop_the_retrain_before_the_model_trains(
    lake: Lakehouse, tmp_path: Path, leak: bool
) -> None:
    labels = rows.labels(U)
    features = rows.features(U)
    if leak:
        features = rows.leaky(features, labels, column="ret_5")
    rows.write(lake, bars=rows.bars(U), features=features, labels=labels)
    job = definitions(lake, tmp_path).resolve_job_def(RETRAIN_JOB)

    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)

    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {"features_label_leakage": not leak, "features_null_share": True}
    # The clean run reaches the model step (which then finds 300 sessions too short to train):
    # so it is the leakage check, and only it, that keeps the model from starting.
    assert ("models__registry" in started_steps(result)) is not leak
    assert result.get_asset_materialization_events() == []
