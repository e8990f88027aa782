"""Two processes writing to one lakehouse at once (Prefect and Dagster do) while a third reads:
every commit lands, each transaction learns its own snapshot id, no reader is refused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from warehouse import schemas
from warehouse.lake import Lakehouse

WRITER = """
import datetime as dt, sys
from pathlib import Path
from warehouse import schemas
from warehouse.lake import Lakehouse
name, n = sys.argv[1], int(sys.argv[2])
now = dt.datetime.now(dt.UTC)
with Lakehouse(Path(sys.argv[3])) as lake:
    for i in range(n):
        row = {"run_id": f"{name}-{i}", "subject": "s", "decision": "d", "reason": "r",
               "decided_at": now}
        with lake.transaction("writer", writer=name, i=i) as txn:
            txn.append(schemas.RISK_DECISIONS, schemas.RISK_DECISIONS.frame([row]))
        print(txn.snapshot_id, flush=True)
"""


READER = """
import sys
from pathlib import Path
from warehouse import schemas
from warehouse.lake import Lakehouse
with Lakehouse(Path(sys.argv[1])) as lake:
    for _ in range(int(sys.argv[2])):
        lake.read(schemas.RISK_DECISIONS, where="subject = ?", params=["s"])
        lake.current_snapshot()
"""


def test_two_writer_processes_lose_nothing(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    with Lakehouse(root) as lake:
        lake.current_snapshot()  # create the catalog before the writers race for it
    n = 25
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, name, str(n), str(root)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ] + [
        subprocess.Popen(
            [sys.executable, "-c", READER, str(root), str(2 * n)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    ]
    outputs = [p.communicate() for p in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err[-3000:]
    ids = [int(line) for out, _ in outputs[:2] for line in out.split()]
    assert len(ids) == 2 * n and len(set(ids)) == 2 * n  # each commit knows its own snapshot
    with Lakehouse(root) as lake:
        assert lake.count(schemas.RISK_DECISIONS) == 2 * n
