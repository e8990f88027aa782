"""Retraining: weekly on a schedule, and whenever the features drift check fails.

``retrain_job`` materializes the model asset together with the blocking feature checks (label
leakage, null share): they run first in the same run, and when one fails the model does not
train. The predictions follow through their own automation once the model has materialized.

``retrain_on_drift`` requests the job for each failed evaluation of ``features_drift`` that is
newer than the model's last materialization. The run key names that evaluation's run, and the
cursor remembers it, so one drift failure never requests two retrains; a failure the next
session is a new evaluation and may request again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import dagster as dg

from assets import keys
from assets.checks import features_null_share
from assets.checks_features import features_drift, features_label_leakage

if TYPE_CHECKING:
    from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecord

RETRAIN_JOB = "retrain_job"
RETRAIN_SCHEDULE = "retrain_weekly"
RETRAIN_SENSOR = "retrain_on_drift"
DRIFT_CHECK = features_drift.check_key

retrain_job = dg.define_asset_job(
    RETRAIN_JOB,
    selection=dg.AssetSelection.assets(keys.MODELS)
    | dg.AssetSelection.checks(features_label_leakage, features_null_share),
    description="Retrain and gate the models on the current features, after the blocking "
    "feature checks (label leakage, null share) pass.",
    tags={"quantlake/trigger": "retrain"},
)

retrain_weekly = dg.ScheduleDefinition(
    name=RETRAIN_SCHEDULE,
    job=retrain_job,
    # Friday after the close, so Monday trades on a model fit on the whole week.
    cron_schedule="0 18 * * 5",
    execution_timezone="America/New_York",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Retrain the models every Friday at 18:00 New York time.",
)


def latest_drift_evaluation(instance: dg.DagsterInstance) -> AssetCheckExecutionRecord | None:
    """Return the latest completed (passed or failed) evaluation of ``features_drift``."""
    summary = instance.event_log_storage.get_asset_check_summary_records([DRIFT_CHECK])
    return summary[DRIFT_CHECK].last_completed_check_execution_record


def retrain_run_key(evaluation: AssetCheckExecutionRecord) -> str:
    """Return the run key of the retrain a drift evaluation requests (one per evaluation)."""
    return f"{DRIFT_CHECK.name}-{evaluation.run_id}-{evaluation.id}"


@dg.sensor(
    name=RETRAIN_SENSOR,
    job=retrain_job,
    minimum_interval_seconds=120,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Retrain when features_drift failed after the model's last materialization.",
)
def retrain_on_drift(context: dg.SensorEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    """Request one retrain per failed drift evaluation newer than the model."""
    evaluation = latest_drift_evaluation(context.instance)
    if evaluation is None or evaluation.event is None or evaluation.evaluation is None:
        return dg.SkipReason(f"{DRIFT_CHECK.to_user_string()} has not been evaluated yet")
    when = f"evaluated in run {evaluation.run_id}"
    if evaluation.evaluation.passed:
        return dg.SkipReason(f"the latest drift check passed ({when})")
    run_key = retrain_run_key(evaluation)
    if context.cursor == run_key:
        return dg.SkipReason(f"retraining was already requested for the drift failure {when}")
    trained = context.instance.get_latest_materialization_event(keys.MODELS)
    if trained is not None and trained.timestamp >= evaluation.event.timestamp:
        return dg.SkipReason(
            f"the model was materialized in run {trained.run_id} after the drift failure {when}"
        )
    context.update_cursor(run_key)
    return dg.RunRequest(
        run_key=run_key,
        tags={"quantlake/trigger": "drift", "quantlake/drift_run": evaluation.run_id},
    )


RETRAIN_JOBS = (retrain_job,)
RETRAIN_SCHEDULES = (retrain_weekly,)
RETRAIN_SENSORS = (retrain_on_drift,)
