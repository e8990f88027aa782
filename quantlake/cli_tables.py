"""The table shapes the CLI's summaries share. Data is always literal text, never rich markup.

A symbol, a rule's detail, a file name or an exception's message may hold square brackets
(a date cell ``[/x]``): passed to rich as a markup string it would crash the command
(MarkupError) after its work was committed, or silently lose the bracketed part. Cells built
here are ``rich.text.Text``, which rich prints as it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

Cell = str | Text | None


def cell(value: Any, style: str = "") -> Text:
    """Return ``value`` as literal text ("-" for None); a Text passes through unchanged."""
    if isinstance(value, Text):
        return value
    return Text("-" if value is None else str(value), style=style)


def kv_table(title: str, rows: Iterable[tuple[str, Any]]) -> Table:
    """Return a two-column key/value table; values print as literal text."""
    table = Table(
        title=Text(title, style="italic"),
        show_header=False,
        title_justify="left",
        box=None,
        pad_edge=False,
    )
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column(overflow="fold")
    for key, value in rows:
        table.add_row(Text(key), cell(value))
    return table


def grid(title: str, columns: Iterable[str], *, right: Iterable[str] = ()) -> Table:
    """Return an empty table with these columns (``right`` ones right-aligned, unwrapped)."""
    table = Table(
        title=Text(title, style="italic"), title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False
    )
    aligned = set(right)
    for name in columns:
        if name in aligned:
            table.add_column(name, justify="right", no_wrap=True)
        else:
            table.add_column(name)
    return table


STATE_STYLES = {"active": "green", "reducing": "yellow", "halted": "bold red"}


def state_text(state: str | None) -> Text:
    """Return a trading state as ACTIVE / REDUCING / HALTED, coloured."""
    if not state:
        return Text("-")
    return Text(state.upper(), style=STATE_STYLES.get(state.lower(), ""))
