"""Fixtures shared by every tier: a temporary lakehouse and the shared market data folder; how
the suite is split between xdist workers (scripts/test.sh runs it with -n 2 --dist loadgroup)."""

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
TESTS = Path(__file__).resolve().parent

# Tests that time process kills against a clean run, or start a whole served stack: one xdist
# group, so none of them runs beside another of them (a second kill test or the five served
# processes would skew the timing the kill tests aim at). The group goes first: it is the
# longest unit of work, and the other worker takes everything else meanwhile.
ALONE = (
    "integration/test_ingest_kill.py",
    "integration/test_trade_kill.py",
    "integration/test_serve.py",
)
ALONE_GROUP = "alone"


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


def module_scoped(item: pytest.Item) -> bool:
    """Say whether the test uses a fixture built once per module (or class)."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    return any(
        defs[-1].scope in ("module", "class", "package") for defs in info.name2fixturedefs.values()
    )


def xdist_group(item: pytest.Item) -> str | None:
    """Return the xdist group of a test: its module's when it shares a module-scoped fixture
    (so the fixture is built on one worker only, and tests that rely on running after one
    another in their module still do); None lets the test go to whichever worker is free."""
    path = item.path.resolve()
    if not path.is_relative_to(TESTS):
        return None
    module = path.relative_to(TESTS).as_posix()
    if module in ALONE:
        return ALONE_GROUP
    return module if module_scoped(item) else None


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups from the marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test with its xdist group; put the ALONE group first."""
    groups = {item: xdist_group(item) for item in items}
    for item, group in groups.items():
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
    # A stable sort: the rest keeps the collection order (integration modules, then unit).
    items.sort(key=lambda item: groups[item] != ALONE_GROUP)
