"""`quantlake status`, `halt`, `resume` and `explain` (no id) as a person sees them, through
typer's CliRunner on a temporary lakehouse, at 80 and 160 columns."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quantlake.cli import app
from warehouse import schemas
from warehouse.lake import Lakehouse

runner = CliRunner()
T0 = dt.datetime(2026, 11, 24, 1, tzinfo=dt.UTC)
HOSTILE = "[/x] [bold]loud[/bold] [link=https://e.vil]click[/link]"
LONG_ID = "ql-momentum-20261123-BRK_B_LONGNAME-increase-a1b2c3"  # 48 characters


def cli(*args: str, data_dir: Path, width: int = 160):
    result = runner.invoke(
        app, [*args, "--data-dir", str(data_dir)], env={"COLUMNS": str(width), "USER": "tester"}
    )
    lines = result.output.splitlines()
    assert not lines or max(len(line) for line in lines) <= width, result.output
    return result


def said(result) -> str:  # noqa: ANN001 - typer's Result
    return " ".join(result.output.split())


def state_row(state: str, *, run_id: str, at: dt.datetime, **kw: object) -> dict[str, object]:
    return {
        "run_id": run_id,
        "broker": "paper",
        "session": at.date() - dt.timedelta(days=1),
        "state": state,
        "since": at,
        "triggers": kw.get("triggers", ""),
        "reasons": kw.get("reasons", ""),
        "equity": 100_000.0,
        "equity_peak": 140_000.0,
        "decided_at": at,
    }


def add(lake: Lakehouse, dataset: schemas.Dataset, rows: list[dict[str, object]]) -> None:
    with lake.transaction("test rows") as txn:
        txn.append(dataset, dataset.frame(rows))


@pytest.mark.parametrize("width", [80, 160])
def test_status_shows_a_drawdown_halt_with_why_who_and_when(
    lake: Lakehouse, tmp_path: Path, width: int
) -> None:
    reasons = "drawdown 29.0% from the peak exceeds the 20.0% limit"
    add(lake, schemas.TRADING_STATE, [
        state_row("active", run_id="run-a", at=T0 - dt.timedelta(days=1)),
        state_row("halted", run_id="run-b", at=T0, triggers="drawdown", reasons=reasons),
    ])  # fmt: skip
    batch = {
        "batch_id": "simulator-7bf193507837bfff",
        "source": "simulator",
        "ingested_at": T0,
        "last_session": dt.date(2026, 11, 23),
        "rows_in": 1860,
        "rows_quarantined": 194,
        "status": "failed",
    }
    add(lake, schemas.BATCHES, [batch])
    result = cli("status", data_dir=tmp_path, width=width)
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if batch["batch_id"] in line)
    assert "2026-11-23" in row and "1,860 / 194" in row and "failed" in row
    text = said(result)
    assert "state HALTED since 2026-11-24 01:00 UTC" in text
    assert f"why {reasons}" in text
    assert "trade run run-b (paper) for session 2026-11-23" in text
    assert "kill switch never used" in text
    assert "no new orders until `quantlake resume --by NAME --reason WHY`" in text


@pytest.mark.parametrize("width", [80, 160])
def test_halt_then_status_then_two_resumes_the_second_records_nothing(
    lake: Lakehouse, tmp_path: Path, width: int
) -> None:
    add(lake, schemas.TRADING_STATE, [state_row("active", run_id="run-a", at=T0)])
    halted = cli("halt", "--reason", HOSTILE, "--by", "[red]eve", data_dir=tmp_path, width=width)
    assert halted.exit_code == 0, halted.output
    assert f"halt recorded: by [red]eve: {HOSTILE}" in said(halted)  # data, never markup

    status = said(cli("status", data_dir=tmp_path, width=width))
    assert "state HALTED (kill switch on; the next trade run sends nothing)" in status
    assert "kill switch ON: halted by [red]eve at" in status and HOSTILE in status

    first = cli("resume", "--reason", "reviewed [ok]", data_dir=tmp_path, width=width)
    assert first.exit_code == 0 and "resume recorded: by tester: reviewed [ok]" in said(first)
    assert "kill switch off: resumed by tester" in said(cli("status", data_dir=tmp_path))

    second = cli("resume", "--reason", "again", data_dir=tmp_path, width=width)
    assert second.exit_code == 0, second.output
    assert "nothing is halted; nothing recorded (the book is ACTIVE)" in said(second)
    actions = lake.read(schemas.TRADING_CONTROLS, order_by='"at"').get_column("action")
    assert actions.to_list() == ["halt", "resume"]


def test_a_resume_after_a_drawdown_halt_is_recorded_once(lake: Lakehouse, tmp_path: Path) -> None:
    add(lake, schemas.TRADING_STATE, [state_row("halted", run_id="run-b", at=T0)])
    assert "resume recorded" in said(cli("resume", "--reason", "peak reviewed", data_dir=tmp_path))
    again = said(cli("resume", "--reason", "again", data_dir=tmp_path))
    assert "nothing is halted; nothing recorded (a resume by tester at" in again
    assert "the next trade run lifts the halt" in again
    assert lake.count(schemas.TRADING_CONTROLS) == 1


def order(cid: str, symbol: str, status: str, minutes: int) -> dict[str, object]:
    return {
        "client_order_id": cid,
        "broker": "paper",
        "strategy": "momentum",
        "session": dt.date(2026, 11, 23),
        "symbol": symbol,
        "side": "sell",
        "qty": 12.0,
        "status": status,
        "submitted_at": T0 + dt.timedelta(minutes=minutes),
    }


def decision(cid: str, run_id: str, minutes: int) -> dict[str, object]:
    return {
        "run_id": run_id,
        "session": dt.date(2026, 11, 23),
        "subject": cid,
        "decision": "submitted",
        "reason": "sell 12 BRK.B: broker status accepted",
        "decided_at": T0 + dt.timedelta(minutes=minutes),
    }


@pytest.mark.parametrize("width", [80, 160])
def test_explain_lists_each_order_once_with_its_whole_id(
    lake: Lakehouse, tmp_path: Path, width: int
) -> None:
    short = "ql-momentum-20261123-AAPL-increase-d4e5f6"
    add(
        lake, schemas.ORDERS, [order(LONG_ID, "BRK.B", "filled", 1), order(short, "AAPL", "new", 2)]
    )
    # The first run submitted it, the second re-drove it: two decisions about one order.
    add(
        lake, schemas.RISK_DECISIONS, [decision(LONG_ID, "run-1", 1), decision(LONG_ID, "run-2", 9)]
    )
    result = cli("explain", data_dir=tmp_path, width=width)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert sum(LONG_ID in line for line in lines) == 1  # whole, once
    assert sum(short in line for line in lines) == 1
    assert "…" not in result.output
    assert "2026-11-23 sell 12 BRK.B: filled (2 runs decided it)" in said(result)
    assert "2026-11-23 sell 12 AAPL: new" in said(result)
    assert said(result).index(short) < said(result).index(LONG_ID)  # newest first
