"""The trading commands: trade, explain, reconcile, halt and resume.

Registered by quantlake/cli.py as ``app.command(name)(cli_trade.<name>)``.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.console import Console
from rich.text import Text

from quantlake.cli_settings import DataDir, Now, settings_or_exit, utc

if TYPE_CHECKING:
    from quantlake.cli_trade_views import TradingStatus

console = Console()
Who = Annotated[str, typer.Option("--by", help="Who is doing this (recorded). Default: $USER")]
Why = Annotated[str, typer.Option("--reason", help="Why (recorded, shown to the next run).")]


def trade(data_dir: DataDir = None, now: Now = None) -> None:
    """Run only the trade flow and show what it did.

    Reconcile, gate, plan, risk-check and send orders, then show the run's summary and the
    session's orders. Stale or failed data and a stale model only let risk-reducing orders
    through (REDUCING). A HALTED book (kill switch, drawdown) plans and sends nothing and
    cancels what is working: the summary shows the state, why, and each cancel. No data at all
    refuses the run (exit code 1).
    """
    settings = settings_or_exit(console, data_dir)
    from flows.trade.flow import trade_flow
    from flows.trade.gate import TradeRefused
    from quantlake.cli_trade_views import read_trading_status, trade_parts, trading_table
    from quantlake.cycle import CycleResult
    from warehouse.lake import Lakehouse

    try:
        with console.status("Trading: reconcile, gate, plan, risk checks, orders..."):
            summary = trade_flow(now=utc(now))
    except TradeRefused as exc:
        for part in trade_parts(CycleResult(refused=str(exc))):
            console.print(part)
        raise typer.Exit(1) from exc
    for part in trade_parts(CycleResult(trade=summary)):
        console.print(part)
    if summary.status == "halted" or summary.state == "halted":
        with Lakehouse(settings.lake_dir, catalog=settings.catalog) as lake:
            console.print()
            console.print(trading_table(read_trading_status(lake, broker=settings.broker)))


def explain(
    order_id: Annotated[
        str | None, typer.Argument(help="A client order id (omit to list recent ones).")
    ] = None,
    data_dir: DataDir = None,
    limit: Annotated[int, typer.Option(help="Without ORDER_ID: list this many.", min=1)] = 20,
) -> None:
    """Explain an order, or list the recent ones.

    Prediction -> model -> features -> bars -> data batches and validation, each read as of
    the lakehouse snapshot the decision actually saw.

    Without ORDER_ID: the latest orders, one line each, ids in full (copy one into
    `quantlake explain ID`), with the latest status and how many trade runs decided each."""
    settings = settings_or_exit(console, data_dir)
    from flows.trade.provenance import UnknownOrder, explain_order
    from flows.trade.views import render_explanation
    from quantlake.cli_trade_views import collapse_decisions, recent_orders_table
    from warehouse.lake import Lakehouse

    with Lakehouse(settings.lake_dir, catalog=settings.catalog) as lake:
        if order_id is None:
            console.print(recent_orders_table(lake, limit=limit))
            return
        try:
            explanation = explain_order(lake, order_id)
        except UnknownOrder as exc:
            console.print(Text(str(exc)))
            raise typer.Exit(1) from exc
    console.print(render_explanation(collapse_decisions(explanation)))


def reconcile(data_dir: DataDir = None, now: Now = None) -> None:
    """Compare positions and open orders with the broker; exit 1 on differences.

    The broker is authoritative. Differences are recorded and shown; exits 1 when anything is
    unresolved.
    """
    settings = settings_or_exit(console, data_dir)
    from flows.brokers.select import build_broker
    from flows.trade.reconcile import reconcile as run_reconcile
    from flows.trade.views import render_reconcile
    from warehouse.lake import Lakehouse

    with (
        console.status(f"Reconciling with {settings.broker}..."),
        Lakehouse(settings.lake_dir, catalog=settings.catalog) as lake,
    ):
        report = run_reconcile(
            lake, build_broker(settings, lake=lake), now=utc(now), exchange=settings.exchange
        )
    console.print(render_reconcile(report))
    if not report.clean:
        raise typer.Exit(1)


def halt(reason: Why, by: Who = "", data_dir: DataDir = None) -> None:
    """Kill switch: stop all new orders until `quantlake resume`.

    The next trade run plans and sends nothing and cancels what is working. Recorded with who
    and why; `quantlake status` shows it.
    """
    _control("halt", by=by, reason=reason, data_dir=data_dir)


def resume(reason: Why, by: Who = "", data_dir: DataDir = None) -> None:
    """Lift a halt: the kill switch, or a drawdown halt.

    Recorded with who and why; the next trade run trades again. When nothing is halted,
    nothing is recorded.
    """
    _control("resume", by=by, reason=reason, data_dir=data_dir)


def _control(
    action: Literal["halt", "resume"], *, by: str, reason: str, data_dir: Path | None
) -> None:
    settings = settings_or_exit(console, data_dir)
    by = by or os.environ.get("USER", "")
    from flows.trade.controls import record_control
    from quantlake.cli_trade_views import read_trading_status
    from warehouse.lake import Lakehouse

    with Lakehouse(settings.lake_dir, catalog=settings.catalog) as lake:
        try:
            control = record_control(
                lake, action=action, actor=by, reason=reason, now=dt.datetime.now(dt.UTC)
            )
        except ValueError as exc:
            console.print(Text(str(exc), style="bold red"))
            raise typer.Exit(2) from exc
        if not control.recorded:  # a resume with nothing halted
            console.print(_nothing_halted(read_trading_status(lake, broker=settings.broker)))
            return
    colour = "bold red" if action == "halt" else "bold green"
    console.print(
        Text.assemble((action, colour), f" recorded: by {control.actor}: {control.reason}")
    )


def _nothing_halted(status: TradingStatus) -> Text:
    text = Text.assemble(("nothing is halted; nothing recorded", "bold"))
    control = status.control
    if status.resume_pending and control is not None:
        text.append(
            f" (a resume by {control.actor} at {control.at:%Y-%m-%d %H:%M} UTC is already "
            "recorded; the next trade run lifts the halt)"
        )
    elif status.state is not None:
        text.append(f" (the book is {status.state.upper()})")
    return text
