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


Stage = Callable[[str], None]


def run_cycle(
    settings: Settings, *, now: dt.datetime | None = None, on_stage: Stage = print
) -> CycleResult:
    """Run ingest, materialize features/model/predictions, then trade; return what happened.

    A trade refusal (stale or failed data, no champion) is a result, not a crash: it is
    returned in ``refused``. Ingest validation failures raise DataQualityError.
    """
    now = now or dt.datetime.now(dt.UTC)
    result = CycleResult()

    on_stage("ingest")
    t0 = time.perf_counter()
    from flows.ingest import ingest_flow

    result.ingest = ingest_flow(now=now)
    result.timings["ingest"] = time.perf_counter() - t0

    on_stage("assets")
    t0 = time.perf_counter()
    result.assets = _materialize(settings)
    result.timings["assets"] = time.perf_counter() - t0

    on_stage("trade")
    t0 = time.perf_counter()
    from flows.gate import TradeRefused
    from flows.trade import trade_flow

    try:
        result.trade = trade_flow(now=now)
    except TradeRefused as exc:
        result.refused = str(exc)
    result.timings["trade"] = time.perf_counter() - t0
    return result


def _materialize(settings: Settings) -> dict[str, Any]:
    """Materialize features -> model -> predictions in the persistent Dagster instance."""
    import dagster as dg

    from assets.run import materialize_daily

    instance = dg.DagsterInstance.from_config(str(settings.dagster_home))
    try:
        outcome = materialize_daily(instance=instance, settings=settings)
    finally:
        instance.dispose()
    return outcome
