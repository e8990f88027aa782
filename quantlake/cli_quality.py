"""`quantlake quality`: show a run's data quality report in the terminal (rich tables)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich import box
from rich.console import Console
from rich.markup import escape as esc
from rich.table import Table

from quantlake.settings import Settings, load_settings

if TYPE_CHECKING:
    import polars as pl

    from flows.quality_report import QualityReport


app = typer.Typer(
    help=(
        "Show the data quality report of an ingest run: per source the rows in, passed and "
        "quarantined (by rule), conflicting values, missing sessions, unadjusted splits found "
        "in curated bars and how fresh the data is; then the symbols, problems first; then the "
        "path of the report's HTML page. Without --run: the latest report."
    ),
    rich_markup_mode="rich",
)
console = Console()
COLOURS = {"ok": "green", "warning": "yellow", "failed": "bold red"}


def _settings(data_dir: Path | None) -> Settings:
    try:
        return load_settings(**({"data_dir": data_dir} if data_dir else {}))
    except ValidationError as exc:
        console.print(f"[bold red]Configuration error[/]\n{exc}")
        raise typer.Exit(2) from exc


@app.callback(invoke_without_command=True)
def show(
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Data folder. Default: $QUANTLAKE_DATA_DIR or ./data"),
    ] = None,
    run: Annotated[
        str | None, typer.Option("--run", help="The report's run id. Default: the latest.")
    ] = None,
    source: Annotated[
        str | None, typer.Option("--source", help="Only this source (e.g. file, alpaca, fred).")
    ] = None,
    all_symbols: Annotated[
        bool, typer.Option("--all-symbols", help="Also list the symbols without problems.")
    ] = False,
) -> None:
    """Print a quality report: sources, then symbols (problems first), then the HTML path."""
    settings = _settings(data_dir)
    report = _load(settings, run)
    if source is not None:
        known = sorted(set(report.rows.get_column("source")))
        if source not in known:
            console.print(
                f"[bold red]No source {esc(repr(source))} in run {esc(report.run_id)}[/]; its "
                f"sources are: {esc(', '.join(known) or 'none')}"
            )
            raise typer.Exit(1)
        report = _only(report, source)
    colour = COLOURS[report.status]
    console.print(
        f"Quality report [bold]{esc(report.run_id)}[/] built "
        f"{report.created_at:%Y-%m-%d %H:%M} UTC: [{colour}]{report.status}[/]"
    )
    if report.rows.is_empty():
        console.print("The run loaded no batch: nothing to report.")
    for row in report.sources.iter_rows(named=True):
        console.print(source_table(report, row))
        _print_symbols(report, row, all_symbols=all_symbols)
    _print_html(settings, report)


def _print_symbols(report: QualityReport, source: dict[str, Any], *, all_symbols: bool) -> None:
    """Print a (source, dataset)'s symbols (problems first), then its detected splits."""
    import polars as pl

    mine = report.symbols.filter(
        (pl.col("source") == source["source"]) & (pl.col("dataset") == source["dataset"])
    )
    shown = mine if all_symbols else mine.filter(pl.col("status") != "ok")
    if not shown.is_empty():
        console.print(symbols_table("Symbols (problems first)", shown))
    if hidden := mine.height - shown.height:
        console.print(f"{hidden} symbol(s) without problems not shown (--all-symbols lists them)")
    for row in shown.iter_rows(named=True):
        for split in report.details(row).get("splits", []):
            console.print(
                f"[yellow]split[/] {esc(row['symbol'])} {split['session']} {split['label']}: "
                f"{esc(split['evidence'])}",
                highlight=False,
            )
    console.print()


def _load(settings: Settings, run: str | None) -> QualityReport:
    from flows.quality_report import NoQualityReport, load_quality_report, recent_runs
    from warehouse.lake import Lakehouse

    if not (settings.lake_dir / "catalog.sqlite").exists() and settings.catalog == "sqlite":
        console.print(
            f"[bold red]No lakehouse at {esc(str(settings.lake_dir))}[/]: run `quantlake ingest` "
            "first, or point --data-dir at the data folder."
        )
        raise typer.Exit(1)
    with Lakehouse(settings.lake_dir, catalog=settings.catalog) as lake:
        try:
            return load_quality_report(lake, run_id=run)
        except NoQualityReport as exc:
            console.print(f"[bold red]{esc(str(exc))}[/]")
            runs = recent_runs(lake)
            if not runs.is_empty():
                console.print("Recent runs: " + esc(", ".join(runs.get_column("run_id"))))
            raise typer.Exit(1) from exc


def _only(report: QualityReport, source: str) -> QualityReport:
    import polars as pl

    return replace(report, rows=report.rows.filter(pl.col("source") == source))


def _num(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _status(value: str) -> str:
    return f"[{COLOURS.get(value, 'white')}]{value}[/]"


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
    table.add_column("quarantined by rule", min_width=12)
    for row in rows.iter_rows(named=True):
        table.add_row(
            esc(row["symbol"]),
            _status(row["status"]),
            *(_num(row[c]) for c in ("rows_in", "rows_quarantined", "conflicts", "gaps")),
            _num(row["splits_found"]),
            str(row["last_session"] or "-"),
            _num(row["sessions_behind"]),
            esc(_rules(row["quarantined_by_rule"])),
        )
    return table


def _print_html(settings: Settings, report: QualityReport) -> None:
    from flows.quality_report import report_path

    path = report_path(settings.data_dir / "reports", report.run_id)
    if path.exists():
        console.print(f"HTML report: {esc(str(path))}", highlight=False, soft_wrap=True)
    else:
        console.print(
            f"HTML report: not found at {esc(str(path))} (the ingest run writes it when it builds "
            "the report)",
            highlight=False,
            soft_wrap=True,
        )


if __name__ == "__main__":
    app()
