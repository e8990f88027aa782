"""Benchmark ingest: raw load vs validation + bookkeeping, daily and minute bars (a script).

    .venv/bin/python tests/benchmarks/bench_ingest.py [--minute-rows 1000000] [--repeat 1]
    .venv/bin/pytest tests/benchmarks/bench_ingest.py -m benchmark -s

Daily: the real 100-symbol Yahoo file (293,296 bars) through the daily path of
flows/ingest/daily.py (flows/ingest/curate.py, validations/validate.py, the flow's own commit
helpers).
Minute: the real intraday files (3 ETFs, 3 BTC pairs) replicated under renamed symbols (DBB,
DBB2, ...) to at least ``--minute-rows`` bars, through flows/ingest/minute_rows.py,
validations/minute_bars_validate.py and flows/ingest/minute_commit.py. Each on a fresh lakehouse,
with GX storing results and Data Docs in a file context as the flows do:

- (a) raw load: one transaction appending the raw rows (commit included);
- (b) validation + bookkeeping: the GX suite (result stored in the file context), then one
  transaction writing what the flow's commit writes besides the raw rows (daily: splits,
  quarantine, curated merge, split detection in the touched history, validation results, batch
  record; minute: quarantine, curated, validation results, batch record), commit included.
  The two parts are printed apart too.

Both flows render the Data Docs page after the commit: it is timed apart, as is building the raw
rows. Paid before any clock, once per process or per data folder, not per batch: ``import
great_expectations`` (~7 s), a warm-up pass on a small slice (first calls of polars, DuckDB and
GX), the data folder's GX project with its stored suite, and the lakehouse catalog. The target
is (b) <= 2 x (a). Copy the printed table into docs/benchmarks.md with machine and date.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import math
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pytest

if TYPE_CHECKING:
    from flows.sources.base import SourceBatch
    from validations.result import ValidationOutcome
    from warehouse.lake import Transaction

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
YAHOO_100 = Path("equities_daily/yahoo_us_equities_100_daily_2010-2021.csv.gz")
INTRADAY = (Path("intraday/us_etf_1m_2023-2025"), Path("intraday/crypto_binanceus_1m_2023-03"))
NOW = dt.datetime(2025, 8, 1, tzinfo=dt.UTC)
TODAY = dt.date(2022, 1, 3)  # the day after the daily file's last session
WARM_UP_ROWS = 2_000
Timings = dict[str, float]


def _timed(timings: Timings, name: str, fn: Callable[[], object]) -> object:
    """Run ``fn``; record its wall seconds under ``name`` and its CPU seconds under ``name cpu``
    (all threads of this process: on a shared machine the CPU figure is the steadier one)."""
    started, cpu = time.perf_counter(), time.process_time()
    out = fn()
    timings[name] = time.perf_counter() - started
    timings[f"{name} cpu"] = time.process_time() - cpu
    return out


def daily_run(root: Path, batch: SourceBatch) -> tuple[int, Timings]:
    """Load and validate the daily batch on a fresh lakehouse; return rows and timings."""
    from flows.ingest import curate
    from validations.validate import publish_bar_docs, validate_bars
    from warehouse import schemas
    from warehouse.lake import Lakehouse

    t: Timings = {}
    bid = curate.batch_id(batch)
    raw = _timed(t, "prepare", lambda: curate.raw_rows(batch, batch_id=bid, ingested_at=NOW))
    gx = root / "gx"

    def validate(rows: pl.DataFrame, batch_id: str) -> ValidationOutcome:
        return validate_bars(
            rows, today=TODAY, context_dir=gx, batch_id=batch_id, render_docs=False
        )

    validate(raw.head(WARM_UP_ROWS), "warm-up")  # stores the suite: once per data folder
    with Lakehouse(root / "lake") as lake:
        lake.current_snapshot()  # the catalog is created once per data folder

        def load() -> None:
            with lake.transaction("bench raw", batch_id=bid) as txn:
                txn.append(schemas.RAW_BARS, raw)

        def validate_and_book() -> None:
            outcome = _timed(t, "validate", lambda: validate(raw, bid))
            with lake.transaction("bench bookkeeping", batch_id=bid) as txn:
                _timed(t, "book", lambda: _book_daily(t, txn, batch, raw, outcome, batch_id=bid))

        _timed(t, "raw load", load)
        _timed(t, "validate+book", validate_and_book)
        _timed(t, "docs", lambda: publish_bar_docs(gx, batch_id=bid))
        assert lake.count(schemas.CURATED_BARS) == raw.height
    return raw.height, t


def _book_daily(
    t: Timings,
    txn: Transaction,
    batch: SourceBatch,
    raw: pl.DataFrame,
    outcome: ValidationOutcome,
    *,
    batch_id: str,
) -> None:
    """Write what flows/ingest/daily.py's ``commit`` writes after the raw rows, with its helpers;
    time the curated merge and the split detection apart.

    The file reports no splits, so the flow's re-adjustment for newly reported ones is a no-op
    (asserted) and left out; split detection in the touched symbols' history runs as there.
    """
    from flows.ingest import curate
    from flows.ingest import daily as ingest
    from validations.validate import rule_rows
    from warehouse import schemas

    splits = curate.split_rows(batch, batch_id=batch_id, ingested_at=NOW)
    assert ingest._new_splits(txn, splits).is_empty()
    txn.insert_missing(schemas.RAW_CORPORATE_ACTIONS, splits)
    all_splits = txn.query("SELECT symbol, ex_session, split_ratio FROM raw.corporate_actions")
    txn.append(schemas.QUARANTINE_BARS, outcome.quarantined)
    curated = curate.curated_rows(outcome.passed, splits=all_splits, knowledge_time=NOW)
    _timed(t, "merge", lambda: txn.merge(schemas.CURATED_BARS, curated))
    _timed(
        t,
        "detect",
        lambda: ingest._adjust_detected_splits(txn, outcome.passed, batch_id=batch_id, now=NOW),
    )
    txn.append(schemas.VALIDATION_RESULTS, rule_rows(outcome, batch_id=batch_id, validated_at=NOW))
    txn.append(schemas.BATCHES, ingest._batch_row(batch, raw, outcome, batch_id=batch_id, now=NOW))


def daily_batch(shared: Path) -> SourceBatch:
    """Return the 100-symbol daily file as the file source reads it."""
    from flows.sources.files import FileSource

    return FileSource(shared / YAHOO_100).fetch(
        start=dt.date(2010, 1, 1), end=dt.date(2021, 12, 31)
    )


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
        real.with_columns(symbol=pl.col("symbol") + ("" if i == 0 else f"{i + 1}"))
        for i in range(copies)
    ]
    return pl.concat(renamed)


def minute_run(root: Path, bars: pl.DataFrame) -> tuple[int, Timings]:
    """Load and validate the minute bars on a fresh lakehouse; return rows and timings."""
    from flows.ingest import minute_commit, minute_rows
    from flows.sources.minute_bars import MinuteBatch
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
    gx = root / "gx"
    validate_minute_bars(raw.head(WARM_UP_ROWS), now=NOW, context_dir=gx, batch_id="warm-up")
    with Lakehouse(root / "lake") as lake:
        lake.current_snapshot()

        def load() -> None:
            with lake.transaction("bench raw", batch_id=bid) as txn:
                minute_commit.write_raw(txn, raw)

        def validate_and_book() -> None:
            outcome = _timed(
                t,
                "validate",
                lambda: validate_minute_bars(raw, now=NOW, context_dir=gx, batch_id=bid),
            )
            with lake.transaction("bench bookkeeping", batch_id=bid) as txn:
                _timed(
                    t,
                    "book",
                    lambda: minute_commit.write_outcome(
                        txn, batch, raw, outcome, batch_id=bid, now=NOW
                    ),
                )

        _timed(t, "raw load", load)
        _timed(t, "validate+book", validate_and_book)
        _timed(t, "docs", lambda: publish_minute_docs(gx, batch_id=bid))
        assert lake.count(schemas.CURATED_MINUTE_BARS) == raw.height
    return raw.height, t


def measure(shared: Path, *, minute_rows: int, repeat: int) -> dict[str, tuple[int, Timings]]:
    """Run both benchmarks ``repeat`` times on fresh lakehouses; return rows and median timings."""
    import great_expectations  # noqa: F401 - paid once, before any clock starts

    import flows.ingest.daily  # noqa: F401 - imports Prefect, also once per process

    daily, bars = daily_batch(shared), minute_bars(shared, minute_rows)
    with tempfile.TemporaryDirectory() as tmp:  # first calls in this process, on small slices
        daily_run(Path(tmp) / "daily", _head(daily, WARM_UP_ROWS))
        minute_run(Path(tmp) / "minute", bars.head(WARM_UP_ROWS))
    runs: dict[str, list[tuple[int, Timings]]] = {"daily": [], "minute": []}
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            runs["daily"].append(daily_run(Path(tmp) / "daily", daily))
            runs["minute"].append(minute_run(Path(tmp) / "minute", bars))
    return {
        name: (done[0][0], {k: statistics.median(r[1][k] for r in done) for k in done[0][1]})
        for name, done in runs.items()
    }


def _head(batch: SourceBatch, rows: int) -> SourceBatch:
    return dataclasses.replace(batch, bars=batch.bars.head(rows))


def report(results: dict[str, tuple[int, Timings]]) -> str:
    """Return the results as a table: wall and CPU seconds, rows per second, (b)/(a)."""
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
    for name, (_, t) in results.items():
        parts = [f"{p} {t[p]:.2f}" for p in ("merge", "detect") if p in t]
        inside = f" ({', '.join(parts)})" if parts else ""
        lines.append(
            f"{name} (b) = validation {t['validate']:.2f} s + bookkeeping {t['book']:.2f} s"
            f"{inside} + commit; Data Docs page after the commit {t['docs']:.2f} s (wall)"
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
