"""`quantlake` as a user runs it: fresh processes, a fresh data folder, run twice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quantlake.cli import app
from warehouse import schemas
from warehouse.lake import Lakehouse

pytestmark = pytest.mark.integration

QUANTLAKE = str(Path(sys.executable).parent / "quantlake")


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # From a working directory with the default relative data folder, as a user runs it.
    cwd = env.pop("_CWD")
    try:
        return subprocess.run(
            [QUANTLAKE, *args],
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    finally:
        env["_CWD"] = cwd


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "QUANTLAKE_"))}
    base.update(
        _CWD=str(tmp_path),
        QUANTLAKE_SOURCE="simulator",
        QUANTLAKE_SIMULATOR__N_SYMBOLS="10",
        QUANTLAKE_HISTORY_START="2023-01-03",
        COLUMNS="120",
    )
    return base


def counts(data_dir: Path) -> dict[str, int]:
    with Lakehouse(data_dir / "lake") as lake:
        return {d.table: lake.count(d) for d in schemas.ALL}


def test_help_explains_every_command(env: dict[str, str]) -> None:
    out = cli("--help", env=env)
    assert out.returncode == 0
    for command in ("run", "serve", "status", "ingest", "trade"):
        assert command in out.stdout


def test_run_twice_then_status(env: dict[str, str], tmp_path: Path) -> None:
    first = cli("run", env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "quantlake run" in first.stdout
    data = tmp_path / "data"
    after_first = counts(data)
    assert after_first["trading.orders"] > 0
    assert after_first["predictions.daily"] == 10

    second = cli("run", env=env)
    assert second.returncode == 0, second.stdout + second.stderr
    after_second = counts(data)
    for table in (
        "raw.bars",
        "curated.bars",
        "quarantine.bars",
        "trading.orders",
        "trading.fills",
        "paper.orders",
    ):
        assert after_second[table] == after_first[table], table
    assert (data / "gx" / "data_docs" / "index.html").is_file()

    status = cli("status", env=env)
    assert status.returncode == 0, status.stderr
    assert "curated.bars" in status.stdout


def test_bad_configuration_is_reported_not_raised(env: dict[str, str]) -> None:
    env = {**env, "QUANTLAKE_SOURCE": "file"}
    out = cli("status", env=env)
    assert out.returncode == 2
    assert "QUANTLAKE_FILE_PATH" in out.stdout


# In-process (CliRunner) and fresh-process runs against the session's Prefect test server.

HOSTILE_CELLS = ("[/x]", "[bold]2024-01-05", "[link=https://e.vil]2024-01-08")


def said(text: str) -> str:
    return " ".join(text.split())


def test_markup_in_a_file_prints_as_text_after_the_commit(simulator_settings, tmp_path) -> None:
    settings = simulator_settings()
    drop = tmp_path / "AAA.csv"
    good = [f"2024-01-0{d},10,11,9,10.5,1000" for d in (2, 3, 4)]
    bad = [f"{cell},10,11,9,10.5,1000" for cell in HOSTILE_CELLS]
    drop.write_text("\n".join(["date,open,high,low,close,volume", *good, *bad]) + "\n")
    result = CliRunner().invoke(
        app,
        ["ingest", "--source", "file", "--path", str(drop), "--now", "2024-01-06"],
        env={"COLUMNS": "100"},
    )
    assert result.exit_code == 0, result.output
    # The rejected cells are shown as they are, none swallowed as markup.
    assert f"skipped 3 rows whose date could not be read (e.g. {list(HOSTILE_CELLS)})" in said(
        result.output
    )
    with Lakehouse(settings.lake_dir) as lake:
        assert lake.count(schemas.CURATED_BARS) == 3


def quantlake_process(args: list[str], *, env: dict[str, str], cwd: Path):
    """Run a command in a fresh process against the test Prefect server, as a user would."""
    from prefect.settings import PREFECT_API_URL

    full = {**os.environ, **env, "PREFECT_API_URL": PREFECT_API_URL.value(), "COLUMNS": "100"}
    return subprocess.run(
        args, env=full, cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )


def assert_logged(data_dir: Path, *needles: str) -> str:
    log = (data_dir / "logs" / "quantlake.log").read_text()
    assert "Traceback (most recent call last)" in log
    for needle in needles:
        assert needle in log, needle
    return log


def test_a_failed_validation_is_one_paragraph_and_exit_3(simulator_settings, tmp_path) -> None:
    settings = simulator_settings(
        n_symbols=5, QUANTLAKE_HISTORY_START="2025-06-02", QUANTLAKE_SIMULATOR__BAD_TICK_RATE="0.1"
    )
    out = quantlake_process([QUANTLAKE, "ingest", "--now", "2026-11-22"], env={}, cwd=tmp_path)
    shown = out.stdout + out.stderr
    assert out.returncode == 3, shown
    assert "Traceback" not in shown and 'File "' not in shown
    paragraph = said(out.stderr)
    assert paragraph.startswith("Data failed validation: batch simulator-"), shown
    assert "quarantined exceeds the 5.0% limit" in paragraph
    log = settings.data_dir.resolve() / "logs" / "quantlake.log"
    assert f"Details: {log}" in paragraph
    assert_logged(settings.data_dir, "DataQualityError", "quantlake ingest failed")


FAILING_CLI = '''
import polars as pl
from prefect import flow

from quantlake.cli_errors import new_app
from quantlake.cli_settings import settings_or_exit

app = new_app()


@flow
def heavy() -> None:
    frame = pl.DataFrame({"a": range(3_000_000), "b": [0.5] * 3_000_000})
    raise ValueError(f"boom after {frame.height:,} rows")


@app.command()
def fail(data_dir: str) -> None:
    from pathlib import Path
    from rich.console import Console

    settings_or_exit(Console(), Path(data_dir))
    heavy()


@app.command()
def other() -> None:
    """A second command, so the app is a group."""


app()
'''


def test_an_unexpected_error_in_a_flow_is_one_paragraph_and_logged(
    simulator_settings, tmp_path
) -> None:
    """A flow failing with a multi-million-row frame in its locals: no traceback and no locals
    on the terminal (typer's pretty exceptions once spent 10 minutes and 6 GB rendering them),
    one paragraph and exit 1; the traceback is in the log."""
    settings = simulator_settings()
    script = tmp_path / "failing_cli.py"
    script.write_text(FAILING_CLI)
    cmd = [sys.executable, str(script), "fail", str(settings.data_dir)]
    out = quantlake_process(cmd, env={}, cwd=Path(__file__).resolve().parents[2])
    shown = out.stdout + out.stderr
    assert out.returncode == 1, shown
    assert "Traceback" not in shown and "frame" not in shown and "locals" not in shown.lower()
    log = settings.data_dir.resolve() / "logs" / "quantlake.log"
    assert said(out.stderr) == (
        f"quantlake failed: ValueError: boom after 3,000,000 rows; the traceback is in {log}. "
        "This was not expected: rerun once, and if it fails again, report it with that log file."
    )
    text = assert_logged(settings.data_dir, "ValueError: boom after 3,000,000 rows")
    assert 'raise ValueError(f"boom after {frame.height:,} rows")' in text  # the failing line
    assert "shape: (3000000" not in text  # never the values of the locals


def test_a_source_refusing_the_keys_is_one_paragraph_and_exit_4(simulator_settings) -> None:
    from tests.support.alpaca_data_server import AlpacaDataServer

    with AlpacaDataServer(api_key="PKRIGHTKEY000000001", secret_key="right-secret") as server:
        settings = simulator_settings(
            QUANTLAKE_SOURCE="alpaca",
            QUANTLAKE_ALPACA__API_KEY="PKWRONGKEY000000001",
            QUANTLAKE_ALPACA__SECRET_KEY="wrong-secret-0123",
            QUANTLAKE_ALPACA__DATA_URL=server.url,
            QUANTLAKE_SYMBOLS='["AAA"]',
        )
        result = CliRunner().invoke(app, ["ingest", "--now", "2024-01-06"])
    assert result.exit_code == 4, result.output
    assert "Traceback" not in result.output
    paragraph = said(result.output)
    assert paragraph.startswith("The data source failed: "), paragraph
    assert "wrong-secret-0123" not in paragraph  # keys never shown
    assert paragraph.endswith(f"Details: {settings.data_dir.resolve() / 'logs' / 'quantlake.log'}")
    assert_logged(settings.data_dir, "SourceError")
