"""A person approves a large rebalance in the Prefect UI before any of its orders is sent.

The trade flow pauses (``pause_flow_run`` with a typed input): the Prefect UI shows the run as
Paused with a form built from ``RebalanceApproval`` and the rebalance described above it. The
run resumes with the answer; no answer within the timeout is a rejection.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput


class RebalanceApproval(RunInput):
    """The answer a person gives in the Prefect UI."""

    approve: bool = False
    approver: str = ""
    note: str = ""


@dataclass(frozen=True)
class Approval:
    approved: bool
    reason: str


def ask_approval(
    orders: pl.DataFrame,
    *,
    session: dt.date,
    turnover: float,
    threshold: float,
    timeout_s: int,
    poll_s: int = 5,
) -> Approval:
    """Pause the flow run until a person approves or rejects ``orders``; return the answer."""
    description = _describe(orders, session=session, turnover=turnover, threshold=threshold)
    form = RebalanceApproval.with_initial_data(description=description)
    try:
        answer = pause_flow_run(wait_for_input=form, timeout=timeout_s, poll_interval=poll_s)
    except FlowPauseTimeout:
        return Approval(False, f"no answer within {timeout_s} s: the rebalance is not sent")
    who = answer.approver.strip()
    if not who:
        return Approval(False, "answered without a name in 'approver': not sent")
    verdict = "approved" if answer.approve else "rejected"
    note = f": {answer.note.strip()}" if answer.note.strip() else ""
    return Approval(answer.approve, f"{verdict} by {who}{note}")


def _describe(orders: pl.DataFrame, *, session: dt.date, turnover: float, threshold: float) -> str:
    lines = [
        f"## Rebalance for {session} needs approval",
        f"Two-way turnover **{turnover:.1%}** of equity is above the approval threshold "
        f"{threshold:.1%}. Tick *approve* and give your name to send these orders; leave it "
        "unticked to reject the rebalance.",
        "",
        "| side | qty | symbol | notional |",
        "|---|---:|---|---:|",
    ]
    for side, qty, symbol, notional in orders.select("side", "qty", "symbol", "notional").rows():
        lines.append(f"| {side} | {qty:g} | {symbol} | {notional:,.0f} |")
    return "\n".join(lines)
