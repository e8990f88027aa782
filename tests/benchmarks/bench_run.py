"""Benchmark `quantlake run` per stage on the default universe (a script, not a timed test).

    .venv/bin/python tests/benchmarks/bench_run.py [--repeat 3]

Each repeat runs the CLI in a fresh process on a fresh data folder (cold lakehouse: the whole
simulated history is loaded, validated, featurized and trained on), then once more on the same
folder (the same-day rerun: nothing new to load, no order sent). Prints per-stage seconds and the
process wall time; copy the table into docs/benchmarks.md with the machine and date.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

QUANTLAKE = str(Path(sys.executable).parent / "quantlake")


def one_run(data_dir: Path) -> dict[str, float]:
    out = data_dir.parent / f"summary-{time.monotonic_ns()}.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "QUANTLAKE_"))}
    env["QUANTLAKE_DATA_DIR"] = str(data_dir)
    started = time.perf_counter()
    proc = subprocess.run(
        [QUANTLAKE, "run", "--json", str(out)], env=env, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"quantlake run failed:\n{proc.stdout}\n{proc.stderr}")
    timings = json.loads(out.read_text())["timings"]
    return {**timings, "stages total": sum(timings.values()), "process wall": wall}


def main(argv: list[str] | None = None) -> None:
    """Time ``quantlake run`` cold and rerun, ``--repeat`` times; print the median per stage."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    cold: list[dict[str, float]] = []
    warm: list[dict[str, float]] = []
    for i in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "data"
            cold.append(one_run(data))
            warm.append(one_run(data))
        print(
            f"repeat {i + 1}: cold {cold[-1]['process wall']:.1f} s, "
            f"rerun {warm[-1]['process wall']:.1f} s",
            flush=True,
        )
    print(
        f"\nmachine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )
    print(f"{'stage':<14}{'first run (median s)':>24}{'same-day rerun (median s)':>28}")
    for stage in cold[0]:
        print(
            f"{stage:<14}{statistics.median(r[stage] for r in cold):>24.1f}"
            f"{statistics.median(r[stage] for r in warm):>28.1f}"
        )


@pytest.mark.benchmark
def test_run_benchmark() -> None:
    main(["--repeat", "1"])  # one cold run and its rerun: the figures, not a median


if __name__ == "__main__":
    main()
