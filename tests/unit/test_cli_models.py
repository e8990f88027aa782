"""`quantlake models` on a temporary lakehouse, mounted the way quantlake/cli.py mounts it."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from assets.models.registry import current_champion
from quantlake.cli_models import app as models_app
from tests.unit.assets.registry_rows import model_row, seed_models
from warehouse.lake import Lakehouse
from warehouse.schemas import PROMOTIONS

cli = typer.Typer()
cli.add_typer(models_app, name="models")
runner = CliRunner()


def invoke(*args: str, data_dir: Path, env: dict[str, str] | None = None):
    return runner.invoke(
        cli,
        ["models", *args, "--data-dir", str(data_dir)],
        env={"COLUMNS": "240", **(env or {})},
    )


@pytest.fixture
def seeded(lake: Lakehouse, tmp_path: Path) -> Lakehouse:
    models = tmp_path / "models"
    seed_models(
        lake,
        [
            model_row("ridge-aaaaaaaaaaaa", models_dir=models, status="champion", day=0),
            model_row(
                "gbt-bbbbbbbbbbbb",
                models_dir=models,
                status="challenger",
                day=1,
                status_reason="challenger: [within] the margin",
            ),
        ],
    )
    return lake


@pytest.mark.parametrize("width", [80, 160])
def test_without_a_command_it_lists_each_model_on_one_readable_line(
    seeded: Lakehouse, tmp_path: Path, width: int
) -> None:
    result = runner.invoke(
        cli, ["models", "--data-dir", str(tmp_path)], env={"COLUMNS": str(width)}
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= width
    gbt = next(line for line in lines if "gbt-bbbbbbbbbbbb" in line)  # versions never cut
    ridge = next(line for line in lines if "ridge-aaaaaaaaaaaa" in line)
    assert lines.index(gbt) < lines.index(ridge)  # newest first
    assert "challenger" in gbt
    assert "champion" in ridge and "0.0300" in ridge and "1.50" in ridge  # rank IC, IC t
    assert "2026-02-20" in ridge  # trained to
    assert "[within] the margin" in " ".join(result.output.split())  # data, not markup
    assert "seeded as champion" in " ".join(result.output.split())


def test_an_empty_registry_says_how_to_get_a_model(lake: Lakehouse, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["models", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0 and "No models registered yet" in result.output


def test_promote_then_rollback_are_recorded_with_who_and_why(
    seeded: Lakehouse, tmp_path: Path
) -> None:
    promoted = invoke(
        "promote", "gbt-bbbbbbbbbbbb", "--reason", "trees won", "--by", "alice", data_dir=tmp_path
    )
    assert promoted.exit_code == 0, promoted.output
    assert current_champion(seeded)["model_version"] == "gbt-bbbbbbbbbbbb"

    back = invoke("rollback", "--reason", "drawdown", data_dir=tmp_path, env={"USER": "bob"})
    assert back.exit_code == 0, back.output
    assert current_champion(seeded)["model_version"] == "ridge-aaaaaaaaaaaa"
    records = seeded.read(PROMOTIONS, order_by="changed_at")
    assert records.select("action", "from_version", "to_version", "actor", "reason").rows() == [
        ("promote", "ridge-aaaaaaaaaaaa", "gbt-bbbbbbbbbbbb", "alice", "trees won"),
        ("rollback", "gbt-bbbbbbbbbbbb", "ridge-aaaaaaaaaaaa", "bob", "drawdown"),
    ]
    shown = invoke("history", data_dir=tmp_path)
    assert shown.exit_code == 0
    assert shown.output.index("drawdown") < shown.output.index("trees won")


def test_rollback_to_a_named_version(seeded: Lakehouse, tmp_path: Path) -> None:
    result = invoke(
        "rollback", "gbt-bbbbbbbbbbbb", "--reason", "older one", "--by", "carol", data_dir=tmp_path
    )
    assert result.exit_code == 0, result.output
    assert current_champion(seeded)["model_version"] == "gbt-bbbbbbbbbbbb"


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (("rollback", "--reason", "x", "--by", "a"), {}, "replaced no earlier champion"),
        (("promote", "ridge-zzzzzzzzzzzz", "--reason", "x", "--by", "a"), {}, "no model"),
        (("promote", "gbt-bbbbbbbbbbbb", "--reason", "x"), {"USER": ""}, "say who"),
    ],
)
def test_refusals_exit_1_with_the_reason_and_change_nothing(
    seeded: Lakehouse, tmp_path: Path, args: tuple[str, ...], env: dict[str, str], message: str
) -> None:
    before = seeded.current_snapshot()
    result = invoke(*args, data_dir=tmp_path, env=env)
    assert result.exit_code == 1
    assert "refused" in result.output and message in result.output
    assert seeded.current_snapshot() == before


def test_a_promotion_needs_a_reason(seeded: Lakehouse, tmp_path: Path) -> None:
    result = invoke("promote", "gbt-bbbbbbbbbbbb", "--by", "a", data_dir=tmp_path)
    assert result.exit_code == 2  # usage error: --reason is required
    assert current_champion(seeded)["model_version"] == "ridge-aaaaaaaaaaaa"


def test_an_altered_artifact_is_refused(seeded: Lakehouse, tmp_path: Path) -> None:
    (tmp_path / "models" / "gbt-bbbbbbbbbbbb.pkl").write_bytes(b"tampered")
    result = invoke("promote", "gbt-bbbbbbbbbbbb", "--reason", "x", "--by", "a", data_dir=tmp_path)
    assert result.exit_code == 1 and "sha256" in result.output
    assert current_champion(seeded)["model_version"] == "ridge-aaaaaaaaaaaa"


@pytest.mark.parametrize("width", [80, 160])
def test_show_prints_every_detail_and_the_folds_of_one_model(
    seeded: Lakehouse, tmp_path: Path, width: int
) -> None:
    result = invoke("show", "gbt-bbbbbbbbbbbb", data_dir=tmp_path, env={"COLUMNS": str(width)})
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    for fact in (
        "challenger: [within] the margin",
        "IC 0.0200",
        "rank IC 0.0300",
        "IC t-stat 1.50",
        "hit rate 52.0%",
        "decile spread 0.0040",
        "IC > 0 in 67% of 3 folds",
        "trained on 2024-01-02 .. 2026-02-21 (6,000 rows)",
        "walk-forward folds of gbt-bbbbbbbbbbbb",
        "2025-06-02 .. 2025-08-29",
    ):
        assert fact in said, fact
    assert invoke("show", "[/x]", data_dir=tmp_path).exit_code == 1
