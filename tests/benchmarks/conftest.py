"""Collect the benchmark scripts (bench_*.py) so `pytest tests/benchmarks -m benchmark -s` runs
them; every item here is marked ``benchmark``, so the normal run (-m "not benchmark") skips them."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Module | None:
    """Collect bench_*.py beside this file as test modules (pytest only looks at test_*.py)."""
    bench = file_path.suffix == ".py" and file_path.name.startswith("bench_")
    if bench and file_path.parent.resolve() == HERE:
        return pytest.Module.from_parent(parent, path=file_path)
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every benchmark item, so no figure-printing run slips into the normal suite."""
    for item in items:
        if item.path.resolve().parent == HERE:
            item.add_marker(pytest.mark.benchmark)
