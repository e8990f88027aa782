"""`quantlake quality`: show a run's data quality report in the terminal (rich tables)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape as esc

from quantlake import cli_freshness
from quantlake.cli_errors import new_app
from quantlake.cli_quality_tables import COLOURS, source_table, symbols_table
from quantlake.cli_settings import settings_or_exit
from quantlake.settings import Settings

if TYPE_CHECKING:
    from flows.quality.report import QualityReport


app = new_app(
    help=(
        "Show the data quality report of an ingest run, or how fresh the data is.\n\n"
        "Per source the rows in, passed and "
        "quarantined (by rule), conflicting values, missing sessions, unadjusted splits found "
        "in curated bars and how fresh the data was (per source: fresh or stale, against the "
        "latest data there should have been); then the symbols, problems first; then the path "
        "of the report's HTML page. Without --run: the latest report. With --freshness: how "
        "fresh every source in the lakehouse is now, without a report."
    ),
)
console = Console()


def _settings(data_dir: Path | None) -> Settings:
    return settings_or_exit(console, data_dir, prepare=False)


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
    freshness: Annotated[
        bool,
        typer.Option(
            "--freshness",
            help="Instead of a report: how fresh every source and dataset in the lakehouse is "
            "now (or at --now), and which symbols or series are not.",
        ),
    ] = False,
    now: Annotated[
        dt.datetime | None,
        typer.Option("--now", help="With --freshness: judge at this instant (UTC). Default: now."),
    ] = None,
) -> None:
    """Print a quality report: sources, then symbols (problems first), then the HTML path."""
    settings = _settings(data_dir)
    if freshness:
        at = dt.datetime.now(dt.UTC) if now is None else _utc(now)
        _show_freshness(settings, now=at, source=source, all_symbols=all_symbols)
        return
    if now is not None:
        console.print("[bold red]--now goes with --freshness[/] (a report is as of its run)")
        raise typer.Exit(2)
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
    verdicts = cli_freshness.stored_rows(report.sources.iter_rows(named=True), report.details)
    if verdicts:
        title = f"Freshness at {report.created_at:%Y-%m-%d %H:%M} UTC (when the report was built)"
        console.print(cli_freshness.freshness_table(title, verdicts, name="source"))
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


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _show_freshness(
    settings: Settings, *, now: dt.datetime, source: str | None, all_symbols: bool
) -> None:
    from warehouse.lake import Lakehouse

    _require_lakehouse(settings)
    with Lakehouse(settings.lake_dir, catalog=settings.catalog) as lake:
        cli_freshness.show_current(
            console, lake, settings, now=now, source=source, all_symbols=all_symbols
        )


def _require_lakehouse(settings: Settings) -> None:
    if not (settings.lake_dir / "catalog.sqlite").exists() and settings.catalog == "sqlite":
        console.print(
            f"[bold red]No lakehouse at {esc(str(settings.lake_dir))}[/]: run `quantlake ingest` "
            "first, or point --data-dir at the data folder."
        )
        raise typer.Exit(1)


def _load(settings: Settings, run: str | None) -> QualityReport:
    from flows.quality.report import NoQualityReport, load_quality_report, recent_runs
    from warehouse.lake import Lakehouse

    _require_lakehouse(settings)
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


def _print_html(settings: Settings, report: QualityReport) -> None:
    from flows.quality.report import report_path

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
