"""Materialize the daily assets in a given Dagster instance (what ``quantlake run`` calls).

Two Dagster runs, both recorded in the instance (they show in the UI next to the automated
ones):

1. features (and labels) for the session partitions whose curated bars changed since the
   features were computed, as one run over the partition range (a new session: just it; a
   split adjustment: the symbol's history from the split on), with the feature checks. On an
   empty features table only the sessions the model's walk-forward window needs: older
   history is a backfill of the features partitions (Dagster UI), not part of a daily run;
2. the model, when a retrain is due (or asked for), then predictions for the latest session,
   with their checks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg

from assets import keys
from assets.checks import CHECKS
from assets.checks_features import DRIFT_SESSIONS, features_label_leakage
from assets.daily import DAILY_ASSETS
from assets.features.assets import AS_OF_TAG
from assets.features.window import dirty_sessions, sessions_before
from assets.models.config import load_config
from assets.models.due import retrain_reason
from assets.partitions import EXCHANGE, FIRST_SESSION, key_of
from assets.resources import build_resources, options_from_settings
from warehouse import calendar
from warehouse.lake import Lakehouse

if TYPE_CHECKING:
    from quantlake.settings import Settings

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


class DailyAssetsFailed(RuntimeError):
    """The features -> model -> predictions runs did not succeed."""


@dataclass(frozen=True)
class DailyRun:
    """The Dagster runs of one ``materialize_daily`` and what they decided."""

    runs: tuple[dg.ExecuteInProcessResult, ...]
    first_session: dt.date
    last_session: dt.date
    retrain: str | None  # why the model was retrained, None when it was not

    @property
    def run_id(self) -> str:
        return ", ".join(run.run_id for run in self.runs)

    @property
    def success(self) -> bool:
        return all(run.success for run in self.runs)

    def get_asset_materialization_events(self) -> list[dg.DagsterEvent]:
        return [e for run in self.runs for e in run.get_asset_materialization_events()]

    def get_asset_check_evaluations(self) -> list[dg.AssetCheckEvaluation]:
        return [e for run in self.runs for e in run.get_asset_check_evaluations()]


def _latest_known(lake: Lakehouse, *, at: int, as_of: dt.datetime) -> dt.date:
    """Return the latest session of curated.bars known at ``as_of`` (knowledge_time), as the
    features asset sees them; refuse when there is none, saying why."""
    latest = lake.query(
        f"SELECT max(session) FROM curated.bars AT (VERSION => {at}) WHERE knowledge_time <= ?",
        [as_of],
    ).item()
    if latest is not None:
        return latest
    earliest = lake.query(
        f"SELECT min(knowledge_time) FROM curated.bars AT (VERSION => {at})"
    ).item()
    if earliest is None:
        raise DailyAssetsFailed("curated.bars is empty: run `quantlake ingest` first")
    raise DailyAssetsFailed(
        f"no curated bar was known at {as_of:%Y-%m-%d %H:%M} UTC: the lakehouse's bars were "
        f"ingested at {earliest:%Y-%m-%d %H:%M} UTC or later (their knowledge_time), and the "
        "features of a replayed time use only what was known then. Run without --now, replay "
        "a later time, or load the bars into a new QUANTLAKE_DATA_DIR with `quantlake ingest "
        "--now` (or `quantlake run --now`) at or before that time"
    )


def _plan(
    settings: Settings, *, retrain: bool | None, as_of: dt.datetime
) -> tuple[dt.date, dt.date, str | None]:
    """Return the session range to compute and why to retrain (None: no retrain): up to the
    latest session known at ``as_of``, never past it."""
    if settings.exchange != EXCHANGE:
        raise DailyAssetsFailed(
            f"features are partitioned on {EXCHANGE} sessions (assets/partitions.py) but "
            f"QUANTLAKE_EXCHANGE={settings.exchange}: set it to {EXCHANGE}, or add a partitions "
            "definition for that exchange"
        )
    with Lakehouse(settings.lake_dir, catalog=settings.catalog) as lake:
        at = lake.current_snapshot()
        dirty = dirty_sessions(lake, as_of=at)
        latest = _latest_known(lake, at=at, as_of=as_of)
        first = max(min(dirty[0], latest) if dirty else latest, FIRST_SESSION)
        if lake.query(f"SELECT count(*) FROM features.daily AT (VERSION => {at})").item() == 0:
            # A first run computes what the model and the checks need; Dagster records one
            # event per partition (~20-50 ms each here), so years of history are a backfill.
            first = max(first, _model_window_start(settings, latest))
        days = calendar.sessions(first, latest, exchange=EXCHANGE)
        if not days:
            raise DailyAssetsFailed(
                f"curated.bars has no {EXCHANGE} session in {first} .. {latest}: "
                "features are partitioned on that exchange's sessions"
            )
        reason = retrain_reason(
            lake,
            latest=days[-1],
            horizon=settings.model.horizon,
            every_sessions=settings.model.retrain_every_sessions,
            exchange=EXCHANGE,
        )
    if retrain is True:
        reason = reason or "asked for (--retrain)"
    elif retrain is False and reason != "no model is registered yet":
        reason = None
    return days[0], days[-1], reason


def _model_window_start(settings: Settings, latest: dt.date) -> dt.date:
    """Return the first session the model's walk-forward window (plus the label lag and the
    drift check's month) needs features for."""
    config = load_config(Path(settings.model.config)) if settings.model.config else load_config()
    model = settings.model
    needed = model.train_sessions + config.walk_forward.folds * model.test_sessions
    needed += 2 * model.horizon + DRIFT_SESSIONS
    return sessions_before(latest, needed, exchange=EXCHANGE)


def materialize_daily(
    *,
    instance: dg.DagsterInstance,
    settings: Settings,
    as_of: dt.datetime | None = None,
    retrain: bool | None = None,
) -> DailyRun:
    """Materialize the changed features partitions, the model when due, and the latest
    predictions, with their checks; raise unless every run succeeds.

    ``as_of`` is the knowledge cut-off (a replay's ``--now``; None: now): only bars known then
    are planned and read. ``retrain``: None retrains when due
    (settings.model.retrain_every_sessions), True always, False only when no model exists. A
    failing blocking check (feature nulls, label leakage) stops its run and raises; the warning
    checks are returned in the result.
    """
    # One knowledge cut-off for the plan and every asset: what is planned is what they see.
    as_of = as_of or dt.datetime.now(dt.UTC)
    first, last, reason = _plan(settings, retrain=retrain, as_of=as_of)
    resources = build_resources(**options_from_settings(settings))
    tags = {"quantlake/trigger": "cli", AS_OF_TAG: as_of.isoformat()}
    # The console logger defaults to DEBUG; the run's events are in the instance regardless.
    quiet = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
    features, model, predictions = DAILY_ASSETS
    # Label leakage guards training: it reads the training window, so it runs when the model does.
    feature_checks = [
        c for c in _checks_of(keys.FEATURES) if reason or c is not features_label_leakage
    ]
    runs = []
    steps: list[tuple[list, dict[str, str]]] = [
        (
            [features, *feature_checks],
            {RANGE_START_TAG: key_of(first), RANGE_END_TAG: key_of(last)},
        ),
        (
            [
                *([model, *_checks_of(keys.MODELS)] if reason else []),
                predictions,
                *_checks_of(keys.PREDICTIONS),
            ],
            {"dagster/partition": key_of(last)},
        ),
    ]
    for selection, partition_tags in steps:
        result = dg.materialize(
            selection,
            instance=instance,
            resources=resources,
            run_config=quiet,
            tags={**tags, **partition_tags},
        )
        runs.append(result)
        if not result.success:
            raise DailyAssetsFailed(
                f"Dagster run {result.run_id} failed: see it in the Dagster UI or with "
                "`dagster run list`; nothing after the failed step was written"
            )
    return DailyRun(tuple(runs), first_session=first, last_session=last, retrain=reason)


def _checks_of(key: dg.AssetKey) -> list[dg.AssetChecksDefinition]:
    """Return the asset checks that target ``key``."""
    return [c for c in CHECKS if any(k.asset_key == key for k in c.check_keys)]
