"""`quantlake` as a user runs it: fresh processes, a fresh data folder, run twice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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
