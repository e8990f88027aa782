"""Point Prefect and Dagster at quantlake's data folder before either is imported.

This is the composition root's one job at start-up: both orchestrators read their home folder
from the environment, so the CLI sets it explicitly from settings (never at import time).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from quantlake.settings import Settings

DEPLOYMENT_DIR = Path(__file__).resolve().parents[1] / "deployment"


def prepare(settings: Settings, *, quiet: bool = True) -> None:
    """Create the data folder, install dagster.yaml and set PREFECT_HOME / DAGSTER_HOME."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    settings.prefect_home.mkdir(parents=True, exist_ok=True)
    target = settings.dagster_home / "dagster.yaml"
    source = DEPLOYMENT_DIR / "dagster.yaml"
    if not target.exists() or target.read_bytes() != source.read_bytes():
        shutil.copyfile(source, target)
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home.resolve())
    os.environ.setdefault("PREFECT_HOME", str(settings.prefect_home.resolve()))
    # The quantlake data folder, absolute, so flow runs started by a served process agree.
    os.environ["QUANTLAKE_DATA_DIR"] = str(settings.data_dir.resolve())
    if quiet:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
        os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")
    # Prefect's temporary server (runs without `quantlake serve`) must start within this; its
    # 20 s default was missed on a loaded 2-core machine ("Timed out while attempting to
    # connect to ephemeral Prefect API server").
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    # No network here, and no telemetry anywhere: both orchestrators would try to phone home.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("DO_NOT_TRACK", "1")
