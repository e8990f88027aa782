"""Benchmark ingest: raw load vs validation + bookkeeping, daily and minute bars (a script).

    .venv/bin/python tests/benchmarks/bench_ingest.py [--minute-rows 1000000] [--repeat 1]
    .venv/bin/pytest tests/benchmarks/bench_ingest.py -m benchmark -s

Daily: the real 100-symbol Yahoo file (293,296 bars) through the daily path (flows/curate.py,
validations/validate.py). Minute: the real intraday files (3 ETFs, 3 BTC pairs) replicated under
renamed symbols (DBB, DBB_2, ...) to at least ``--minute-rows`` bars, through flows/minute_rows.py,
validations/minute_bars_validate.py and flows/minute_commit.py. Each on a fresh lakehouse, with
GX storing results and Data Docs in a file context as the flows do:

- (a) raw load: one transaction appending the raw rows (commit included);
- (b) validation + bookkeeping: the GX suite (result stored in the file context), then one
  transaction writing quarantine, curated (merge), validation results and the batch record
  (commit included). The daily suite also renders its Data Docs page inside (b); the minute
  flow renders it after the commit, timed apart as "Data Docs page".

Building the raw rows (row numbers, for minutes the session and market phase) is timed apart.
``import great_expectations`` (~7 s, once per process) and creating the data folder's GX project
and lakehouse catalog (once per folder) are paid before the clock starts. The
target is (b) <= 2 x (a). Copy the printed table into docs/benchmarks.md with machine and date.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
YAHOO_100 = Path("equities_daily/yahoo_us_equities_100_daily_2010-2021.csv.gz")
INTRADAY = (Path("intraday/us_etf_1m_2023-2025"), Path("intraday/crypto_binanceus_1m_2023-03"))
NOW = dt.datetime(2025, 8, 1, tzinfo=dt.UTC)
Timings = dict[str, float]


def _timed(timings: Timings, name: str, fn: Callable[[], object]) -> object:
    """Run ``fn``; record its wall seconds under ``name`` and its CPU seconds under ``name cpu``
    (all threads of this process: on a shared machine the CPU figure is the steadier one)."""
    started, cpu = time.perf_counter(), time.process_time()
    out = fn()
    timings[name] = time.perf_counter() - started
    timings[f"{name} cpu"] = time.process_time() - cpu
    return out


def daily_run(root: Path, shared: Path) -> tuple[int, Timings]:
    """Load and validate the daily file on a fresh lakehouse; return rows and timings."""
    from flows import curate
    from flows.sources.files import FileSource
    from validations.context import file_context
    from validations.validate import rule_rows, validate_bars
    from warehouse import schemas
    from warehouse.lake import Lakehouse

    t: Timings = {}
    batch = FileSource(shared / YAHOO_100).fetch(
        start=dt.date(2010, 1, 1), end=dt.date(2021, 12, 31)
    )
    bid = curate.batch_id(batch)
    raw = _timed(t, "prepare", lambda: curate.raw_rows(batch, batch_id=bid, ingested_at=NOW))
    file_context(root / "gx")  # a data folder's GX project is created once, not per batch
    with Lakehouse(root / "lake") as lake:
        lake.current_snapshot()  # so is its lakehouse catalog

        def load() -> None:
            with lake.transaction("bench raw", batch_id=bid) as txn:
                txn.append(schemas.RAW_BARS, raw)

        def validate_and_book() -> None:
            outcome = validate_bars(
                raw, today=dt.date(2022, 1, 3), context_dir=root / "gx", batch_id=bid
            )
            curated = curate.curated_rows(outcome.passed, splits=batch.splits, knowledge_time=NOW)
            with lake.transaction("bench bookkeeping", batch_id=bid) as txn:
                txn.append(schemas.QUARANTINE_BARS, outcome.quarantined)
                txn.merge(schemas.CURATED_BARS, curated)
                txn.append(
                    schemas.VALIDATION_RESULTS, rule_rows(outcome, batch_id=bid, validated_at=NOW)
                )
                txn.append(schemas.BATCHES, _daily_batch_row(bid, raw, outcome.status))

        _timed(t, "raw load", load)
        _timed(t, "validate+book", validate_and_book)
        assert lake.count(schemas.CURATED_BARS) == raw.height
    return raw.height, t


def _daily_batch_row(bid: str, raw: pl.DataFrame, status: str) -> pl.DataFrame:
    from warehouse import schemas

    sessions = raw.get_column("session")
    row = {
        "batch_id": bid, "source": "file", "ingested_at": NOW, "dataset": "daily_bars",
        "first_session": sessions.min(), "last_session": sessions.max(), "rows_in": raw.height,
        "rows_passed": raw.height, "rows_quarantined": 0, "status": status, "message": "bench",
    }  # fmt: skip
    return schemas.BATCHES.frame([row])


def minute_bars(shared: Path, rows: int) -> pl.DataFrame:
    """Return the real intraday bars, replicated under renamed symbols to at least ``rows``."""
    from flows.sources.minute_file_layout import MinuteFileLayout
    from flows.sources.minute_files import MinuteFileSource

    source = MinuteFileSource(
        tuple(shared / p for p in INTRADAY), layout=MinuteFileLayout(naive_timezone="UTC")
    )
    real = source.fetch(start=dt.datetime(2000, 1, 1, tzinfo=dt.UTC), end=NOW).bars
    copies = math.ceil(rows / real.height)
    renamed = [
        real.with_columns(symbol=pl.col("symbol") + ("" if i == 0 else f"_{i + 1}"))
        for i in range(copies)
    ]
    return pl.concat(renamed)


def minute_run(root: Path, bars: pl.DataFrame) -> tuple[int, Timings]:
    """Load and validate the minute bars on a fresh lakehouse; return rows and timings."""
    from flows import minute_commit, minute_rows
    from flows.sources.minute_bars import MinuteBatch
    from validations.context import file_context
    from validations.minute_bars_validate import publish_minute_docs, validate_minute_bars
    from warehouse import schemas
    from warehouse.lake import Lakehouse

    t: Timings = {}
    batch = MinuteBatch("minute_files", bars)
    bid = minute_rows.minute_batch_id(batch)
    raw = _timed(
        t,
        "prepare",
        lambda: minute_rows.raw_minute_rows(batch, batch_id=bid, ingested_at=NOW, exchange="XNYS"),
    )
    file_context(root / "gx")
    with Lakehouse(root / "lake") as lake:
        lake.current_snapshot()

        def load() -> None:
            with lake.transaction("bench raw", batch_id=bid) as txn:
                minute_commit.write_raw(txn, raw)

        def validate_and_book() -> None:
            outcome = validate_minute_bars(raw, now=NOW, context_dir=root / "gx", batch_id=bid)
            with lake.transaction("bench bookkeeping", batch_id=bid) as txn:
                minute_commit.write_outcome(txn, batch, raw, outcome, batch_id=bid, now=NOW)

        _timed(t, "raw load", load)
        _timed(t, "validate+book", validate_and_book)
        _timed(t, "docs", lambda: publish_minute_docs(root / "gx", batch_id=bid))
        assert lake.count(schemas.CURATED_MINUTE_BARS) == raw.height
    return raw.height, t


def measure(shared: Path, *, minute_rows: int, repeat: int) -> dict[str, tuple[int, Timings]]:
    """Run both benchmarks ``repeat`` times on fresh lakehouses; return rows and median timings."""
    import great_expectations  # noqa: F401 - paid once, before any clock starts

    bars = minute_bars(shared, minute_rows)
    runs: dict[str, list[tuple[int, Timings]]] = {"daily": [], "minute": []}
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            runs["daily"].append(daily_run(Path(tmp) / "daily", shared))
            runs["minute"].append(minute_run(Path(tmp) / "minute", bars))
    return {
        name: (done[0][0], {k: statistics.median(r[1][k] for r in done) for k in done[0][1]})
        for name, done in runs.items()
    }


def report(results: dict[str, tuple[int, Timings]]) -> str:
    lines = [
        f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}",
        f"{'dataset':<8}{'clock':>6}{'rows':>11}{'prepare s':>11}{'(a) raw load s':>16}"
        f"{'rows/s':>11}{'(b) valid+book s':>18}{'rows/s':>11}{'(b)/(a)':>9}",
    ]
    for name, (rows, t) in results.items():
        for clock, suffix in (("wall", ""), ("cpu", " cpu")):
            a, b = t["raw load" + suffix], t["validate+book" + suffix]
            lines.append(
                f"{name:<8}{clock:>6}{rows:>11,}{t['prepare' + suffix]:>11.2f}{a:>16.2f}"
                f"{rows / a:>11,.0f}{b:>18.2f}{rows / b:>11,.0f}{b / a:>9.2f}"
            )
    docs = results["minute"][1]
    lines.append(
        f"minute Data Docs page, rendered after the commit: {docs['docs']:.2f} s wall, "
        f"{docs['docs cpu']:.2f} s cpu (the daily suite renders inside (b))"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minute-rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    if not SHARED_DATA.is_dir():
        raise SystemExit(f"shared market data not found at {SHARED_DATA}")
    print(report(measure(SHARED_DATA, minute_rows=args.minute_rows, repeat=args.repeat)))


@pytest.mark.benchmark
def test_ingest_benchmark(shared_data: Path) -> None:
    results = measure(shared_data, minute_rows=1_000_000, repeat=1)
    print("\n" + report(results))
    assert results["daily"][0] == 293_296
    assert results["minute"][0] >= 1_000_000


if __name__ == "__main__":
    main()
