"""What every CLI command starts with: its shared options, and settings or exit 2 (never a
traceback), with the log file set up in the data folder."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from quantlake import cli_log, runtime
from quantlake.settings import Settings, load_settings

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Data folder (lakehouse, Data Docs, Prefect/Dagster homes, logs). "
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


def utc(now: dt.datetime | None) -> dt.datetime:
    """Return ``now`` as an aware UTC instant (naive means UTC); None means the clock's now."""
    if now is None:
        return dt.datetime.now(dt.UTC)
    return now.replace(tzinfo=dt.UTC) if now.tzinfo is None else now.astimezone(dt.UTC)


def settings_or_exit(console: Console, data_dir: Path | None, *, prepare: bool = True) -> Settings:
    """Return the settings (``data_dir`` overriding QUANTLAKE_DATA_DIR) and send the logs to
    <data_dir>/logs/quantlake.log; with ``prepare``, also create the data folder and the
    orchestrators' homes."""
    try:
        settings = load_settings(**({"data_dir": data_dir} if data_dir else {}))
    except ValidationError as exc:
        console.print(f"[bold red]Configuration error[/]\n{escape(str(exc))}")
        raise typer.Exit(2) from exc
    cli_log.configure(settings.data_dir)
    if prepare:
        runtime.prepare(settings)
    return settings
