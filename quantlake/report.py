"""Readable summaries for the terminal (rich): ingest, assets, positions, timings, status.

Every value that comes from data is literal text (quantlake/cli_tables.py), never markup.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from quantlake.cli_tables import cell, grid, kv_table
from quantlake.cli_trade_views import positions_table, trade_parts
from quantlake.cycle import CycleResult


def ingest_table(ingest: Any) -> Table:
    """Return a daily-bars ingest summary: received = passed + quarantined + skipped, paths."""
    rules = ", ".join(f"{n} {r}" for r, n in ingest.quarantined_by_rule.items()) or "none"
    skipped = ", ".join(f"{n} {r}" for r, n in ingest.skipped_by_reason.items()) or "none"
    sessions = f"{ingest.first_session} .. {ingest.last_session}" if ingest.first_session else None
    rows = [
        ("source", ingest.source),
        ("status", ingest.status),
        ("batch", ingest.batch_id),
        ("sessions", sessions),
        ("rows received", f"{ingest.rows_received:,}"),
        ("rows loaded", f"{ingest.rows_passed:,} passed to curated"),
        ("quarantined", f"{ingest.rows_quarantined:,} rows ({rules})"),
        ("skipped", f"{ingest.rows_skipped:,} rows ({skipped})"),
        ("validation", ingest.validation),
        ("data docs", ingest.docs_path),
        ("quality report", ingest.quality_report),
    ]
    rows += [("warning", f"{n:,} rows: {rule}") for rule, n in ingest.warnings.items() if n]
    rows += [("rejected input", r) for r in ingest.rejections]
    return kv_table("Ingest (Prefect)", rows)


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
    return kv_table(f"Ingest {dataset} (Prefect)", rows)


def assets_table(assets: dict[str, Any]) -> Table:
    """Return what the Dagster assets did, one line each."""
    return kv_table("Assets (Dagster)", list(assets.items()))


def timings_table(timings: dict[str, float]) -> Table:
    """Return the seconds each stage took, and the total."""
    table = grid("Elapsed", ("stage", "seconds"), right=("seconds",))
    for stage, seconds in timings.items():
        table.add_row(cell(stage), f"{seconds:.1f}")
    table.add_row(Text("total", style="bold"), Text(f"{sum(timings.values()):.1f}", style="bold"))
    return table


def print_cycle(console: Console, result: CycleResult) -> None:
    """Print the summary of one `quantlake run`."""
    parts: list[Any] = [ingest_table(result.ingest), assets_table(result.assets)]
    parts += trade_parts(result)
    if result.trade is not None and result.trade.positions:
        parts.append(positions_table(result.trade))
    parts.append(timings_table(result.timings))
    console.print(Panel(Group(*parts), title="quantlake run", expand=False))


def print_status(console: Console, status: pl.DataFrame, *, snapshot: int) -> None:
    """Print what is in the lakehouse and when each dataset last changed."""
    columns = ("dataset", "rows", "last snapshot", "last updated (UTC)")
    table = grid(f"Lakehouse (snapshot {snapshot})", columns, right=("rows", "last snapshot"))
    for row in status.iter_rows(named=True):
        when = row["last_updated"].strftime("%Y-%m-%d %H:%M:%S") if row["last_updated"] else "never"
        table.add_row(
            cell(row["dataset"]), f"{row['rows']:,}", cell(row["last_snapshot"] or "-"), when
        )
    console.print(table)


def print_batches(console: Console, batches: pl.DataFrame) -> None:
    """Print the latest ingested batches and their validation status (batch ids name their
    source and are never cut)."""
    table = grid("Latest batches (rows: in / quarantined)", ())
    table.add_column("batch", no_wrap=True)
    table.add_column("to session", no_wrap=True)
    table.add_column("rows", justify="right", no_wrap=True)
    table.add_column("checks", no_wrap=True)
    table.add_column("ingested (UTC)")
    for b in batches.iter_rows(named=True):
        style = "green" if b["status"] == "passed" else "bold red"
        table.add_row(
            cell(b["batch_id"]),
            cell(b["last_session"]),
            f"{b['rows_in']:,} / {b['rows_quarantined']:,}",
            cell(b["status"], style),
            b["ingested_at"].strftime("%Y-%m-%d %H:%M"),
        )
    console.print(table)
