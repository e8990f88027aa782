"""The manual kill switch: `quantlake halt` / `quantlake resume`, recorded with who and why."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Literal

from warehouse import schemas
from warehouse.lake import Lakehouse

Action = Literal["halt", "resume"]


@dataclass(frozen=True)
class Control:
    """The latest manual control, or none."""

    action: Action
    actor: str
    reason: str
    at: dt.datetime


@dataclass(frozen=True)
class ControlResult:
    """What a halt or resume did: ``recorded`` says whether a control row was appended;
    ``message`` says what happened, for a person to read (e.g. "not halted, nothing to resume")."""

    action: Action
    actor: str
    reason: str
    at: dt.datetime
    recorded: bool
    message: str


def record_control(
    lake: Lakehouse, *, action: Action, actor: str, reason: str, now: dt.datetime
) -> ControlResult:
    """Record a halt or resume; both need a person and a reason.

    A resume when nothing is halted (no kill switch on, no book left HALTED by a trade run) is
    a no-op: nothing is recorded, and the result says so.
    """
    if not actor.strip() or not reason.strip():
        raise ValueError(f"a {action} needs who (--by) and why (--reason)")
    actor, reason = actor.strip(), reason.strip()
    if action == "resume" and not halted(lake):
        return ControlResult(action, actor, reason, now, False, "not halted, nothing to resume")
    row = {
        "control_id": uuid.uuid4().hex,
        "action": action,
        "actor": actor,
        "reason": reason,
        "at": now,
    }
    with lake.transaction(f"trading {action}", actor=actor) as txn:
        txn.append(schemas.TRADING_CONTROLS, schemas.TRADING_CONTROLS.frame([row]))
    done = "halted: no new orders, working ones cancelled by the next trade run"
    message = done if action == "halt" else "resumed: the next trade run may trade again"
    return ControlResult(action, actor, reason, now, True, message)


def latest_control(lake: Lakehouse, *, as_of: int | None = None) -> Control | None:
    """Return the latest halt or resume, or None when nobody ever used the switch."""
    rows = lake.read(schemas.TRADING_CONTROLS, as_of=as_of, order_by='"at" DESC, control_id')
    if rows.is_empty():
        return None
    r = rows.row(0, named=True)
    return Control(r["action"], r["actor"], r["reason"], r["at"])


def halted(lake: Lakehouse) -> bool:
    """Return whether a resume would lift anything: the kill switch is on, or a trade run left
    some broker's book HALTED (a drawdown halt is sticky) and no resume came after it."""
    control = latest_control(lake)
    if control is not None and control.action == "halt":
        return True
    last = lake.query(
        f"SELECT state, since FROM {schemas.TRADING_STATE.table} "
        "QUALIFY row_number() OVER (PARTITION BY broker ORDER BY decided_at DESC) = 1"
    )
    halts = [since for state, since in last.iter_rows() if state == "halted"]
    if not halts:
        return False
    return control is None or any(control.at <= since for since in halts)
