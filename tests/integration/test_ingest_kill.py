"""Ingest loads SIGKILLed at random moments, then run again (issue 3).

A child process (tests/support/ingest_child.py) loads two daily-bar batches into a lakehouse
that already holds an earlier batch: the 100-symbol file (its commit takes seconds), then the
messy appended files (quarantined rows, and detected splits that rewrite curated bars the first
batch stored). Each batch is two commits: the batch, then its quality report. After a kill the
lakehouse must be exactly as a clean run left it after one of its commits: every preloaded row
intact, each batch and report whole or absent, never half. A rerun must then leave every
declared table exactly as a clean run does.

No column is excluded from the comparisons: every run gets the same ``now``, the only source of
ingested_at, knowledge_time, validated_at, created_at and the report's run id, and no table the
ingest writes stores a snapshot id. A lakehouse cannot be moved (its catalog records its path),
so every run uses one data folder, restored from a copy of the preloaded one before each trial.

The batches are cut from the real files (whole lines, byte for byte) to keep each trial short:
eight of the 100 symbols and the ETFs from 2019 on, the messy files from 2019 on, which keeps
their header quirks, duplicates, null row and the 2022 splits that rewrite the first batch's
AMZN and GOOGL bars. The kills and their number are what the test is about, not the rows.
"""

from __future__ import annotations

import fcntl
import gzip
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
from prefect.settings import PREFECT_API_URL

from warehouse import schemas
from warehouse.lake import Lakehouse

pytestmark = pytest.mark.integration

CHILD = Path(__file__).resolve().parents[1] / "support" / "ingest_child.py"
NOW = "2026-11-22T03:00:00+00:00"
EARLIER = "equities_daily/yahoo_us_etfs_12_daily_2010-2023.csv.gz"  # symbols the load never touches
LOAD = (
    "equities_daily/yahoo_us_equities_100_daily_2010-2021.csv.gz",
    "messy/yahoo_appended_daily_kcjpop_2024-08-09",
)
RANDOM_KILLS = 11  # plus the targeted one: 12 kills in all
FROM = b"2019-01-01"  # rows dated before this are cut from every file
# AAPL, AMZN and GOOGL are also in the messy folder; DOW starts inside the window (2019-03-20).
SYMBOLS = {b"AAPL", b"AMZN", b"GOOGL", b"MSFT", b"JPM", b"DOW", b"KO", b"NVDA"}
DATED = re.compile(rb"^\d{4}-\d{2}-\d{2},")

Tables = dict[str, pl.DataFrame]
Counts = dict[tuple[str, str], int]
Child = subprocess.Popen[bytes]


@dataclass(frozen=True)
class Reference:
    """A clean run of the load: its commits, and the tables after each of them."""

    work: Path  # the data folder every run uses
    template: Path  # a copy of ``work`` holding only the earlier batch
    start: int  # the template's snapshot
    units: tuple[str, ...]  # the batch id or quality-report run id of each commit, in order
    times: tuple[float, ...]  # seconds from the child's start to each commit
    states: Path  # states/<i>/<table>.parquet: the tables after the first i commits
    counts: tuple[Counts, ...]  # rows per (table, unit) after the first i commits

    def state(self, i: int) -> Tables:
        """Return the tables as the clean run left them after its first ``i`` commits."""
        folder = self.states / str(i)
        return {d.table: pl.read_parquet(folder / f"{d.table}.parquet") for d in schemas.ALL}


def kept(line: bytes, symbols: set[bytes] | None) -> bool:
    """Say whether a line of a daily file stays: undated lines (headers, error bodies, the
    404 page) always, dated rows from FROM on, and of a long-format file only ``symbols``."""
    if not DATED.match(line):
        return True
    date, _, rest = line.partition(b",")
    return date >= FROM and (symbols is None or rest.split(b",", 1)[0] in symbols)


def cut_files(shared: Path, into: Path) -> Path:
    """Copy EARLIER and the LOAD under ``into`` with only the kept lines; return ``into``."""
    for name, symbols in ((EARLIER, None), (LOAD[0], SYMBOLS), (LOAD[1], None)):
        source = shared / name
        for file in sorted(source.iterdir()) if source.is_dir() else [source]:
            target = into / file.relative_to(shared)
            target.parent.mkdir(parents=True, exist_ok=True)
            lines = gzip.decompress(file.read_bytes()).splitlines(keepends=True)
            target.write_bytes(gzip.compress(b"".join(x for x in lines if kept(x, symbols))))
    return into


def start_load(work: Path, shared: Path, *paths: str) -> Child:
    """Start the child loading ``paths`` (default: the LOAD) into the data folder ``work``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUANTLAKE_")}
    env.update(PREFECT_API_URL=str(PREFECT_API_URL.value()), QUANTLAKE_DATA_DIR=str(work))
    cmd = [sys.executable, str(CHILD), "--now", NOW]
    for name in paths or LOAD:
        cmd += ["--daily", str(shared / name)]
    with (work.parent / "child.log").open("wb") as log:  # a file: a full pipe would stall it
        return subprocess.Popen(cmd, env=env, cwd=work.parent, stdout=log, stderr=log)


def finish(child: Child, work: Path) -> None:
    """Wait for the child; it must succeed."""
    child.wait()
    log = (work.parent / "child.log").read_text(errors="replace")
    assert child.returncode == 0, f"the ingest child exited {child.returncode}: {log[-3000:]}"


def catalog_units(work: Path, start: int) -> list[str]:
    """Return the units of the commits after ``start`` while a writer runs, reading the catalog
    as SQLite (a Lakehouse would take the write lock to open; the timeout waits out a commit)."""
    uri = f"file:{work / 'lake' / 'catalog.sqlite'}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True, timeout=60)) as catalog:
        rows = catalog.execute(
            "SELECT coalesce(json_extract(commit_extra_info, '$.batch_id'), "
            "json_extract(commit_extra_info, '$.run_id')) FROM ducklake_snapshot_changes "
            "WHERE snapshot_id > ? ORDER BY snapshot_id",
            [start],
        ).fetchall()
    return [unit for (unit,) in rows]


def write_lock_held(work: Path) -> bool:
    """Say whether a process is inside a lakehouse write (holding its commit lock) right now."""
    fd = os.open(work / "lake" / "write.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def commits_after(lake: Lakehouse, start: int) -> list[tuple[int, str]]:
    """Return (snapshot, unit) of each commit after ``start``, oldest first (a commit that
    carries neither a batch id nor a run id shows as its message)."""
    found = [s for s in lake.snapshots(limit=1000) if s.snapshot_id > start]
    return [
        (s.snapshot_id, s.extra.get("batch_id") or s.extra.get("run_id") or str(s.message))
        for s in reversed(found)
    ]


def read_tables(lake: Lakehouse, *, as_of: int | None = None) -> Tables:
    """Return every declared dataset, rows sorted on all columns (so equal tables compare equal)."""
    at = "" if as_of is None else f" AT (VERSION => {int(as_of)})"
    # One query counts them all: reading only the tables with rows saves seconds per trial.
    counts = lake.query(
        " UNION ALL ".join(f"SELECT '{d.table}', count(*) FROM {d.table}{at}" for d in schemas.ALL)
    )
    filled = {table for table, n in counts.iter_rows() if n}
    frames = {
        d.table: lake.read(d, as_of=as_of)
        if d.table in filled
        else pl.DataFrame(schema=d.polars_schema())
        for d in schemas.ALL
    }
    return {t: f.sort(f.columns, nulls_last=True) for t, f in frames.items()}


def anti(left: pl.DataFrame, right: pl.DataFrame) -> int:
    """Count the rows of ``left`` that ``right`` does not hold."""
    return left.join(right, on=left.columns, how="anti", nulls_equal=True).height


def differences(found: Tables, expected: Tables) -> list[str]:
    """Describe each table whose rows differ from ``expected``."""
    return [
        f"{table}: {found[table].height} rows where {want.height} were expected "
        f"({anti(want, found[table])} missing, {anti(found[table], want)} unexpected)"
        for table, want in expected.items()
        if not found[table].equals(want)
    ]


def unit_counts(tables: Tables, units: tuple[str, ...]) -> Counts:
    """Count, per (table, unit), the rows that a batch or a quality report wrote."""
    counts = {}
    for table, frame in tables.items():
        column = next((c for c in ("batch_id", "run_id") if c in frame.columns), None)
        if column is not None:
            mine = frame.filter(pl.col(column).is_in(units)).group_by(column).len()
            counts.update({(table, unit): n for unit, n in mine.iter_rows()})
    return counts


def half_units(found: Tables, ref: Reference, *, kept: int) -> list[str]:
    """Describe each batch or quality report of the load that is not whole or absent.

    A batch counts as loaded when meta.batches records it (the flow's own test), a report when
    any of its rows is there. A loaded unit must have, in every table, the rows it has in the
    clean run once its last commit is in; an unloaded one has no rows anywhere. This holds
    whatever commits the clean run made, so a batch split over two commits is caught too.
    """
    recorded = set(found["meta.batches"]["batch_id"]) | set(found["meta.quality_reports"]["run_id"])
    have, out = unit_counts(found, ref.units), []
    for unit in dict.fromkeys(ref.units):
        last = max(i for i, u in enumerate(ref.units, 1) if u == unit)
        whole = ref.counts[min(max(kept, last), len(ref.units))] if unit in recorded else {}
        for key in sorted(set(have) | set(whole)):
            if key[1] == unit and have.get(key, 0) != whole.get(key, 0):
                state = "loaded" if unit in recorded else "not loaded"
                out.append(
                    f"{key[0]} holds {have.get(key, 0)} rows of {unit} ({state}); "
                    f"whole, it has {whole.get(key, 0)}"
                )
    return out


def lost_rows(found: Tables, before: Tables) -> list[str]:
    """Describe the preloaded rows that are gone."""
    return [
        f"{table}: {anti(old, found[table])} of {old.height} preloaded rows lost"
        for table, old in before.items()
        if anti(old, found[table])
    ]


def watch_load(work: Path, shared: Path, *, start: int) -> tuple[float, ...]:
    """Run the load to completion; return the seconds from its start to each of its commits."""
    began = time.monotonic()
    child, times = start_load(work, shared), []
    while child.poll() is None:
        seen = len(catalog_units(work, start))
        times += [time.monotonic() - began] * (seen - len(times))
        time.sleep(0.05)
    finish(child, work)
    return tuple(times)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    """The cut copies of the real files, laid out as in the shared data folder."""
    return cut_files(shared_data, tmp_path_factory.mktemp("ingest_kill_files"))


@pytest.fixture(scope="module")
def reference(
    tmp_path_factory: pytest.TempPathFactory, files: Path, prefect_server: None
) -> Reference:
    """Preload the earlier batch (the template), then run the load cleanly and keep its states."""
    root = tmp_path_factory.mktemp("ingest_kill")
    work = root / "run" / "data"
    work.parent.mkdir()
    finish(start_load(work, files, EARLIER), work)
    template = root / "template"
    shutil.copytree(work, template)
    with Lakehouse(work / "lake") as lake:
        start = lake.current_snapshot()
    times = watch_load(work, files, start=start)
    states = root / "states"
    counts = []
    with Lakehouse(work / "lake") as lake:
        commits = commits_after(lake, start)
        units = tuple(u for _, u in commits)
        assert len(commits) == len(times), (times, commits)
        assert len(set(units)) == 2 * len(LOAD), f"not a batch and a report per path: {units}"
        for i, snapshot in enumerate([start] + [s for s, _ in commits]):
            (states / str(i)).mkdir(parents=True)
            tables = read_tables(lake, as_of=snapshot)
            for table, frame in tables.items():
                frame.write_parquet(states / str(i) / f"{table}.parquet")
            counts.append(unit_counts(tables, units))
    ref = Reference(work, template, start, units, times, states, tuple(counts))
    # The premise of "preloaded rows intact": a clean load adds to them and rewrites none.
    assert not lost_rows(ref.state(len(units)), ref.state(0))
    return ref


@dataclass(frozen=True)
class Trial:
    """One kill: when, where it landed, and what was wrong afterwards."""

    when: str
    where: str
    inside: bool | None  # inside a lakehouse write when killed; None: the load had finished
    kept: int  # commits of the load that survived the kill
    problems: list[str]


def landing(inside: bool | None, kept: int) -> str:
    """Say where in the load a kill landed."""
    if inside is None:
        return "after the load finished"
    if inside:
        return f"during a write, after {kept} commits"
    return "before any commit" if kept == 0 else f"after {kept} commits"


def trial(ref: Reference, shared: Path, kill: Callable[[Child], tuple[str, bool | None]]) -> Trial:
    """Start the load on a fresh copy of the template, ``kill`` it, check, rerun, compare."""
    shutil.rmtree(ref.work)
    shutil.copytree(ref.template, ref.work)
    when, inside = kill(start_load(ref.work, shared))
    problems = ["the write lock is still held"] if write_lock_held(ref.work) else []
    with Lakehouse(ref.work / "lake") as lake:  # the catalog must open after any kill
        units = tuple(u for _, u in commits_after(lake, ref.start))
        found = read_tables(lake)
    kept = len(units)
    if units != ref.units[:kept]:
        problems.append(f"commits {units} are not a prefix of a clean run's {ref.units}")
    expected = ref.state(min(kept, len(ref.units)))
    problems += lost_rows(found, ref.state(0))
    problems += half_units(found, ref, kept=kept)
    problems += differences(found, expected)
    finish(start_load(ref.work, shared), ref.work)
    with Lakehouse(ref.work / "lake") as lake:
        rerun = differences(read_tables(lake), ref.state(len(ref.units)))
    problems += [f"after the rerun, {d}" for d in rerun]
    where = landing(inside, kept)
    return Trial(when, where, inside, kept, [f"killed {when}, {where}: {p}" for p in problems])


def sigkill(child: Child, work: Path) -> bool:
    """SIGKILL the child; return whether it was inside a lakehouse write."""
    inside = write_lock_held(work)
    child.send_signal(signal.SIGKILL)
    child.wait()
    return inside


def test_killed_loads_keep_whole_batches_and_rerun_to_a_clean_result(
    reference: Reference, files: Path
) -> None:
    rng = random.Random(20261122)
    # The load's duration is up to its last commit (what the process does after it cannot
    # touch the lakehouse); one random delay in each equal slice of [0, 1.2 x duration].
    span = 1.2 * reference.times[-1]
    delays = [(i + rng.random()) * span / RANDOM_KILLS for i in range(RANDOM_KILLS)]

    def after(delay: float) -> Callable[[Child], tuple[str, bool | None]]:
        def kill(child: Child) -> tuple[str, bool | None]:
            time.sleep(delay)
            if child.poll() is not None:
                finish(child, reference.work)
                return f"at {delay:.1f} s", None
            return f"at {delay:.1f} s", sigkill(child, reference.work)

        return kill

    trials = [trial(reference, files, after(delay)) for delay in delays]
    commits = ", ".join(
        f"{u} at {t:.1f} s" for u, t in zip(reference.units, reference.times, strict=True)
    )
    print(f"clean run commits: {commits}", *(f"{t.when}: {t.where}" for t in trials), sep="\n  ")
    problems = [p for t in trials for p in t.problems]
    assert not problems, "\n".join(problems)
    killed = [t.kept for t in trials if t.inside is not None]
    assert 0 in killed, f"no kill landed before the first commit: {[t.where for t in trials]}"
    assert any(killed), f"no kill landed after a commit: {[t.where for t in trials]}"


def test_a_load_killed_as_its_first_batch_commits_reruns_to_a_clean_result(
    reference: Reference, files: Path
) -> None:
    first = reference.units[0]

    def kill(child: Child) -> tuple[str, bool | None]:
        while first not in catalog_units(reference.work, reference.start):
            assert child.poll() is None, f"the load ended ({child.returncode}) before {first}"
            time.sleep(0.02)
        return f"as {first} committed", sigkill(child, reference.work)

    done = trial(reference, files, kill)
    assert done.kept >= 1, done
    assert not done.problems, "\n".join(done.problems)
