"""Freshness in `quantlake quality`: the block of a stored report, and the lakehouse now."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Console
from rich.markup import escape as esc
from rich.table import Table

if TYPE_CHECKING:
    from flows.quality.freshness_report import SourceFreshness
    from quantlake.settings import Settings
    from warehouse.lake import Lakehouse

COLOURS = {"fresh": "green", "unknown": "yellow", "stale": "bold yellow"}


def freshness_table(title: str, rows: Iterable[dict[str, Any]], *, name: str) -> Table:
    """Return one line per freshness verdict (``Freshness.as_json()`` plus ``name``'s key)."""
    from flows.quality.freshness import age_text

    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for column in (name, "freshness", "latest", "known at", "expected", "behind", "age"):
        table.add_column(column, no_wrap=True, justify="right" if column == "age" else "left")
    table.add_column("why", min_width=20)
    for row in rows:
        verdict = row["verdict"]
        behind = "-" if row["behind"] is None else f"{row['behind']:,} {row['unit']}".strip()
        table.add_row(
            esc(row[name]),
            f"[{COLOURS.get(verdict, 'white')}]{esc(verdict)}[/]",
            *(esc(row[k] or "-") for k in ("latest", "latest_knowledge", "expected")),
            esc(behind),
            age_text(row["age_seconds"]),
            esc(row["reason"]),
        )
    return table


def stored_rows(sources: Iterable[dict[str, Any]], details: Any) -> list[dict[str, Any]]:
    """Return a stored report's per-source verdicts (``details`` reads a row's details)."""
    found = []
    for row in sources:
        verdict = details(row).get("freshness")
        if verdict is not None:  # reports stored before freshness verdicts have none
            found.append({**verdict, "source": f"{row['source']} / {row['dataset']}"})
    return found


def show_current(
    console: Console,
    lake: Lakehouse,
    settings: Settings,
    *,
    now: dt.datetime,
    source: str | None,
    all_symbols: bool,
) -> None:
    """Print how fresh every (source, dataset) in the lakehouse is at ``now``, then the
    subjects that are not fresh (every subject with ``all_symbols``)."""
    from flows.quality.freshness import rules_from
    from flows.quality.freshness_report import current_freshness

    found = current_freshness(lake, now=now, rules=rules_from(settings))
    if source is not None:
        found = [f for f in found if f.source == source]
    if not found:
        which = f" from source {source!r}" if source else ""
        console.print(f"No curated data{esc(which)} in the lakehouse: nothing is fresh or stale.")
        return
    title = f"Freshness at {now.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"
    console.print(freshness_table(title, [_whole(f) for f in found], name="source"))
    for one in found:
        _print_subjects(console, one, all_symbols=all_symbols)


def _whole(found: SourceFreshness) -> dict[str, Any]:
    return {**found.summary.as_json(), "source": f"{found.source} / {found.dataset}"}


def _print_subjects(console: Console, found: SourceFreshness, *, all_symbols: bool) -> None:
    if [s.subject for s in found.subjects] == ["*"]:  # news: the source line says it all
        return
    shown = [s for s in found.subjects if all_symbols or s.verdict != "fresh"]
    if shown:
        rows = [{**s.as_json(), "subject": s.subject} for s in shown]
        title = f"{found.source} / {found.dataset}: " + ("subjects" if all_symbols else "not fresh")
        console.print(freshness_table(esc(title), rows, name="subject"))
