"""Integration fixtures: one Prefect test server per session (starting one costs ~13 s)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.model_config import lenient_model_config


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    """Run every flow in this session against one temporary Prefect server."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def simulator_settings(tmp_path, monkeypatch: pytest.MonkeyPatch, prefect_server: None):
    """Return a function giving Settings for a small simulated universe in a temporary data
    folder (environment set the way a deployment would, Prefect/Dagster homes prepared)."""
    from quantlake import runtime
    from quantlake.settings import load_settings

    def make(*, n_symbols: int = 12, **env: str):
        monkeypatch.setenv("QUANTLAKE_DATA_DIR", str(tmp_path / "data"))
        monkeypatch.setenv("QUANTLAKE_SOURCE", "simulator")
        monkeypatch.setenv("QUANTLAKE_SIMULATOR__N_SYMBOLS", str(n_symbols))
        monkeypatch.setenv("QUANTLAKE_HISTORY_START", "2023-01-03")
        # These tests are about ingest and trading, not about whether a model earns promotion:
        # a gate that admits any model keeps them independent of the simulated signal's luck.
        monkeypatch.setenv("QUANTLAKE_MODEL__CONFIG", str(lenient_model_config(tmp_path)))
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        settings = load_settings()
        runtime.prepare(settings)
        return settings

    return make
