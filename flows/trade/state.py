"""The trading state of each run: read the last one, decide the next (pure), record it."""

from __future__ import annotations

import datetime as dt

from flows.trade.controls import latest_control
from flows.trade.gate import Gate
from quantlake.settings import Settings
from strategies.limits import RiskLimits
from strategies.states import State, StateDecision, next_state
from warehouse import schemas
from warehouse.lake import Lakehouse


def risk_limits(settings: Settings) -> RiskLimits:
    """Return the frozen limits the risk engine enforces (RiskSettings names the same fields)."""
    fields = settings.risk.model_dump()
    fields["restricted_symbols"] = frozenset(fields["restricted_symbols"])
    return RiskLimits(**fields)


def decide_state(
    lake: Lakehouse,
    settings: Settings,
    *,
    broker: str,
    session: dt.date,
    equity: float,
    gate: Gate,
    run_id: str,
    now: dt.datetime,
) -> StateDecision:
    """Decide and record this run's trading state from the last one, today's equity and the
    gate's findings (data and model problems reduce; the kill switch halts).

    A HALTED state stays until a person resumes it after the halt began. The decision is
    recorded when it differs from the last one recorded (flows/trade/audit.py).
    """
    history = lake.read(
        schemas.TRADING_STATE, where="broker = ?", params=[broker], order_by="decided_at DESC"
    )
    last = history.row(0, named=True) if not history.is_empty() else None
    earlier = history.filter(history.get_column("session") < session) if last else history
    prev_close = earlier.row(0, named=True)["equity"] if not earlier.is_empty() else equity
    control = latest_control(lake)
    resumed = bool(
        last
        and last["state"] == State.HALTED
        and control is not None
        and control.action == "resume"
        and control.at > last["since"]
    )
    decision = next_state(
        current=State(last["state"]) if last else State.ACTIVE,
        equity_peak=last["equity_peak"] if last else equity,
        equity=equity,
        equity_prev_close=prev_close,
        data_ok=gate.data_problem is None,
        data_reason=gate.data_problem,
        model_ok=gate.model_problem is None,
        model_reason=gate.model_problem,
        manual_halt=gate.halt is not None,
        manual_reason=gate.halt,
        limits=risk_limits(settings),
        manual_resume=resumed,
    )
    since = last["since"] if last and last["state"] == decision.state else now
    row = {
        "run_id": run_id,
        "broker": broker,
        "session": session,
        "state": str(decision.state),
        "since": since,
        "triggers": ",".join(decision.triggers),
        "reasons": " | ".join(decision.reasons),
        "equity": equity,
        "equity_peak": decision.equity_peak,
        "decided_at": now,
    }
    if last is not None and all(last[k] == row[k] for k in _DECIDED):
        return decision  # a rerun that decides the same state on the same book records nothing
    with lake.transaction("trade: state", run_id=run_id, state=str(decision.state)) as txn:
        txn.append(schemas.TRADING_STATE, schemas.TRADING_STATE.frame([row]))
    return decision


# What a state row says; a run deciding all of it the same as the last row adds no row.
_DECIDED = ("broker", "session", "state", "since", "triggers", "reasons", "equity", "equity_peak")
