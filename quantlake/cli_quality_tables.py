"""The tables of `quantlake quality`: a (source, dataset) total, and its symbols."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from rich import box
from rich.markup import escape as esc
from rich.table import Table

from quantlake.cli_freshness import COLOURS as FRESHNESS_COLOURS

if TYPE_CHECKING:
    import polars as pl

    from flows.quality.report import QualityReport

COLOURS = {"ok": "green", "warning": "yellow", "failed": "bold red"}


def _num(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _status(value: str) -> str:
    return f"[{COLOURS.get(value, 'white')}]{esc(value)}[/]"


def _verdict(details: str | None) -> str:
    """Return a symbol's freshness verdict, with the reason when it is not fresh."""
    found = json.loads(details or "{}").get("freshness")
    if found is None:
        return "-"
    verdict = found["verdict"]
    why = "" if verdict == "fresh" else f": {esc(found['reason'])}"
    return f"[{FRESHNESS_COLOURS.get(verdict, 'white')}]{esc(verdict)}[/]{why}"


def _rules(raw: str | None) -> str:
    rules = json.loads(raw or "{}")
    return ", ".join(f"{rule} {n:,}" for rule, n in rules.items()) or "-"


def source_table(report: QualityReport, row: dict[str, Any]) -> Table:
    """Return one (source, dataset) total as a two-column table."""
    details = report.details(row)
    status = _status(row["status"])
    name = esc(f"{row['source']} / {row['dataset']}")
    table = Table(title=f"{name}: {status}", title_justify="left",
                  show_header=False, box=None, pad_edge=False)  # fmt: skip
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    known = row["latest_knowledge_time"]
    behind = f" ({_num(row['sessions_behind'])} session(s) behind)"
    lines = [
        ("batches", ", ".join(b["batch_id"] for b in details.get("batches", [])) or "-"),
        ("rows", f"{_num(row['rows_in'])} in, {_num(row['rows_passed'])} passed, "
                 f"{_num(row['rows_quarantined'])} quarantined"),
        *_rule_lines(row, details),
        ("conflicts", _num(row["conflicts"])),
        ("gaps", _num(row["gaps"])),
        ("splits found", _num(row["splits_found"])),
        ("last session", f"{row['last_session'] or '-'}"
                         + (behind if row["sessions_behind"] is not None else "")),
        ("known at", f"{known:%Y-%m-%d %H:%M} UTC" if known else "-"),
    ]  # fmt: skip
    if fresh := details.get("freshness"):
        lines.append(("freshness", f"{fresh['verdict']}: {fresh['reason']}"))
    if details.get("closures"):
        closed = ", ".join(details["closures"])
        why = "every symbol lacks them: a closure the calendar does not know, or a feed outage"
        lines.append(("closures", f"{closed} ({why}; not counted as gaps)"))
    for key, value in lines:
        table.add_row(esc(key), esc(value))
    return table


def _rule_lines(row: dict[str, Any], details: dict[str, Any]) -> list[tuple[str, str]]:
    examples = details.get("examples", {})
    rules = json.loads(row["quarantined_by_rule"] or "{}")
    return [
        (f"  {rule}", f"{count:,} row(s), e.g. {examples.get(rule, '-')}")
        for rule, count in rules.items()
    ]


def symbols_table(title: str, rows: pl.DataFrame) -> Table:
    """Return one line per symbol row, in the order given."""
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("symbol", "status", "rows in", "quar.", "conflicts", "gaps", "splits"):
        right = name not in ("symbol", "status")
        table.add_column(name, no_wrap=True, justify="right" if right else "left")
    table.add_column("last session", no_wrap=True)
    table.add_column("behind", no_wrap=True, justify="right")
    table.add_column("freshness", min_width=12)
    table.add_column("quarantined by rule", min_width=12)
    for row in rows.iter_rows(named=True):
        table.add_row(
            esc(row["symbol"]),
            _status(row["status"]),
            *(_num(row[c]) for c in ("rows_in", "rows_quarantined", "conflicts", "gaps")),
            _num(row["splits_found"]),
            str(row["last_session"] or "-"),
            _num(row["sessions_behind"]),
            _verdict(row["details"]),
            esc(_rules(row["quarantined_by_rule"])),
        )
    return table
