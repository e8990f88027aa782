"""Settings for a CLI command: a configuration error is printed and exits 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import typer
from pydantic import ValidationError
from rich.console import Console

from quantlake import runtime
from quantlake.settings import Settings, load_settings


def settings_or_exit(console: Console, data_dir: Path | None, *, prepare: bool = True) -> Settings:
    """Return the settings (``data_dir`` overriding QUANTLAKE_DATA_DIR); with ``prepare``, also
    create the data folder and the orchestrators' homes."""
    try:
        settings = load_settings(**({"data_dir": data_dir} if data_dir else {}))
    except ValidationError as exc:
        console.print(f"[bold red]Configuration error[/]\n{exc}")
        raise typer.Exit(2) from exc
    if prepare:
        runtime.prepare(settings)
    return settings
