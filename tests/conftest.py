"""Fixtures shared by every tier: a temporary lakehouse and the shared market data folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from warehouse.lake import Lakehouse

# No per-example deadline: that is a wall-clock limit, and these machines are shared and noisy.
hypothesis_settings.register_profile("quantlake", deadline=None)
hypothesis_settings.load_profile("quantlake")

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def lake(tmp_path: Path) -> Iterator[Lakehouse]:
    """An empty lakehouse in a temporary folder, with every dataset created."""
    with Lakehouse(tmp_path / "lake") as lh:
        yield lh


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real market data beside the checkout (../shared/data), or skip with the reason."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared market data not found at {SHARED_DATA} (see README: Test data)")
    return SHARED_DATA
