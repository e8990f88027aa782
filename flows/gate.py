"""The data and model gate in front of every trade run: no fresh, validated inputs, no new risk."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from flows.controls import latest_control
from quantlake.settings import Settings
from warehouse import calendar, schemas
from warehouse.lake import Lakehouse, last_change


class TradeRefused(RuntimeError):
    """The gate refused to trade; the message says why and what to do."""


@dataclass(frozen=True)
class Gate:
    """What the trade run may act on: one session's predictions from one model."""

    session: dt.date
    model_version: str
    snapshot_id: int
    reason: str


def refuse(
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
    """Return the Gate to trade on, or record the refusal and raise TradeRefused.

    Everything the gate checks is read at one snapshot; the trade reads its inputs at the same
    snapshot, so what was checked is what is traded.
    """
    snapshot = lake.current_snapshot()
    latest = lake.query(f"SELECT max(session) FROM curated.bars AT (VERSION => {snapshot})").item()
    control = latest_control(lake, as_of=snapshot)
    if control is not None and control.action == "halt":
        reason = (
            f"trading is halted by {control.actor} at {control.at:%Y-%m-%d %H:%M} UTC: "
            f"{control.reason}; `quantlake resume --by NAME --reason WHY` lifts it"
        )
        raise refuse(lake, run_id=run_id, session=latest, reason=reason, now=now)
    problem = _data_problem(lake, settings, latest=latest, now=now, snapshot=snapshot)
    problem = problem or _model_problem(lake, latest=latest, snapshot=snapshot)
    if isinstance(problem, str):
        raise refuse(lake, run_id=run_id, session=latest, reason=problem, now=now)
    version, n = problem
    reason = f"data through {latest} passed validation; {n} predictions from {version}"
    return Gate(session=latest, model_version=version, snapshot_id=snapshot, reason=reason)


def _model_problem(lake: Lakehouse, *, latest: dt.date, snapshot: int) -> str | tuple[str, int]:
    """Return why the model's output may not be traded on, or (champion version, predictions)."""
    at = f"AT (VERSION => {int(snapshot)})"
    champion = lake.query(
        f"SELECT model_version FROM models.registry {at} WHERE status = 'champion' "
        "ORDER BY created_at DESC LIMIT 1"
    )
    if champion.is_empty():
        return "no champion model in models.registry; materialize the model asset first"
    version = champion.item()
    preds = lake.query(
        f"SELECT count(*) AS n, min(features_snapshot) AS fs FROM predictions.daily {at} "
        "WHERE session = ? AND model_version = ?",
        [latest, version],
    ).row(0, named=True)
    if not preds["n"]:
        return (
            f"no predictions from champion {version} for the latest data session {latest}; "
            "materialize the predictions asset (quantlake run does it) before trading"
        )
    features_at = last_change(lake, schemas.FEATURES, as_of=snapshot)
    if preds["fs"] is None or preds["fs"] < features_at:
        return (
            f"predictions for {latest} were scored on features of snapshot {preds['fs']}, but "
            f"features changed at snapshot {features_at}; re-materialize predictions"
        )
    return version, preds["n"]


def _data_problem(
    lake: Lakehouse, settings: Settings, *, latest: dt.date | None, now: dt.datetime, snapshot: int
) -> str | None:
    """Return why the data may not be traded on, or None when it may."""
    if latest is None:
        return "no curated bars in the lakehouse; run the ingest flow first"
    closed = calendar.last_completed_session(now, exchange=settings.exchange)
    if latest > closed:
        return (
            f"the latest curated session {latest} has not closed yet (last close: {closed}); "
            "its bars are partial, so no trade is sized on them"
        )
    behind = calendar.sessions_behind(latest, now, exchange=settings.exchange)
    if behind > settings.gates.max_data_age_sessions:
        return (
            f"data is stale: the latest curated session is {latest}, {behind} completed sessions "
            f"behind (limit {settings.gates.max_data_age_sessions}); ingest fresh data first"
        )
    failed = lake.query(
        f"SELECT source, batch_id, message FROM meta.batches AT (VERSION => {int(snapshot)}) "
        "QUALIFY row_number() OVER (PARTITION BY source ORDER BY ingested_at DESC) = 1 "
        "AND status <> 'passed' ORDER BY source"
    )
    if not failed.is_empty():
        source, bid, msg = failed.row(0)
        return (
            f"the latest {source} batch {bid} failed validation ({msg}); fix the source and "
            "re-ingest until a batch passes; Data Docs show the failing rules"
        )
    return None
