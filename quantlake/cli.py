"""The `quantlake` command line."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from quantlake import cli_backfill, cli_models, cli_quality
from quantlake.cli_settings import settings_or_exit
from quantlake.settings import Settings

app = typer.Typer(
    help=(
        "quantlake: systematic trading as governed data pipelines.\n\n"
        "Prefect flows ingest and validate daily bars into a DuckLake lakehouse, Dagster assets "
        "compute features, train a model and publish predictions, and a Prefect trade flow "
        "places orders through a broker (paper by default). Configure with QUANTLAKE_* "
        "environment variables or a .env file (see README)."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(cli_quality.app, name="quality")
app.add_typer(cli_models.app, name="models")
app.command("backfill", help=cli_backfill.HELP)(cli_backfill.backfill)
console = Console()

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Data folder (lakehouse, Data Docs, Prefect/Dagster homes). "
        "Default: $QUANTLAKE_DATA_DIR or ./data",
    ),
]
Now = Annotated[
    dt.datetime | None,
    typer.Option(
        "--now",
        help="Pretend the clock reads this UTC instant (replays, tests).",
        formats=["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"],
    ),
]


def _settings(data_dir: Path | None) -> Settings:
    return settings_or_exit(console, data_dir)


def _utc(now: dt.datetime | None) -> dt.datetime:
    if now is None:
        return dt.datetime.now(dt.UTC)
    return now.replace(tzinfo=dt.UTC) if now.tzinfo is None else now.astimezone(dt.UTC)


@app.command()
def run(
    data_dir: DataDir = None,
    now: Now = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the summary as JSON to this file.")
    ] = None,
    retrain: Annotated[
        bool | None,
        typer.Option(
            "--retrain/--no-retrain",
            help="Retrain the model now (--retrain) or only if none exists (--no-retrain). "
            "Default: when due, every QUANTLAKE_MODEL__RETRAIN_EVERY_SESSIONS sessions.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run one full daily cycle: ingest -> validate -> features -> model -> predictions -> trade.

    Features are computed only for the sessions whose bars changed (a new session, or a
    symbol's history after a split adjustment); the model is retrained when due.

    Ends with a summary: rows loaded and quarantined, validation result, model metric, orders,
    positions, Data Docs path and the time each stage took. Safe to repeat: a second run on the
    same day loads no duplicate rows and sends no new orders.
    """
    settings = _settings(data_dir)
    from flows.ingest.daily import DataQualityError
    from quantlake.cycle import run_cycle
    from quantlake.report import print_cycle

    labels = {
        "ingest": "Ingesting and validating (Prefect + Great Expectations)",
        "assets": "Features -> model -> predictions (Dagster)",
        "trade": "Trading (Prefect + broker)",
    }
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        current: list[int] = []

        def on_stage(stage: str) -> None:
            if current:
                progress.update(current[-1], completed=1, total=1)
            current.append(progress.add_task(labels[stage], total=None))

        try:
            result = run_cycle(settings, now=_utc(now), on_stage=on_stage, retrain=retrain)
        except DataQualityError as exc:
            console.print(f"[bold red]Ingest failed validation[/]: {exc}")
            raise typer.Exit(1) from exc
    print_cycle(console, result)
    if json_out is not None:
        json_out.write_text(json.dumps(result.as_dict(), indent=2, default=str))


@app.command()
def status(data_dir: DataDir = None) -> None:
    """Show what is in the lakehouse and when each dataset was last updated."""
    settings = _settings(data_dir)
    from quantlake.report import print_batches, print_status
    from warehouse.lake import Lakehouse, table_status

    with Lakehouse(settings.lake_dir, catalog=settings.catalog) as lake:
        print_status(console, table_status(lake), snapshot=lake.current_snapshot())
        batches = lake.query(
            "SELECT source, batch_id, ingested_at, last_session, rows_in, rows_quarantined, "
            "status FROM meta.batches ORDER BY ingested_at DESC LIMIT 5"
        )
    if not batches.is_empty():
        print_batches(console, batches)


Dataset = Literal["bars", "macro", "news", "minute"]


@app.command()
def ingest(
    data_dir: DataDir = None,
    now: Now = None,
    dataset: Annotated[
        Dataset,
        typer.Option(
            help="bars: daily bars from --source; macro: FRED CSV files; news: headlines and "
            "posts; minute: minute bars (QUANTLAKE_MINUTE__* settings)"
        ),
    ] = "bars",
    source: Annotated[str | None, typer.Option(help="For bars: simulator | file | alpaca")] = None,
    path: Annotated[
        Path | None,
        typer.Option(help="For bars with --source file: a file or folder; macro/news: a folder"),
    ] = None,
) -> None:
    """Run one ingest flow: fetch, validate (Great Expectations), write raw, quarantine and
    curated in one atomic commit. A batch that fails validation exits with code 1."""
    _settings(data_dir)
    from flows.ingest.daily import DataQualityError
    from quantlake.report import ingest_table, summary_table

    try:
        with console.status(f"Ingesting {dataset}..."):
            if dataset == "bars":
                from flows.ingest.daily import ingest_flow

                summary = ingest_flow(
                    source=source, file_path=str(path) if path else None, now=_utc(now)
                )
            else:
                summary = _ingest_other(dataset, path=path, now=_utc(now))
    except DataQualityError as exc:
        console.print(f"[bold red]batch failed validation:[/] {exc}")
        raise typer.Exit(1) from exc
    console.print(ingest_table(summary) if dataset == "bars" else summary_table(dataset, summary))


def _ingest_other(dataset: str, *, path: Path | None, now: dt.datetime | None) -> Any:
    directory = str(path) if path else None
    if dataset == "macro":
        from flows.ingest.macro import ingest_macro_flow

        return ingest_macro_flow(directory=directory, now=now)
    if dataset == "news":
        from flows.ingest.news import ingest_news_flow

        return ingest_news_flow(directory=directory, now=now)
    from flows.ingest.minute import ingest_minute_flow

    return ingest_minute_flow(now=now)


@app.command()
def trade(data_dir: DataDir = None, now: Now = None) -> None:
    """Run only the trade flow: reconcile, gate, plan, risk-check and send orders.

    Stale or failed data and a stale model only let risk-reducing orders through; the kill
    switch sends nothing; no data at all refuses the run (exit code 1)."""
    _settings(data_dir)
    from flows.trade.flow import trade_flow
    from flows.trade.gate import TradeRefused
    from quantlake.cycle import CycleResult
    from quantlake.report import orders_table, trade_table

    try:
        summary = trade_flow(now=_utc(now))
    except TradeRefused as exc:
        console.print(trade_table(CycleResult(refused=str(exc))))
        raise typer.Exit(1) from exc
    console.print(trade_table(CycleResult(trade=summary)))
    if summary.orders:
        console.print(orders_table(summary))


@app.command()
def explain(
    order_id: Annotated[
        str | None, typer.Argument(help="A client order id (omit to list recent ones).")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Explain an order: prediction -> model -> features -> bars -> data batches and validation,
    each read as of the lakehouse snapshot the decision actually saw."""
    settings = _settings(data_dir)
    from flows.trade.provenance import UnknownOrder, explain_order, recent_orders
    from flows.trade.views import render_explanation
    from warehouse.lake import Lakehouse

    with Lakehouse(settings.lake_dir, catalog=settings.catalog) as lake:
        if order_id is None:
            console.print(recent_orders(lake, limit=20))
            return
        try:
            explanation = explain_order(lake, order_id)
        except UnknownOrder as exc:
            console.print(str(exc), markup=False)
            raise typer.Exit(1) from exc
    console.print(render_explanation(explanation))


@app.command()
def reconcile(data_dir: DataDir = None, now: Now = None) -> None:
    """Compare the lakehouse's positions and open orders with the broker (authoritative).
    Differences are recorded and shown; exits 1 when anything is unresolved."""
    settings = _settings(data_dir)
    from flows.brokers.select import build_broker
    from flows.trade.reconcile import reconcile as run_reconcile
    from flows.trade.views import render_reconcile
    from warehouse.lake import Lakehouse

    with Lakehouse(settings.lake_dir, catalog=settings.catalog) as lake:
        report = run_reconcile(
            lake, build_broker(settings, lake=lake), now=_utc(now), exchange=settings.exchange
        )
    console.print(render_reconcile(report))
    if not report.clean:
        raise typer.Exit(1)


Who = Annotated[str, typer.Option("--by", help="Who is doing this (recorded). Default: $USER")]
Why = Annotated[str, typer.Option("--reason", help="Why (recorded, shown to the next run).")]


@app.command()
def halt(reason: Why, by: Who = "", data_dir: DataDir = None) -> None:
    """Kill switch: stop all new orders until `quantlake resume`. Recorded with who and why."""
    _control("halt", by=by, reason=reason, data_dir=data_dir)


@app.command()
def resume(reason: Why, by: Who = "", data_dir: DataDir = None) -> None:
    """Lift a manual halt. Recorded with who and why."""
    _control("resume", by=by, reason=reason, data_dir=data_dir)


def _control(action: str, *, by: str, reason: str, data_dir: Path | None) -> None:
    settings = _settings(data_dir)
    by = by or os.environ.get("USER", "")
    from flows.trade.controls import record_control
    from warehouse.lake import Lakehouse

    with Lakehouse(settings.lake_dir, catalog=settings.catalog) as lake:
        try:
            control = record_control(
                lake,
                action=action,
                actor=by,
                reason=reason,  # type: ignore[arg-type]
                now=dt.datetime.now(dt.UTC),
            )
        except ValueError as exc:
            console.print(f"[bold red]{exc}[/]")
            raise typer.Exit(2) from exc
    colour = "red" if action == "halt" else "green"
    console.print(f"[bold {colour}]{action}[/] recorded: by {control.actor}: {control.reason}")


@app.command()
def serve(
    data_dir: DataDir = None,
    prefect_port: Annotated[int, typer.Option(help="Prefect server port")] = 4200,
    dagster_port: Annotated[int, typer.Option(help="Dagster webserver port")] = 3000,
) -> None:
    """Start the Prefect server with the ingest and trade deployments on their schedules, and
    the Dagster webserver and daemon. Prints both URLs; Ctrl-C stops everything."""
    settings = _settings(data_dir)
    from quantlake.serve import serve_all

    serve_all(settings, prefect_port=prefect_port, dagster_port=dagster_port, console=console)


if __name__ == "__main__":
    app()
