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


def record_control(
    lake: Lakehouse, *, action: Action, actor: str, reason: str, now: dt.datetime
) -> Control:
    """Record a halt or resume; both need a person and a reason."""
    if not actor.strip() or not reason.strip():
        raise ValueError(f"a {action} needs who (--by) and why (--reason)")
    row = {
        "control_id": uuid.uuid4().hex,
        "action": action,
        "actor": actor.strip(),
        "reason": reason.strip(),
        "at": now,
    }
    with lake.transaction(f"trading {action}", actor=actor) as txn:
        txn.append(schemas.TRADING_CONTROLS, schemas.TRADING_CONTROLS.frame([row]))
    return Control(action, row["actor"], row["reason"], now)


def latest_control(lake: Lakehouse, *, as_of: int | None = None) -> Control | None:
    """Return the latest halt or resume, or None when nobody ever used the switch."""
    rows = lake.read(schemas.TRADING_CONTROLS, as_of=as_of, order_by='"at" DESC, control_id')
    if rows.is_empty():
        return None
    r = rows.row(0, named=True)
    return Control(r["action"], r["actor"], r["reason"], r["at"])
