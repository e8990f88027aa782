"""One full daily cycle: Prefect ingest -> Dagster assets -> Prefect trade, timed per stage."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from quantlake.settings import Settings


@dataclass
class CycleResult:
    """Everything `quantlake run` reports."""

    ingest: Any = None
    assets: dict[str, Any] = field(default_factory=dict)
    trade: Any = None
    refused: str | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ingest": self.ingest.as_dict() if self.ingest else None,
            "assets": self.assets,
            "trade": self.trade.as_dict() if self.trade else None,
            "refused": self.refused,
            "timings": self.timings,
        }


Stage = Callable[[str], None]


def run_cycle(
    settings: Settings,
    *,
    now: dt.datetime | None = None,
    on_stage: Stage = print,
    retrain: bool | None = None,
) -> CycleResult:
    """Run ingest, materialize features/model/predictions, then trade; return what happened.

    A trade refusal (stale or failed data, no champion) is a result, not a crash: it is
    returned in ``refused``. Ingest validation failures raise DataQualityError. ``retrain``:
    None retrains the model when due, True always, False only when there is none.
    """
    now = now or dt.datetime.now(dt.UTC)
    result = CycleResult()

    on_stage("ingest")
    t0 = time.perf_counter()
    from flows.ingest.daily import ingest_flow

    result.ingest = ingest_flow(now=now)
    result.timings["ingest"] = time.perf_counter() - t0

    on_stage("assets")
    t0 = time.perf_counter()
    result.assets = _materialize(settings, as_of=now, retrain=retrain)
    result.timings["assets"] = time.perf_counter() - t0

    on_stage("trade")
    t0 = time.perf_counter()
    from flows.trade.flow import trade_flow
    from flows.trade.gate import TradeRefused

    try:
        result.trade = trade_flow(now=now)
    except TradeRefused as exc:
        result.refused = str(exc)
    result.timings["trade"] = time.perf_counter() - t0
    return result


def _materialize(
    settings: Settings, *, as_of: dt.datetime, retrain: bool | None = None
) -> dict[str, Any]:
    """Materialize features -> model -> predictions in the persistent Dagster instance and
    return what a person wants to see about them (read back from the lakehouse)."""
    import dagster as dg

    from assets.run import materialize_daily
    from warehouse.lake import Lakehouse

    instance = dg.DagsterInstance.from_config(str(settings.dagster_home))
    try:
        run = materialize_daily(instance=instance, settings=settings, as_of=as_of, retrain=retrain)
    finally:
        instance.dispose()
    with Lakehouse(settings.lake_dir, catalog=settings.catalog) as lake:
        champion = lake.query(
            "SELECT model_version, oos_ic, oos_rank_ic, oos_hit_rate, train_start, train_end, "
            "test_start, test_end FROM models.registry WHERE status = 'champion' "
            "ORDER BY created_at DESC LIMIT 1"
        )
        latest = lake.query("SELECT max(session) FROM predictions.daily").item()
        n_pred = lake.query(
            "SELECT count(*) FROM predictions.daily WHERE session = ?", [latest]
        ).item()
        n_feat = lake.query("SELECT count(*) FROM features.daily").item()
    sessions = (
        str(run.first_session)
        if run.first_session == run.last_session
        else f"{run.first_session} .. {run.last_session}"
    )
    out: dict[str, Any] = {
        "dagster runs": run.run_id,
        "feature sessions computed": sessions,
        "feature rows": f"{n_feat:,}",
        "model retrained": run.retrain
        or "no (not due: see QUANTLAKE_MODEL__RETRAIN_EVERY_SESSIONS)",
    }
    if not champion.is_empty():
        m = champion.row(0, named=True)
        out["model (champion)"] = m["model_version"]
        out["out-of-sample IC"] = (
            f"{m['oos_ic']:.4f} (rank IC {m['oos_rank_ic']:.4f}, hit rate {m['oos_hit_rate']:.1%}) "
            f"on {m['test_start']} .. {m['test_end']}"
        )
        out["trained on"] = f"{m['train_start']} .. {m['train_end']}"
    out["predictions"] = f"{n_pred} symbols for {latest}"
    return out
