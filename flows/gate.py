"""The data and model gate in front of every trade run: no fresh, validated inputs, no new risk."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from quantlake.settings import Settings
from warehouse import calendar, schemas
from warehouse.lake import Lakehouse


class TradeRefused(RuntimeError):
    """The gate refused to trade; the message says why and what to do."""


@dataclass(frozen=True)
class Gate:
    """What the trade run may act on: one session's predictions from one model."""

    session: dt.date
    model_version: str
    snapshot_id: int
    reason: str


def _refuse(
    lake: Lakehouse, *, run_id: str, session: dt.date | None, reason: str, now: dt.datetime
) -> TradeRefused:
    row = pl.DataFrame(
        {
            "run_id": [run_id],
            "session": [session],
            "subject": ["gate"],
            "decision": ["refuse"],
            "reason": [reason],
            "decided_at": [now],
        },
        schema=schemas.RISK_DECISIONS.polars_schema(),
    )
    with lake.transaction("trade: refused", run_id=run_id) as txn:
        txn.append(schemas.RISK_DECISIONS, row)
    return TradeRefused(reason)


def check_gate(lake: Lakehouse, settings: Settings, *, now: dt.datetime, run_id: str) -> Gate:
    """Return the Gate to trade on, or record the refusal and raise TradeRefused."""
    snapshot = lake.current_snapshot()
    latest = lake.query("SELECT max(session) FROM curated.bars").item()
    problem = _data_problem(lake, settings, latest=latest, now=now)
    if problem:
        raise _refuse(lake, run_id=run_id, session=latest, reason=problem, now=now)
    champion = lake.query(
        "SELECT model_version FROM models.registry WHERE status = 'champion' "
        "ORDER BY created_at DESC LIMIT 1"
    )
    if champion.is_empty():
        reason = "no champion model in models.registry; materialize the model asset first"
        raise _refuse(lake, run_id=run_id, session=latest, reason=reason, now=now)
    version = champion.item()
    n = lake.query(
        "SELECT count(*) FROM predictions.daily WHERE session = ? AND model_version = ?",
        [latest, version],
    ).item()
    if not n:
        reason = (
            f"no predictions from champion {version} for the latest data session {latest}; "
            "materialize the predictions asset (quantlake run does it) before trading"
        )
        raise _refuse(lake, run_id=run_id, session=latest, reason=reason, now=now)
    reason = f"data through {latest} passed validation; {n} predictions from {version}"
    return Gate(session=latest, model_version=version, snapshot_id=snapshot, reason=reason)


def _data_problem(
    lake: Lakehouse, settings: Settings, *, latest: dt.date | None, now: dt.datetime
) -> str | None:
    """Return why the data may not be traded on, or None when it may."""
    if latest is None:
        return "no curated bars in the lakehouse; run the ingest flow first"
    behind = calendar.sessions_behind(latest, now, exchange=settings.exchange)
    if behind > settings.gates.max_data_age_sessions:
        return (
            f"data is stale: the latest curated session is {latest}, {behind} completed sessions "
            f"behind (limit {settings.gates.max_data_age_sessions}); ingest fresh data first"
        )
    last = lake.query(
        "SELECT batch_id, status, message FROM meta.batches ORDER BY ingested_at DESC LIMIT 1"
    )
    if not last.is_empty() and last.get_column("status").item() != "passed":
        bid, _, msg = last.row(0)
        return (
            f"the latest batch {bid} failed validation ({msg}); fix the source and re-ingest, "
            "see Data Docs for the failing rules"
        )
    return None
