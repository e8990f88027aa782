"""`quantlake models`: list registered models, show one, promote, roll back, show the history.

Mounted by quantlake/cli.py as ``app.add_typer(models_app, name="models")``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from quantlake.cli_settings import settings_or_exit

if TYPE_CHECKING:
    from warehouse.lake import Lakehouse

app = typer.Typer(
    help=(
        "The model registry: every trained model with its out-of-sample metrics and status.\n\n"
        "Without a command, lists the newest models. The model asset trains each configured "
        "algorithm (assets/models/config.toml) and its promotion gate picks the champion the "
        "trade flow uses; these commands let a person override it, recorded with who and why."
    ),
    invoke_without_command=True,
    rich_markup_mode="rich",
)
console = Console()

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Data folder (lakehouse, model artifacts). Default: $QUANTLAKE_DATA_DIR or ./data",
    ),
]
Who = Annotated[str, typer.Option("--by", help="Who is doing this (recorded). Default: $USER")]
Why = Annotated[str, typer.Option("--reason", help="Why (recorded in models.promotions).")]
STATUS_COLOUR = {"champion": "bold green", "challenger": "yellow", "retired": "dim"}


def _lake(data_dir: Path | None) -> Lakehouse:
    from warehouse.lake import Lakehouse

    settings = settings_or_exit(console, data_dir, prepare=False)
    return Lakehouse(settings.lake_dir, catalog=settings.catalog)


def _num(value: float | None, fmt: str = ".4f") -> str:
    if value is None:
        return "-"
    return "nan" if math.isnan(value) else format(value, fmt)


def _row(m: dict[str, Any]) -> list[str]:
    colour = STATUS_COLOUR.get(m["status"], "")
    share = m["oos_positive_fold_share"]
    folds = "-" if share is None else f"{share:.0%} of {m['n_folds']}"
    return [
        m["model_version"],
        f"[{colour}]{m['status']}[/]",
        f"{m['created_at']:%Y-%m-%d %H:%M}",
        f"{m['train_start']} .. {m['train_end']}",
        m["config_version"] or "-",
        _num(m["oos_ic"]),
        _num(m["oos_rank_ic"]),
        _num(m["oos_ic_tstat"], ".2f"),
        _num(m["oos_hit_rate"], ".1%"),
        _num(m["oos_decile_spread"]),
        folds,
        escape(m["status_reason"] or "-"),
    ]


def models_table(models: list[dict[str, Any]]) -> Table:
    """Return the registry listing: one row per model, newest first."""
    table = Table(title="models.registry (newest first; metrics are out of sample)")
    for name in ("version", "status", "created (UTC)", "trained on", "config", "IC", "rank IC"):
        table.add_column(name, no_wrap=name in ("version", "created (UTC)"))
    for name in ("IC t", "hit rate", "decile spread", "IC > 0 in", "why"):
        table.add_column(name, overflow="fold")
    for m in models:
        table.add_row(*_row(m))
    return table


@app.callback()
def models(
    ctx: typer.Context,
    data_dir: DataDir = None,
    limit: Annotated[int, typer.Option(help="Show at most this many models.", min=1)] = 20,
) -> None:
    """List the newest registered models with their metrics, status and why they hold it."""
    if ctx.invoked_subcommand is not None:
        return
    from warehouse.schemas import MODELS

    with _lake(data_dir) as lake:
        rows = lake.read(MODELS, order_by="created_at DESC, model_version").head(limit)
    if rows.is_empty():
        console.print("No models registered yet: `quantlake run` trains the first ones.")
        return
    console.print(models_table(rows.to_dicts()))


@app.command()
def show(
    version: Annotated[str, typer.Argument(help="A model version, as `quantlake models` lists.")],
    data_dir: DataDir = None,
) -> None:
    """Show one model: its parameters, windows and the metrics of every walk-forward fold."""
    from warehouse.schemas import MODELS

    with _lake(data_dir) as lake:
        found = lake.read(MODELS, where="model_version = ?", params=[version])
    if found.is_empty():
        console.print(f"[bold red]No model {version}[/]: `quantlake models` lists them.")
        raise typer.Exit(1)
    m = found.row(0, named=True)
    console.print(models_table([m]))
    console.print(f"params: {escape(m['params'])}")
    console.print(f"data snapshot {m['data_snapshot']}, feature set {m['feature_set_hash']}")
    console.print(f"artifact {m['artifact_path']} (sha256 {m['artifact_sha256']})")
    folds = Table(title=f"walk-forward folds of {version}")
    columns = ("train_start", "train_end", "test_start", "test_end", "n_train", "rows")
    metrics = ("ic", "rank_ic", "ic_tstat", "hit_rate", "decile_spread")
    for name in (*columns, *metrics):
        folds.add_column(name)
    for fold in json.loads(m["fold_metrics"] or "[]"):
        folds.add_row(
            *(str(fold.get(c, "-")) for c in columns), *(_num(fold.get(c)) for c in metrics)
        )
    console.print(folds)


@app.command()
def promote(
    version: Annotated[str, typer.Argument(help="The model version to make champion.")],
    reason: Why,
    by: Who = "",
    data_dir: DataDir = None,
) -> None:
    """Make a registered model the champion (its artifact checksum is verified first). The
    replaced champion is retired; who and why are recorded."""
    _change(version, action="promote", by=by, reason=reason, data_dir=data_dir)


@app.command()
def rollback(
    reason: Why,
    version: Annotated[
        str | None,
        typer.Argument(help="The model version to return to. Default: the previous champion."),
    ] = None,
    by: Who = "",
    data_dir: DataDir = None,
) -> None:
    """Return to the previous champion (the one the current champion replaced), or to VERSION.
    Recorded with who and why, like a promotion."""
    _change(version, action="rollback", by=by, reason=reason, data_dir=data_dir)


def _change(
    version: str | None, *, action: str, by: str, reason: str, data_dir: Path | None
) -> None:
    from assets.models.artifact import ArtifactError
    from assets.models.registry import RegistryError, change_champion, previous_champion

    by = by or os.environ.get("USER", "")
    with _lake(data_dir) as lake:
        try:
            target = version or previous_champion(lake)
            record = change_champion(
                lake,
                target,
                action=action,  # type: ignore[arg-type]
                actor=by,
                reason=reason,
                now=dt.datetime.now(dt.UTC),
            )
        except (RegistryError, ArtifactError) as exc:
            console.print(f"[bold red]{action} refused[/]: {escape(str(exc))}")
            raise typer.Exit(1) from exc
    console.print(
        f"[bold green]{record['to_version']}[/] is champion ({action} by "
        f"{escape(record['actor'])}: {escape(record['reason'])}); "
        f"{record['from_version'] or 'no model'} was replaced"
    )


@app.command()
def history(
    data_dir: DataDir = None,
    limit: Annotated[int, typer.Option(help="Show at most this many changes.", min=1)] = 20,
) -> None:
    """Show every change of champion, newest first: when, how, from, to, who and why."""
    from assets.models.registry import history as read_history

    with _lake(data_dir) as lake:
        rows = read_history(lake, limit=limit)
    if rows.is_empty():
        console.print("No champion yet: no model has been promoted.")
        return
    table = Table(title="models.promotions (newest first)")
    for name in ("when (UTC)", "action", "from", "to", "by", "why"):
        table.add_column(name, overflow="fold")
    for r in rows.iter_rows(named=True):
        was = r["from_version"] or "-"
        when = f"{r['changed_at']:%Y-%m-%d %H:%M}"
        who, why = escape(r["actor"]), escape(r["reason"])
        table.add_row(when, r["action"], was, r["to_version"], who, why)
    console.print(table)
