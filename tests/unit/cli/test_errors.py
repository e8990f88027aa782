"""How a command fails, through typer's CliRunner: one paragraph with its exit code, the
traceback in <data_dir>/logs/quantlake.log, and data in the message printed as it is."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from flows.brokers.base import BrokerError
from flows.ingest.daily import DataQualityError
from flows.sources.base import SourceError
from quantlake.cli_errors import new_app, paragraph
from quantlake.cli_settings import settings_or_exit

runner = CliRunner()


def failing_app(exc: Exception) -> typer.Typer:
    app = new_app()

    @app.command()
    def fail(data_dir: Path) -> None:
        settings_or_exit(Console(), data_dir, prepare=False)
        raise exc

    @app.command()
    def other() -> None:
        """A second command, so the app is a group."""

    return app


@pytest.mark.parametrize(
    ("exc", "code", "start"),
    [
        (RuntimeError("no [/x] here [bold]"), 1, "quantlake failed: RuntimeError: no [/x] here"),
        (DataQualityError("batch b-[/x] failed"), 3, "Data failed validation: batch b-[/x] failed"),
        (SourceError("cannot reach [link=x]alpaca[/link]"), 4, "The data source failed: cannot"),
        (BrokerError("alpaca refused [/x]"), 4, "The broker failed: alpaca refused [/x]"),
    ],
)
def test_a_failure_is_one_paragraph_with_its_code_and_the_traceback_is_logged(
    tmp_path: Path, exc: Exception, code: int, start: str
) -> None:
    result = runner.invoke(failing_app(exc), ["fail", str(tmp_path)], env={"COLUMNS": "80"})
    assert result.exit_code == code
    said = " ".join(result.output.split())
    assert said.startswith(start), said
    assert str(exc) in said and "Traceback" not in result.output
    log = (tmp_path / "logs" / "quantlake.log").resolve()
    assert str(log) in said
    text = log.read_text()
    assert "Traceback (most recent call last)" in text and "raise exc" in text
    assert text[:4].isdigit() and "Z ERROR quantlake.cli" in text  # UTC timestamps


def test_a_long_or_unprintable_message_costs_no_more_than_its_cut() -> None:
    class Unprintable(Exception):
        def __str__(self) -> str:
            raise ValueError("no")

    text, code = paragraph(Unprintable(), log="/x.log")
    assert code == 1 and "(the Unprintable could not be printed)" in text.plain
    text, _ = paragraph(RuntimeError("y" * 100_000), log="/x.log")
    assert len(text.plain) < 2_400 and "(cut; see the log)" in text.plain
