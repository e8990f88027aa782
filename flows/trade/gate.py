"""The gate in front of every trade run: what the run may act on, and what it may not.

A problem with the inputs does not stop the run; it limits what the run may do. Stale or
failed data and a missing or stale model move the book to REDUCING (exits still allowed, no
new entries); the manual kill switch moves it to HALTED (nothing new at all). Only a state in
which no trade can even be planned (no curated bars, or a session whose bars are partial)
refuses the run outright.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from flows.trade.controls import latest_control
from quantlake.settings import Settings
from warehouse import calendar, schemas
from warehouse.lake import Lakehouse, last_change


class TradeRefused(RuntimeError):
    """The gate refused to trade; the message says why and what to do."""


@dataclass(frozen=True)
class Gate:
    """What the trade run may act on, read at one snapshot.

    ``model_version`` names the predictions to plan from (None when there are none for the
    session); each ``*_problem`` says why new risk may not be opened.
    """

    session: dt.date
    snapshot_id: int
    model_version: str | None
    reason: str
    data_problem: str | None = None
    model_problem: str | None = None
    halt: str | None = None

    @property
    def may_open(self) -> bool:
        """Return whether new risk may be opened (no data, model or halt problem)."""
        return not (self.data_problem or self.model_problem or self.halt)


def refuse(
    lake: Lakehouse, *, run_id: str, session: dt.date | None, reason: str, now: dt.datetime
) -> TradeRefused:
    """Record a refusal of the whole run and return the exception to raise."""
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
    """Return the Gate for this run, or record the refusal and raise TradeRefused.

    Everything the gate checks is read at one snapshot; the trade reads its inputs at the same
    snapshot, so what was checked is what is traded.
    """
    snapshot = lake.current_snapshot()
    latest = lake.query(f"SELECT max(session) FROM curated.bars AT (VERSION => {snapshot})").item()
    fatal = _unplannable(settings, latest=latest, now=now)
    if fatal:
        raise refuse(lake, run_id=run_id, session=latest, reason=fatal, now=now)
    data = _data_problem(lake, settings, latest=latest, now=now, snapshot=snapshot)
    version, model, n = _model_problem(lake, settings, latest=latest, snapshot=snapshot)
    halt = _halt(lake, snapshot)
    if data or model or halt:
        reason = "; ".join(p for p in (halt, data, model) if p)
    else:
        reason = f"data through {latest} passed validation; {n} predictions from {version}"
    return Gate(
        session=latest,
        snapshot_id=snapshot,
        model_version=version,
        reason=reason,
        data_problem=data,
        model_problem=model,
        halt=halt,
    )


def _halt(lake: Lakehouse, snapshot: int) -> str | None:
    control = latest_control(lake, as_of=snapshot)
    if control is None or control.action != "halt":
        return None
    return (
        f"trading is halted by {control.actor} at {control.at:%Y-%m-%d %H:%M} UTC: "
        f"{control.reason}; `quantlake resume --by NAME --reason WHY` lifts it"
    )


def _unplannable(settings: Settings, *, latest: dt.date | None, now: dt.datetime) -> str | None:
    """Return why no trade can be planned at all, or None."""
    if latest is None:
        return "no curated bars in the lakehouse; run the ingest flow first"
    closed = calendar.last_completed_session(now, exchange=settings.exchange)
    if latest > closed:
        return (
            f"the latest curated session {latest} has not closed yet (last close: {closed}); "
            "its bars are partial, so no trade is sized on them"
        )
    return None


def _model_problem(
    lake: Lakehouse, settings: Settings, *, latest: dt.date, snapshot: int
) -> tuple[str | None, str | None, int]:
    """Return (model version to plan from or None, why it may not open risk or None, count)."""
    at = f"AT (VERSION => {int(snapshot)})"
    champion = lake.query(
        "SELECT model_version, greatest(train_end, test_end) FROM models.registry "
        f"{at} WHERE status = 'champion' "
        "ORDER BY created_at DESC LIMIT 1"
    )
    if champion.is_empty():
        return None, "no champion model in models.registry; materialize the model asset", 0
    version, train_end = champion.row(0)
    preds = lake.query(
        f"SELECT count(*) AS n, min(features_snapshot) AS fs FROM predictions.daily {at} "
        "WHERE session = ? AND model_version = ?",
        [latest, version],
    ).row(0, named=True)
    if not preds["n"]:
        return (
            None,
            (
                f"no predictions from champion {version} for the latest data session {latest}; "
                "materialize the predictions asset (quantlake run does it) before trading"
            ),
            0,
        )
    features_at = last_change(lake, schemas.FEATURES, as_of=snapshot)
    if preds["fs"] is None or preds["fs"] < features_at:
        return (
            version,
            (
                f"predictions for {latest} were scored on features of snapshot {preds['fs']}, but "
                f"features changed at snapshot {features_at}; re-materialize predictions"
            ),
            preds["n"],
        )
    limit = settings.gates.max_model_age_sessions
    if train_end is not None:
        age = calendar.sessions_between(train_end, latest, exchange=settings.exchange)
        if age > limit:
            return (
                version,
                (
                    f"champion {version} was trained on data up to {train_end}, {age} sessions "
                    f"before {latest} (limit {limit}); retrain the model asset"
                ),
                preds["n"],
            )
    return version, None, preds["n"]


def _data_problem(
    lake: Lakehouse, settings: Settings, *, latest: dt.date, now: dt.datetime, snapshot: int
) -> str | None:
    """Return why the data may not open new risk, or None when it may."""
    behind = calendar.sessions_behind(latest, now, exchange=settings.exchange)
    if behind > settings.gates.max_data_age_sessions:
        return (
            f"data is stale: the latest curated session is {latest}, {behind} completed sessions "
            f"behind (limit {settings.gates.max_data_age_sessions}); ingest fresh data first"
        )
    # Batches of backfills and gap re-requests concern past sessions: their failure is reported
    # by the backfill (exit code, quality report) and does not judge today's data.
    at = f"AT (VERSION => {int(snapshot)})"
    failed = lake.query(
        f"SELECT source, batch_id, message FROM meta.batches {at} "
        "WHERE dataset = 'daily_bars' AND batch_id NOT IN "
        f"(SELECT batch_id FROM meta.backfill_windows {at} WHERE committed) "
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
