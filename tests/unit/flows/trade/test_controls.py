"""The kill switch: a resume lifts a halt once; resuming what is not halted records nothing."""

from __future__ import annotations

import datetime as dt

from flows.trade.controls import record_control
from warehouse import schemas
from warehouse.lake import Lakehouse

NOW = dt.datetime(2026, 11, 23, 14, 45, tzinfo=dt.UTC)


def control(lake: Lakehouse, action: str, minutes: int):  # noqa: ANN201
    at = NOW + dt.timedelta(minutes=minutes)
    return record_control(lake, action=action, actor="ops", reason="checked", now=at)  # type: ignore[arg-type]


def test_resuming_when_nothing_is_halted_is_a_no_op(lake: Lakehouse) -> None:
    result = control(lake, "resume", 0)
    assert (result.recorded, result.message) == (False, "not halted, nothing to resume")
    assert lake.count(schemas.TRADING_CONTROLS) == 0


def test_a_halt_is_resumed_once_and_a_second_resume_records_nothing(lake: Lakehouse) -> None:
    assert control(lake, "halt", 0).recorded
    first = control(lake, "resume", 1)
    assert first.recorded and first.message.startswith("resumed")
    second = control(lake, "resume", 2)
    assert (second.recorded, second.message) == (False, "not halted, nothing to resume")
    actions = lake.read(schemas.TRADING_CONTROLS, order_by='"at"').get_column("action")
    assert actions.to_list() == ["halt", "resume"]


def test_a_book_a_trade_run_left_halted_can_be_resumed_without_a_kill_switch(
    lake: Lakehouse,
) -> None:
    row = {
        "run_id": "r1",
        "broker": "paper",
        "session": dt.date(2026, 11, 20),
        "state": "halted",
        "since": NOW,
        "triggers": "drawdown",
        "reasons": "drawdown 29% exceeds max_drawdown 20%",
        "equity": 71.0,
        "equity_peak": 100.0,
        "decided_at": NOW,
    }
    with lake.transaction("a drawdown halt") as txn:
        txn.append(schemas.TRADING_STATE, schemas.TRADING_STATE.frame([row]))
    assert control(lake, "resume", 1).recorded
    assert not control(lake, "resume", 2).recorded  # the resume came after the halt began
