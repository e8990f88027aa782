"""Benchmark the feature library: 500 symbols x 10 years of daily bars (a script, not a timed test).

    .venv/bin/python tests/benchmarks/bench_features.py [--repeat 5] [--copies 5] [--cold-numba]
    .venv/bin/pytest tests/benchmarks/bench_features.py -m benchmark -s

Builds the bars from the real 100-symbol Yahoo file (../shared/data), its last 10 years, each
symbol replicated under new names (AAPL, AAPL_2 .. AAPL_5), appends them in session order (the
way daily ingests arrive) to a temporary Lakehouse as curated.bars, then measures in a fresh
child process: the read of curated.bars from the lakehouse, and ``compute_features`` on the
bars in memory (one warm-up call first, which pays numba's compile or cache load; then best and
median of the repeats). Peak memory is the child's maximum resident set size
(``resource.getrusage``), which covers the lakehouse read, the bars and the features.
``--cold-numba`` points numba at an empty cache folder so the warm-up call measures a full
compile. Copy the printed table into docs/benchmarks.md with the machine and date.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
YAHOO_100 = Path("equities_daily/yahoo_us_equities_100_daily_2010-2021.csv.gz")
FIRST_SESSION = dt.date(2012, 1, 1)  # 2012-2021: ten years
KNOWN_AT = dt.datetime(2022, 1, 3, tzinfo=dt.UTC)


def build_bars(data: Path, *, copies: int) -> pl.DataFrame:
    """Return curated bars: the Yahoo file's last ten years, each symbol ``copies`` times."""
    raw = pl.read_csv(data / YAHOO_100, try_parse_dates=True)
    one = (
        raw.filter(pl.col("date") >= FIRST_SESSION)
        .select("symbol", pl.col("date").alias("session"), "open", "high", "low", "close", "volume")
        .with_columns(pl.col("open", "high", "low", "close", "volume").cast(pl.Float64))
    )
    suffix = [pl.col("symbol") + (f"_{i + 1}" if i else "") for i in range(copies)]
    bars = pl.concat([one.with_columns(symbol=s) for s in suffix])
    return bars.with_columns(
        split_factor=pl.lit(1.0),
        source=pl.lit("bench-yahoo"),
        batch_id=pl.lit("bench-batch"),
        knowledge_time=pl.col("session").cast(pl.Datetime("us", "UTC")) + pl.duration(hours=22),
    ).sort("session", "symbol")


def write_lake(bars: pl.DataFrame, root: Path) -> None:
    """Append ``bars`` to curated.bars of a new lakehouse at ``root``."""
    from warehouse.lake import Lakehouse
    from warehouse.schemas import CURATED_BARS

    with Lakehouse(root) as lake, lake.transaction("bench bars") as txn:
        txn.append(CURATED_BARS, bars)


def _timed(call: Callable[[], object], repeat: int) -> tuple[list[float], list[float], object]:
    """Return the wall and CPU seconds of each of ``repeat`` calls, and the last result."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        result = None  # free the previous result first: the peak is one call's, not two
        wall, cpu = time.perf_counter(), time.process_time()
        result = call()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return walls, cpus, result


def measure(root: Path, *, repeat: int) -> dict[str, object]:
    """Time the lakehouse read and the feature computation in this process."""
    started = time.perf_counter()
    from assets.features.compute import compute_features
    from warehouse.lake import Lakehouse
    from warehouse.schemas import CURATED_BARS, FEATURE_COLUMNS

    imported = time.perf_counter() - started
    with Lakehouse(root) as lake:
        reads, _, bars = _timed(lambda: lake.read(CURATED_BARS), repeat)
    first = _timed(lambda: compute_features(bars, known_at=KNOWN_AT), 1)[0]  # result dropped
    runs, cpus, features = _timed(lambda: compute_features(bars, known_at=KNOWN_AT), repeat)
    partition = _partition(root, repeat=repeat)
    return {
        **partition,
        "rows": features.height,
        "symbols": features.get_column("symbol").n_unique(),
        "features": len(FEATURE_COLUMNS),
        "import_s": imported,
        "read_best_s": min(reads),
        "read_median_s": statistics.median(reads),
        "first_call_s": first[0],
        "compute_best_s": min(runs),
        "compute_median_s": statistics.median(runs),
        "compute_cpu_median_s": statistics.median(cpus),
        "load_average": os.getloadavg()[0],
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _partition(root: Path, *, repeat: int) -> dict[str, float]:
    """Time one session's partition as the features asset computes it: read its lookback
    history (HISTORY_SESSIONS before it) from the lakehouse, compute, keep the session."""
    import polars as pl

    from assets.features.compute import compute_features
    from assets.features.window import history_start
    from assets.partitions import EXCHANGE
    from warehouse.lake import Lakehouse
    from warehouse.schemas import CURATED_BARS

    with Lakehouse(root) as lake:
        last = lake.query("SELECT max(session) FROM curated.bars").item()
        first = history_start(last, exchange=EXCHANGE)

        def one() -> pl.DataFrame:
            bars = lake.read(CURATED_BARS, where="session BETWEEN ? AND ?", params=[first, last])
            out = compute_features(bars, known_at=KNOWN_AT)
            return out.filter(pl.col("session") == last)

        walls, _, rows = _timed(one, repeat)
    return {"partition_median_s": statistics.median(walls), "partition_rows": rows.height}


def run(data: Path, workdir: Path, *, copies: int, repeat: int, cold_numba: bool) -> dict:
    """Build and store the bars here, then measure in a fresh child process."""
    bars = build_bars(data, copies=copies)
    write_lake(bars, workdir / "lake")
    env = dict(os.environ)
    if cold_numba:
        env["NUMBA_CACHE_DIR"] = str(workdir / "numba-cache")
    child = [sys.executable, __file__, "--measure", str(workdir / "lake"), "--repeat", str(repeat)]
    proc = subprocess.run(child, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"measuring child failed:\n{proc.stdout}\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def report(result: dict, *, cold_numba: bool) -> str:
    """Return the figures as a small table."""
    cells = result["rows"] * result["features"]
    warm_up = "full numba compile" if cold_numba else "numba cache load (or compile)"
    lines = [
        f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, 1-min load average {result['load_average']:.1f}",
        f"bars: {result['rows']:,} ({result['symbols']} symbols), {result['features']} features",
        f"read curated.bars from the lakehouse: best {result['read_best_s']:.3f} s, "
        f"median {result['read_median_s']:.3f} s",
        f"first compute_features call ({warm_up} + compute): {result['first_call_s']:.2f} s",
        f"warm-up overhead (first call - median): "
        f"{result['first_call_s'] - result['compute_median_s']:.2f} s",
        f"compute_features from bars in memory: best {result['compute_best_s']:.3f} s, "
        f"median {result['compute_median_s']:.3f} s",
        f"  CPU time of a call (both cores, median): {result['compute_cpu_median_s']:.3f} s",
        f"bar-features per second (median): {cells / result['compute_median_s']:,.0f}",
        f"peak memory (max RSS of the measuring process): {result['peak_rss_mb']:,.0f} MB",
        f"one new session's partition (read its lookback + compute, {result['partition_rows']} "
        f"rows kept): median {result['partition_median_s']:.3f} s",
    ]
    return "\n".join(lines)


@pytest.mark.benchmark
def test_feature_library_benchmark(shared_data: Path, tmp_path: Path) -> None:
    result = run(shared_data, tmp_path, copies=5, repeat=3, cold_numba=False)
    print("\n" + report(result, cold_numba=False))
    assert result["symbols"] == 500
    assert result["rows"] > 1_200_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--copies", type=int, default=5, help="copies of the 100 symbols")
    parser.add_argument("--cold-numba", action="store_true", help="measure a full numba compile")
    parser.add_argument("--data", type=Path, default=SHARED_DATA)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # the child's role
    args = parser.parse_args()
    if args.measure is not None:
        print(json.dumps(measure(args.measure, repeat=args.repeat)))
        return
    if not (args.data / YAHOO_100).is_file():
        sys.exit(f"{args.data / YAHOO_100} not found: pass --data <shared/data folder>")
    with tempfile.TemporaryDirectory() as tmp:
        result = run(
            args.data, Path(tmp), copies=args.copies, repeat=args.repeat, cold_numba=args.cold_numba
        )
    print(report(result, cold_numba=args.cold_numba))


if __name__ == "__main__":
    main()
