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
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from quantlake.cli_errors import new_app
from quantlake.cli_settings import settings_or_exit
from quantlake.cli_tables import kv_table

if TYPE_CHECKING:
    from warehouse.lake import Lakehouse

app = new_app(
    help=(
        "The model registry: every trained model with its out-of-sample metrics and status.\n\n"
        "Without a command, lists the newest models. The model asset trains each configured "
        "algorithm (assets/models/config.toml) and its promotion gate picks the champion the "
        "trade flow uses; these commands let a person override it, recorded with who and why."
    ),
    invoke_without_command=True,
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


def _status(m: dict[str, Any]) -> Text:
    return Text(str(m["status"]), style=STATUS_COLOUR.get(m["status"], ""))


def _folds(m: dict[str, Any]) -> str:
    share = m["oos_positive_fold_share"]
    return "-" if share is None else f"{share:.0%} of {m['n_folds']}"


def models_table(models: list[dict[str, Any]]) -> Table:
    """Return the registry listing, newest first: the essentials of each model, readable at
    80 columns (the rest is in `quantlake models show VERSION`)."""
    table = Table(
        title=Text("models.registry (newest first; out-of-sample metrics)", style="italic"),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("version", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("trained to", no_wrap=True)
    table.add_column("rank IC", justify="right", no_wrap=True)
    table.add_column("IC t", justify="right", no_wrap=True)
    table.add_column("why", overflow="fold", ratio=1)
    for m in models:
        table.add_row(
            Text(m["model_version"]),
            _status(m),
            str(m["train_end"]),
            _num(m["oos_rank_ic"]),
            _num(m["oos_ic_tstat"], ".2f"),
            Text(m["status_reason"] or "-"),
        )
    return table


def details_table(m: dict[str, Any]) -> Table:
    """Return everything the registry holds about one model, one line per fact."""
    rows = [
        ("version", m["model_version"]),
        ("status", _status(m)),
        ("why", m["status_reason"]),
        ("created", f"{m['created_at']:%Y-%m-%d %H:%M} UTC"),
        ("algorithm", m["algorithm"]),
        ("params", m["params"]),
        ("config", m["config_version"]),
        ("horizon", f"{m['horizon']} sessions"),
        ("trained on", f"{m['train_start']} .. {m['train_end']} ({_count(m['n_train'])} rows)"),
        ("tested on", f"{m['test_start']} .. {m['test_end']} ({_count(m['n_test'])} rows, "
                      f"{m['embargo_sessions']} sessions embargo)"),
        ("IC", _num(m["oos_ic"])),
        ("rank IC", _num(m["oos_rank_ic"])),
        ("IC t-stat", _num(m["oos_ic_tstat"], ".2f")),
        ("hit rate", _num(m["oos_hit_rate"], ".1%")),
        ("decile spread", _num(m["oos_decile_spread"])),
        ("IC > 0 in", f"{_folds(m)} folds"),
        ("data snapshot", m["data_snapshot"]),
        ("feature set", m["feature_set_hash"]),
        ("artifact", f"{m['artifact_path']} (sha256 {m['artifact_sha256']})"),
    ]  # fmt: skip
    return kv_table(f"Model {m['model_version']}", rows)


def _count(n: int | None) -> str:
    return "-" if n is None else f"{n:,}"


def folds_table(version: str, fold_metrics: str | None) -> Table:
    """Return the walk-forward folds: test window, rows, and the fold's metrics."""
    table = Table(
        title=Text(f"walk-forward folds of {version}", style="italic"),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("tested on", no_wrap=True)
    for name in ("train rows", "test rows", "IC", "rank IC", "IC t", "hit rate", "spread"):
        table.add_column(name, justify="right")
    for f in json.loads(fold_metrics or "[]"):
        table.add_row(
            f"{f.get('test_start', '-')} .. {f.get('test_end', '-')}",
            str(f.get("n_train", "-")),
            str(f.get("rows", "-")),
            _num(f.get("ic")),
            _num(f.get("rank_ic")),
            _num(f.get("ic_tstat"), ".2f"),
            _num(f.get("hit_rate"), ".1%"),
            _num(f.get("decile_spread")),
        )
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
        console.print(
            Text.assemble((f"No model {version}", "bold red"), ": `quantlake models` lists them.")
        )
        raise typer.Exit(1)
    m = found.row(0, named=True)
    console.print(details_table(m))
    console.print(folds_table(version, m["fold_metrics"]))


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
            console.print(Text.assemble((f"{action} refused", "bold red"), f": {exc}"))
            raise typer.Exit(1) from exc
    console.print(
        Text.assemble(
            (record["to_version"], "bold green"),
            f" is champion ({action} by {record['actor']}: {record['reason']}); "
            f"{record['from_version'] or 'no model'} was replaced",
        )
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
    table = Table(
        title=Text("models.promotions (newest first)", style="italic"),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for name in ("when (UTC)", "action", "from", "to"):
        table.add_column(name, no_wrap=True)
    for name in ("by", "why"):
        table.add_column(name, overflow="fold")
    for r in rows.iter_rows(named=True):
        when = f"{r['changed_at']:%Y-%m-%d %H:%M}"
        cells = (r["action"], r["from_version"] or "-", r["to_version"], r["actor"], r["reason"])
        table.add_row(when, *(Text(str(c)) for c in cells))
    console.print(table)
