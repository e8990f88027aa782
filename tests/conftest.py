"""Fixtures shared by every tier: a temporary lakehouse and the shared market data folder; how
the suite is split between xdist workers (scripts/test.sh runs it with -n 2 --dist loadscope)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

from warehouse.lake import Lakehouse

# No per-example deadline: that is a wall-clock limit, and these machines are shared and noisy.
hypothesis_settings.register_profile("quantlake", deadline=None)
hypothesis_settings.load_profile("quantlake")

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

# Tests that time process kills against a clean run, or start a whole served stack: one unit of
# xdist work, so none of them runs beside another of them (a second kill test or the five served
# processes would skew the timing the kill tests aim at). It goes first: it is the longest unit,
# and the other worker takes everything else meanwhile.
ALONE = (
    "tests/integration/test_ingest_kill.py",
    "tests/integration/test_trade_kill.py",
    "tests/integration/test_serve.py",
)


def pytest_configure(config: pytest.Config) -> None:
    """Refuse Prefect's temporary server in this process: a flow run outside the shared
    harness (the prefect_server fixture) fails at once instead of starting a server of its
    own, ~13 s each. Set before any test module imports Prefect, which reads it once."""
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_ENABLED", "false")
    # An xdist worker starts with COLUMNS=80 where the controller had none; rich's module-level
    # consoles would then fix their width at 80 and ignore the COLUMNS a CLI test sets.
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and workerinput.get("columns") is None:
        os.environ.pop("COLUMNS", None)


@pytest.hookimpl(optionalhook=True)  # an xdist hook: absent without pytest-xdist
def pytest_configure_node(node: Any) -> None:
    """Tell each xdist worker whether this process had COLUMNS set."""
    node.workerinput["columns"] = os.environ.get("COLUMNS")


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


def work_unit(nodeid: str) -> str:
    """Return the xdist unit of work of a test: its module (module-scoped fixtures are built
    once, tests that follow one another in a module still do), or "alone" for ALONE."""
    module = nodeid.split("::", 1)[0]
    return "alone" if module in ALONE else module


@pytest.hookimpl(optionalhook=True)  # an xdist hook: absent without pytest-xdist
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Schedule --dist loadscope by work_unit (xdist's loadgroup marks do nothing under
    pytest 9.2: it tags node ids through an attribute pytest no longer reads)."""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class WorkUnitScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    return WorkUnitScheduling(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Put the ALONE tests first (run with --no-loadscope-reorder, xdist keeps this order)."""
    # A stable sort: the rest keeps the collection order (integration modules, then unit).
    items.sort(key=lambda item: work_unit(item.nodeid) != "alone")
