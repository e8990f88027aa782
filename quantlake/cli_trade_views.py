"""What the trading commands show: a trade run's summary, the trading state, recent orders."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from quantlake.cli_tables import cell, grid, kv_table, state_text

if TYPE_CHECKING:
    from flows.trade.controls import Control
    from flows.trade.provenance import OrderExplanation, Row
    from quantlake.cycle import CycleResult
    from warehouse.lake import Lakehouse

RESUME = "`quantlake resume --by NAME --reason WHY`"


def _when(at: dt.datetime | None) -> str:
    return "-" if at is None else f"{at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"


@dataclass(frozen=True)
class TradingStatus:
    """The book's trading state as the lakehouse holds it: the last trade run's decision and
    the last use of the kill switch."""

    broker: str
    last: dict[str, Any] | None  # the latest trading.state row of this broker
    control: Control | None  # the latest halt or resume

    @property
    def switch_on(self) -> bool:
        """Return whether the kill switch is on (the latest control is a halt)."""
        return self.control is not None and self.control.action == "halt"

    @property
    def resume_pending(self) -> bool:
        """Return whether a resume came after the last run's halt began (the next run lifts it)."""
        return (
            self.last is not None
            and self.last["state"] == "halted"
            and self.control is not None
            and self.control.action == "resume"
            and self.control.at > self.last["since"]
        )

    @property
    def halted(self) -> bool:
        """Return whether something is halted that only a resume lifts."""
        sticky = self.last is not None and self.last["state"] == "halted"
        return self.switch_on or (sticky and not self.resume_pending)

    @property
    def state(self) -> str | None:
        """Return the state the next run starts from: HALTED while the switch is on."""
        if self.switch_on:
            return "halted"
        return None if self.last is None else str(self.last["state"])


def read_trading_status(lake: Lakehouse, *, broker: str) -> TradingStatus:
    """Return the latest trading state of ``broker`` and the latest kill-switch control."""
    from flows.trade.controls import latest_control

    rows = lake.query(
        "SELECT * FROM trading.state WHERE broker = ? ORDER BY decided_at DESC, run_id LIMIT 1",
        [broker],
    )
    last = rows.row(0, named=True) if not rows.is_empty() else None
    return TradingStatus(broker, last, latest_control(lake))


def trading_table(status: TradingStatus) -> Table:
    """Return the trading state: ACTIVE / REDUCING / HALTED, why, who, when, and what next."""
    last, control = status.last, status.control
    rows: list[tuple[str, Any]] = [("state", _state_line(status))]
    if last is not None:
        rows.append(("why", last["reasons"] or "no condition holds"))
        rows.append(
            (
                "decided by",
                f"trade run {last['run_id']} ({status.broker}) for session {last['session']}, "
                f"at {_when(last['decided_at'])}",
            )
        )
    if control is None:
        rows.append(("kill switch", "never used"))
    else:
        verb = "ON: halted" if status.switch_on else "off: resumed"
        rows.append(("kill switch", f"{verb} by {control.actor} at {_when(control.at)}: "
                                    f"{control.reason}"))  # fmt: skip
    if status.halted:
        rows.append(("next", f"no new orders until {RESUME}"))
    elif status.resume_pending:
        rows.append(("next", "resumed: the next trade run lifts the halt"))
    return kv_table("Trading", rows)


def _state_line(status: TradingStatus) -> Text:
    if status.state is None:
        return Text("no trade run yet")
    line = state_text(status.state)
    if status.switch_on and (status.last is None or status.last["state"] != "halted"):
        return line.append(" (kill switch on; the next trade run sends nothing)")
    if status.last is not None:
        line.append(f" since {_when(status.last['since'])}")
    return line


def trade_table(result: CycleResult) -> Table:
    """Return a trade run's summary; a halted run shows its state and cancels, no plan."""
    if result.refused:
        why = Text("refused", style="bold red")
        return kv_table("Trade (Prefect)", [("status", why), ("why", result.refused)])
    trade = result.trade
    if trade.status == "halted" or trade.state == "halted":
        return kv_table("Trade (Prefect)", _halted_rows(trade))
    turnover = f"{trade.turnover:.1%} of equity" if trade.turnover is not None else None
    rows = [
        ("session", trade.session),
        ("status", trade.status),
        ("trading state", state_text(trade.state)),
        ("gate", trade.reason),
        ("reconciliation", trade.reconciliation),
        ("model", trade.model_version),
        ("turnover", turnover),
        ("orders", f"{trade.orders_sent} sent now, {trade.planned} planned for this session"),
        *_cancelled_line(trade),
        ("cash", _money(trade.cash)),
        ("equity", _money(trade.equity)),
    ]
    rows += [("construction", note) for note in trade.notes]
    return kv_table("Trade (Prefect)", rows)


def _halted_rows(trade: Any) -> list[tuple[str, Any]]:
    why = "; ".join(trade.state_reasons) or trade.reason
    return [
        ("session", trade.session),
        ("status", Text("HALTED: nothing planned, nothing sent", style="bold red")),
        ("why", why),
        ("reconciliation", trade.reconciliation),
        *(_cancelled_line(trade) or [("cancelled", "no order was working")]),
        ("cash", _money(trade.cash)),
        ("equity", _money(trade.equity)),
        ("next", f"no new orders until {RESUME}"),
    ]


def _cancelled_line(trade: Any) -> list[tuple[str, Any]]:
    n = len(trade.cancelled)
    return [("cancelled", f"{n} working order(s); listed below")] if n else []


def _money(value: float | None) -> str | None:
    return None if value is None else f"{value:,.2f}"


def orders_table(trade: Any) -> Table:
    """Return the session's orders: symbol, side, quantity, status, fill price."""
    table = grid(
        "Orders", ("symbol", "side", "qty", "status", "fill price"), right=("qty", "fill price")
    )
    for o in trade.orders:
        price = f"{o['price']:,.2f}" if o.get("price") else "-"
        table.add_row(cell(o["symbol"]), cell(o["side"]), f"{o['qty']:g}", cell(o["status"]), price)
    return table


def cancelled_table(trade: Any) -> Table:
    """Return the orders the run cancelled, ids whole, each with why."""
    rows = [
        (
            c["client_order_id"],
            f"{c['side']} {c['qty']:g} {c['symbol']} ({c['filled_qty']:g} filled), now "
            f"{c['status']}: {c['reason']}",
        )
        for c in trade.cancelled
    ]
    return _id_table("Cancelled", "order", rows)


def trade_parts(result: CycleResult) -> list[RenderableType]:
    """Return the trade summary, then its orders and cancels (a halted run lists no orders)."""
    parts: list[RenderableType] = [trade_table(result)]
    trade = result.trade
    if trade is None:
        return parts
    if trade.orders and trade.status != "halted" and trade.state != "halted":
        parts.append(orders_table(trade))
    if trade.cancelled:
        parts.append(cancelled_table(trade))
    return parts


def _id_table(title: str, what: str, rows: list[tuple[str, str]]) -> Table:
    """Return rows of (order id, description): ids never cut or folded, so they copy whole."""
    table = grid(title, ())
    width = max((len(i) for i, _ in rows), default=8)
    table.add_column("order id", no_wrap=True, min_width=width)
    table.add_column(what, overflow="fold")
    for order_id, text in rows:
        table.add_row(Text(order_id), Text(text))
    return table


def recent_orders_table(lake: Lakehouse, *, limit: int) -> Table:
    """Return the latest orders, one row per order id with its latest status and how many
    trade-run decisions it has (a re-driven order has one per run)."""
    orders = lake.query(
        "SELECT o.client_order_id, arg_max(o.session, o.submitted_at) AS session, "
        "arg_max(o.symbol, o.submitted_at) AS symbol, arg_max(o.side, o.submitted_at) AS side, "
        "arg_max(o.qty, o.submitted_at) AS qty, arg_max(o.status, o.submitted_at) AS status, "
        "max(o.submitted_at) AS submitted_at, "
        "(SELECT count(*) FROM trading.risk_decisions d "
        " WHERE d.subject = o.client_order_id) AS decisions "
        "FROM trading.orders o GROUP BY o.client_order_id "
        "ORDER BY submitted_at DESC NULLS LAST, o.client_order_id LIMIT ?",
        [limit],
    )
    rows = []
    for o in orders.iter_rows(named=True):
        runs = f" ({o['decisions']} runs decided it)" if o["decisions"] > 1 else ""
        text = f"{o['session']} {o['side']} {o['qty']:g} {o['symbol']}: {o['status']}{runs}"
        rows.append((o["client_order_id"], text))
    return _id_table("Recent orders (newest first; `quantlake explain ID`)", "order", rows)


def collapse_decisions(expl: OrderExplanation) -> OrderExplanation:
    """Return the explanation with one decision per subject: the latest, saying how many runs
    decided it (a re-driven order is decided again by every run; the history is in
    trading.risk_decisions)."""
    return replace(expl, decisions=_latest(expl.decisions), gate=_latest(expl.gate))


def _latest(decisions: tuple[Row, ...]) -> tuple[Row, ...]:
    by_subject: dict[str, list[Row]] = {}
    for d in decisions:  # ordered by decided_at
        by_subject.setdefault(d["subject"], []).append(d)
    latest = []
    for found in by_subject.values():
        last = found[-1]
        if len(found) > 1:
            runs = ", ".join(str(d["run_id"]) for d in found[:-1])
            said = f"{last['reason']} (latest of {len(found)} decisions; earlier runs {runs})"
            last = {**last, "reason": said}
        latest.append(last)
    return tuple(sorted(latest, key=lambda d: d["decided_at"]))


def positions_table(trade: Any) -> Table:
    """Return the positions after the run: quantity, average and market price, value."""
    columns = ("symbol", "qty", "avg price", "market price", "value")
    table = grid("Positions", columns, right=columns[1:])
    for p in trade.positions:
        mp = p.get("market_price") or p["avg_price"]
        table.add_row(
            cell(p["symbol"]),
            f"{p['qty']:g}",
            f"{p['avg_price']:,.2f}",
            f"{mp:,.2f}",
            f"{p['qty'] * mp:,.0f}",
        )
    return table
