"""When `quantlake run` retrains: the newest registered model's data has aged past a limit."""

from __future__ import annotations

import datetime as dt

from warehouse import calendar
from warehouse.lake import Lakehouse
from warehouse.schemas import MODELS


def retrain_reason(
    lake: Lakehouse, *, latest: dt.date, horizon: int, every_sessions: int, exchange: str
) -> str | None:
    """Return why the model should be retrained now, or None when it is not due.

    A model's data ends at its last test session, ``horizon`` sessions before the features
    session it was trained at (labels need h sessions to be known). It is due once the latest
    features session is more than ``horizon + every_sessions`` sessions past that.
    """
    newest = lake.query(f"SELECT max(test_end) FROM {MODELS.table}").item()
    if newest is None:
        return "no model is registered yet"
    behind = calendar.sessions_between(newest, latest, exchange=exchange)
    limit = horizon + every_sessions
    if behind > limit:
        return (
            f"the newest model's data ends {newest}, {behind} sessions before {latest} "
            f"(retrain every {every_sessions} sessions after the {horizon}-session label lag)"
        )
    return None
