"""`quantlake backfill`: load daily-bar history in chunks, or re-request missing sessions.

Registered by quantlake/cli.py as ``app.command("backfill", help=cli_backfill.HELP)(backfill)``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from rich import box
from rich.console import Console
from rich.markup import escape as esc
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from quantlake.cli_settings import settings_or_exit

if TYPE_CHECKING:
    from flows.backfill.flow import BackfillSummary
    from flows.backfill.gaps import GapFillSummary
    from flows.backfill.window import Progress as ProgressCallback
    from flows.backfill.window import WindowOutcome

HELP = (
    "Load daily-bar history in chunks, or re-request the sessions missing from it.\n\n"
    "[bold]quantlake backfill --start 2015-01-02 --end 2018-12-31 --source alpaca[/] splits "
    "the range into chunks of --chunk-sessions exchange sessions and ingests each as its own "
    "validated batch, oldest first, with a progress bar. Interrupted or partly failed? Run "
    "the same command again: chunks already done are skipped. Backfills never make the "
    "scheduled ingest skip sessions.\n\n"
    "[bold]quantlake backfill --gaps[/] finds each symbol's missing sessions in curated bars "
    "(against the exchange calendar, between its first and last bar) and re-requests exactly "
    "those from the source, once; what the source still cannot serve (a halted stock) is "
    "listed as still missing.\n\n"
    "The file source cannot serve windows: load files with `quantlake ingest --source file`. "
    "Exit codes: 0 done, 1 chunks or requests failed (the message says what to do), 2 bad "
    "arguments or configuration."
)
console = Console()
COLOURS = {"loaded": "green", "already_loaded": "green", "skipped": "dim", "empty": "yellow"}
COLOURS |= {"failed": "bold red", "invalid": "bold red"}


def backfill(
    start: Annotated[
        dt.datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            metavar="YYYY-MM-DD",
            help="First session to load (required without --gaps; with --gaps: where to look).",
        ),
    ] = None,
    end: Annotated[
        dt.datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"],
            metavar="YYYY-MM-DD",
            help="Last session to load. Default: the last completed session.",
        ),
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="simulator | alpaca. Default: $QUANTLAKE_SOURCE.")
    ] = None,
    chunk_sessions: Annotated[
        int, typer.Option(min=1, help="Exchange sessions per chunk (calendar days on 24/7).")
    ] = 63,
    symbols: Annotated[
        str | None,
        typer.Option(help="Comma-separated symbols, e.g. AAPL,MSFT. Default: $QUANTLAKE_SYMBOLS."),
    ] = None,
    gaps: Annotated[
        bool,
        typer.Option("--gaps", help="Re-request the sessions missing from curated bars instead."),
    ] = False,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Data folder. Default: $QUANTLAKE_DATA_DIR or ./data"),
    ] = None,
    now: Annotated[
        dt.datetime | None,
        typer.Option(
            help="Pretend the clock reads this UTC instant (replays, tests).",
            formats=["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"],
        ),
    ] = None,
) -> None:
    """Backfill [--start, --end] of --source in chunks, or with --gaps re-request missing
    sessions; print a summary."""
    settings_or_exit(console, data_dir)
    wanted = tuple(s.strip() for s in symbols.split(",") if s.strip()) if symbols else None
    first, last = (d.date() if d else None for d in (start, end))
    clock = (now.replace(tzinfo=dt.UTC) if now.tzinfo is None else now) if now else None
    from flows.backfill.window import WindowRequestError

    try:
        if gaps:
            _gaps(source, wanted, first, last, clock)
        elif first is None:
            console.print("[bold red]--start is required[/] (or pass --gaps); see --help")
            raise typer.Exit(2)
        else:
            _backfill(source, first, last, chunk_sessions, wanted, clock)
    except (WindowRequestError, ValidationError) as exc:
        console.print(f"[bold red]Cannot run this request[/]: {esc(str(exc))}")
        raise typer.Exit(2) from exc


def _bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[last]}"),
        console=console,
        transient=True,
    )


def _on_progress(progress: Progress, label: str) -> ProgressCallback:
    """Return the flow's progress callback: one bar over the windows, the last one named."""
    task: list[int] = []

    def update(done: int, total: int, outcome: WindowOutcome | None) -> None:
        if not task:
            task.append(progress.add_task(label, total=total, last=""))
        last = f"{outcome.window.label()}: {outcome.status}" if outcome else ""
        progress.update(task[0], completed=done, total=total, last=esc(last))

    return update


def _backfill(
    source: str | None,
    start: dt.date,
    end: dt.date | None,
    chunk_sessions: int,
    symbols: tuple[str, ...] | None,
    now: dt.datetime | None,
) -> None:
    from flows.backfill.flow import BackfillFailed, backfill_flow, problems_message

    with _bar() as progress:
        try:
            summary = backfill_flow(
                source,
                start,
                end,
                chunk_sessions=chunk_sessions,
                symbols=symbols,
                now=now,
                on_progress=_on_progress(progress, "Backfilling chunks"),
            )
        except BackfillFailed as exc:
            failure: BackfillFailed | None = exc
            summary = exc.summary
        else:
            failure = None
    print_backfill(summary)
    if failure is not None:
        console.print(f"[bold red]Backfill incomplete[/]: {esc(problems_message(summary))}")
        raise typer.Exit(1)


def _gaps(
    source: str | None,
    symbols: tuple[str, ...] | None,
    start: dt.date | None,
    end: dt.date | None,
    now: dt.datetime | None,
) -> None:
    from flows.backfill.gaps import GapFillFailed, gap_fill_flow

    with _bar() as progress:
        try:
            summary = gap_fill_flow(
                source,
                symbols,
                start,
                end,
                now=now,
                on_progress=_on_progress(progress, "Re-requesting gaps"),
            )
        except GapFillFailed as exc:
            failure: GapFillFailed | None = exc
            summary = exc.summary
        else:
            failure = None
    print_gaps(summary)
    if failure is not None:
        console.print(f"[bold red]Gap fill incomplete[/]: {esc(str(failure))}")
        raise typer.Exit(1)


def windows_table(title: str, outcomes: list[WindowOutcome]) -> Table:
    """Return one line per window: sessions, symbols, status, rows passed and quarantined
    (batch ids are in the quality report)."""
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("sessions", no_wrap=True)
    table.add_column("symbols", overflow="fold")
    table.add_column("status", no_wrap=True)
    table.add_column("rows", justify="right", no_wrap=True)
    table.add_column("quarantined", justify="right", no_wrap=True)
    for o in outcomes:
        w = o.window
        table.add_row(
            f"{w.first} .. {w.last}" if w.first != w.last else str(w.first),
            esc(",".join(w.symbols) or "all"),
            f"[{COLOURS.get(o.status, 'white')}]{esc(o.status)}[/]",
            f"{o.rows_passed:,}",
            f"{o.rows_quarantined:,}",
        )
    return table


def print_notes(outcomes: list[WindowOutcome]) -> None:
    """Print why each window that did not land as a passed batch did not."""
    for o in outcomes:
        if o.status in ("failed", "empty", "invalid"):
            colour = COLOURS[o.status]
            console.print(
                f"[{colour}]{o.status}[/] {esc(o.window.label())}: {esc(o.message)}",
                highlight=False,
            )


def print_backfill(summary: BackfillSummary) -> None:
    """Print the chunks that did something (skipped ones are counted), then the totals."""
    shown = [c for c in summary.chunks if c.status != "skipped"]
    if shown:
        console.print(windows_table(f"Backfill {esc(summary.source)}", shown))
        print_notes(shown)
    counts = {s: summary.count(s) for s in COLOURS if summary.count(s)}
    console.print(
        f"{esc(summary.source)} {summary.first} .. {summary.last}: {len(summary.chunks)} chunk(s) "
        f"of up to {summary.chunk_sessions} sessions: "
        + ", ".join(f"[{COLOURS[s]}]{n} {s}[/]" for s, n in counts.items()),
        highlight=False,
    )
    if summary.quality_report:
        console.print(f"Quality report: {esc(summary.quality_report)}", soft_wrap=True)


def print_gaps(summary: GapFillSummary) -> None:
    """Print what was found, requested, filled and what is still missing."""
    console.print(
        f"Checked {len(summary.symbols)} symbol(s) from {esc(summary.source)}: "
        f"{len(summary.found)} missing session(s) found, {len(summary.windows)} request(s), "
        f"{len(summary.filled)} filled, {len(summary.still_missing)} still missing",
        highlight=False,
    )
    if summary.closures:
        days = ", ".join(str(d) for d in summary.closures)
        console.print(
            f"Every symbol lacked {days}: a closure the calendar does not know, or an outage of "
            "the whole feed (requested too)",
            highlight=False,
        )
    if summary.windows:
        console.print(windows_table("Requests", summary.windows))
        print_notes(summary.windows)
    if summary.still_missing:
        listed = ", ".join(f"{s} {d}" for s, d in summary.still_missing[:20])
        more = len(summary.still_missing) - 20
        console.print(
            f"[yellow]Still missing[/]: {esc(listed)}{f' and {more} more' if more > 0 else ''}. "
            "The source has no usable bar there (a halt, or a bar that fails validation: see "
            "`quantlake quality`); load it from a file if you have one.",
            highlight=False,
        )
    if summary.quality_report:
        console.print(f"Quality report: {esc(summary.quality_report)}", soft_wrap=True)
