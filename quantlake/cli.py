"""The `quantlake` command line."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from quantlake import cli_backfill, cli_models, cli_quality, cli_trade
from quantlake.cli_errors import EXIT_CODES, new_app
from quantlake.cli_settings import DataDir, Now, settings_or_exit, utc

app = new_app(
    help=(
        "quantlake: systematic trading as governed data pipelines.\n\n"
        "Prefect flows ingest and validate daily bars into a DuckLake lakehouse, Dagster assets "
        "compute features, train a model and publish predictions, and a Prefect trade flow "
        "places orders through a broker (paper by default). Configure with QUANTLAKE_* "
        "environment variables or a .env file (see README).\n\n"
        f"{EXIT_CODES} A failure prints one paragraph that says what to do; the full "
        "traceback is in <data dir>/logs/quantlake.log, with timestamps."
    ),
    no_args_is_help=True,
)
console = Console()


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
    """Run one full daily cycle: ingest, features, model, predictions, trade.

    Ingest -> validate -> features -> model -> predictions -> trade. Features are computed
    only for the sessions whose bars changed (a new session, or a symbol's history after a
    split adjustment); the model is retrained when due. A spinner names the stage running and
    its elapsed time.

    Ends with a summary: rows loaded and quarantined, validation result, model metric, orders,
    positions, Data Docs path and the time each stage took. Safe to repeat: a second run on the
    same day loads no duplicate rows and sends no new orders. A batch that fails validation
    stops the cycle with exit code 3.
    """
    settings = settings_or_exit(console, data_dir)
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

        result = run_cycle(settings, now=utc(now), on_stage=on_stage, retrain=retrain)
    print_cycle(console, result)
    if json_out is not None:
        json_out.write_text(json.dumps(result.as_dict(), indent=2, default=str))


@app.command()
def status(data_dir: DataDir = None) -> None:
    """Show what the lakehouse holds and the trading state.

    Each dataset's rows and when it last changed, the latest batches, then the trading state:
    ACTIVE, REDUCING or HALTED, why, since when, and the kill switch (who used it, when, why).
    """
    settings = settings_or_exit(console, data_dir)
    from quantlake.cli_trade_views import read_trading_status, trading_table
    from quantlake.report import print_batches, print_status
    from warehouse.lake import Lakehouse, table_status

    with Lakehouse(settings.lake_dir, catalog=settings.catalog) as lake:
        print_status(console, table_status(lake), snapshot=lake.current_snapshot())
        batches = lake.query(
            "SELECT source, batch_id, ingested_at, last_session, rows_in, rows_quarantined, "
            "status FROM meta.batches ORDER BY ingested_at DESC LIMIT 5"
        )
        trading = read_trading_status(lake, broker=settings.broker)
    if not batches.is_empty():
        print_batches(console, batches)
    console.print(trading_table(trading))


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
    """Run one ingest flow: fetch, validate, commit, and show what landed.

    Fetch, validate (Great Expectations), write raw, quarantine and curated in one atomic
    commit, then print what landed. A batch that fails validation exits with code 3 (its good
    rows landed; trading is gated); a source that cannot be reached or refuses exits with 4.
    """
    settings_or_exit(console, data_dir)
    from quantlake.report import ingest_table, summary_table

    with console.status(f"Ingesting {dataset} (fetch, validate, commit)..."):
        if dataset == "bars":
            from flows.ingest.daily import ingest_flow

            summary = ingest_flow(
                source=source, file_path=str(path) if path else None, now=utc(now)
            )
        else:
            summary = _ingest_other(dataset, path=path, now=utc(now))
    console.print(ingest_table(summary) if dataset == "bars" else summary_table(dataset, summary))


def _ingest_other(dataset: str, *, path: Path | None, now: dt.datetime) -> Any:
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
def serve(
    data_dir: DataDir = None,
    prefect_port: Annotated[int, typer.Option(help="Prefect server port")] = 4200,
    dagster_port: Annotated[int, typer.Option(help="Dagster webserver port")] = 3000,
) -> None:
    """Start the Prefect and Dagster servers with the schedules; Ctrl-C stops them.

    The Prefect server with the ingest and trade deployments on their schedules, and the
    Dagster webserver and daemon. Prints both URLs; Ctrl-C stops everything.
    """
    settings = settings_or_exit(console, data_dir)
    from quantlake.serve import serve_all

    serve_all(settings, prefect_port=prefect_port, dagster_port=dagster_port, console=console)


# After run, status, ingest and serve, so --help lists the commands in the order people use them.
for name in ("trade", "explain", "reconcile", "halt", "resume"):
    app.command(name)(getattr(cli_trade, name))
app.command("backfill", help=cli_backfill.HELP)(cli_backfill.backfill)
app.add_typer(cli_quality.app, name="quality")
app.add_typer(cli_models.app, name="models")

if __name__ == "__main__":
    app()
