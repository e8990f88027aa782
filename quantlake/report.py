"""Readable summaries for the terminal (rich)."""

from __future__ import annotations

from typing import Any

import polars as pl
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table

from quantlake.cycle import CycleResult


def _kv(title: str, rows: list[tuple[str, Any]]) -> Table:
    table = Table(title=title, show_header=False, title_justify="left", box=None, pad_edge=False)
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for key, value in rows:
        table.add_row(key, "-" if value is None else str(value))
    return table


def ingest_table(ingest: Any) -> Table:
    rules = ", ".join(f"{n} {r}" for r, n in ingest.quarantined_by_rule.items()) or "none"
    rows = [
        ("source", ingest.source),
        ("status", ingest.status),
        ("batch", ingest.batch_id),
        (
            "sessions",
            f"{ingest.first_session} .. {ingest.last_session}" if ingest.first_session else None,
        ),
        ("rows loaded", f"{ingest.rows_passed:,} of {ingest.rows_in:,}"),
        ("quarantined", f"{ingest.rows_quarantined:,} rows ({rules})"),
        ("validation", ingest.validation),
        ("data docs", ingest.docs_path),
        ("quality report", ingest.quality_report),
    ]
    rows += [("rejected input", r) for r in ingest.rejections]
    return _kv("Ingest (Prefect)", rows)


def summary_table(dataset: str, summary: Any) -> Table:
    """Return any ingest summary (macro, news, minute) as a key-value table, empty fields out."""
    rows: list[tuple[str, Any]] = []
    for key, value in summary.as_dict().items():
        if value in (None, "", [], {}):
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{n} {k}" for k, n in value.items())
        if isinstance(value, list):
            rows += [(key.replace("_", " "), item) for item in value[:10]]
            continue
        rows.append((key.replace("_", " "), value))
    return _kv(f"Ingest {dataset} (Prefect)", rows)


def assets_table(assets: dict[str, Any]) -> Table:
    return _kv("Assets (Dagster)", [(k, v) for k, v in assets.items()])


def trade_table(result: CycleResult) -> Table:
    if result.refused:
        return _kv("Trade (Prefect)", [("status", "[bold red]refused[/]"), ("why", result.refused)])
    trade = result.trade
    rows = [
        ("session", trade.session),
        ("status", trade.status),
        ("trading state", _state(trade.state)),
        ("gate", trade.reason),
        ("reconciliation", trade.reconciliation),
        ("model", trade.model_version),
        ("turnover", f"{trade.turnover:.1%} of equity" if trade.turnover is not None else None),
        ("orders sent", f"{trade.orders_sent} new, {len(trade.orders)} planned for this session"),
        ("cash", f"{trade.cash:,.2f}"),
        ("equity", f"{trade.equity:,.2f}"),
    ]
    rows += [("construction", note) for note in trade.notes]
    return _kv("Trade (Prefect)", rows)


def _state(state: str | None) -> str | None:
    colour = {"active": "green", "reducing": "yellow", "halted": "bold red"}.get(state or "")
    return f"[{colour}]{state}[/]" if colour else state


def orders_table(trade: Any) -> Table:
    table = Table(title="Orders", title_justify="left")
    for col in ("symbol", "side", "qty", "status", "fill price"):
        table.add_column(col, justify="right" if col in ("qty", "fill price") else "left")
    for o in trade.orders:
        price = f"{o['price']:,.2f}" if o["price"] else "-"
        table.add_row(o["symbol"], o["side"], f"{o['qty']:g}", o["status"], price)
    return table


def positions_table(trade: Any) -> Table:
    table = Table(title="Positions", title_justify="left")
    for col in ("symbol", "qty", "avg price", "market price", "value"):
        table.add_column(col, justify="left" if col == "symbol" else "right")
    for p in trade.positions:
        mp = p.get("market_price") or p["avg_price"]
        table.add_row(
            p["symbol"],
            f"{p['qty']:g}",
            f"{p['avg_price']:,.2f}",
            f"{mp:,.2f}",
            f"{p['qty'] * mp:,.0f}",
        )
    return table


def timings_table(timings: dict[str, float]) -> Table:
    table = Table(title="Elapsed", title_justify="left")
    table.add_column("stage")
    table.add_column("seconds", justify="right")
    for stage, seconds in timings.items():
        table.add_row(stage, f"{seconds:.1f}")
    table.add_row("[bold]total[/]", f"[bold]{sum(timings.values()):.1f}[/]")
    return table


def print_cycle(console: Console, result: CycleResult) -> None:
    """Print the summary of one `quantlake run`."""
    parts: list[Any] = [
        ingest_table(result.ingest),
        assets_table(result.assets),
        trade_table(result),
    ]
    if result.trade is not None and result.trade.orders:
        parts.append(orders_table(result.trade))
    if result.trade is not None and result.trade.positions:
        parts.append(positions_table(result.trade))
    parts.append(timings_table(result.timings))
    console.print(Panel(Group(*parts), title="quantlake run", expand=False))


def print_status(console: Console, status: pl.DataFrame, *, snapshot: int) -> None:
    """Print what is in the lakehouse and when each dataset last changed."""
    table = Table(title=f"Lakehouse (snapshot {snapshot})", title_justify="left")
    for col in ("dataset", "rows", "last snapshot", "last updated (UTC)"):
        table.add_column(col, justify="right" if col in ("rows", "last snapshot") else "left")
    for row in status.iter_rows(named=True):
        when = row["last_updated"].strftime("%Y-%m-%d %H:%M:%S") if row["last_updated"] else "never"
        table.add_row(row["dataset"], f"{row['rows']:,}", str(row["last_snapshot"] or "-"), when)
    console.print(table)


def print_batches(console: Console, batches: pl.DataFrame) -> None:
    """Print the latest ingested batches and their validation status."""
    table = Table(title="Latest batches", title_justify="left")
    for col in (
        "source",
        "batch",
        "ingested (UTC)",
        "last session",
        "rows",
        "quarantined",
        "validation",
    ):
        table.add_column(col, justify="right" if col in ("rows", "quarantined") else "left")
    for b in batches.iter_rows(named=True):
        style = "green" if b["status"] == "passed" else "bold red"
        table.add_row(
            b["source"],
            b["batch_id"],
            b["ingested_at"].strftime("%Y-%m-%d %H:%M"),
            str(b["last_session"]),
            f"{b['rows_in']:,}",
            f"{b['rows_quarantined']:,}",
            f"[{style}]{b['status']}[/]",
        )
    console.print(table)
