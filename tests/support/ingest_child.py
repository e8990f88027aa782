"""A daily-bars load of one or more file batches, run as its own process so a test can SIGKILL it.

``python ingest_child.py --now <ISO time> --daily PATH [--daily PATH ...]`` runs one ingest flow
per PATH (a file or a folder of files: one batch each), in order, all at the same ``now`` so a
rerun writes exactly what a first run writes. Settings (the data folder above all) come from
QUANTLAKE_* variables and the Prefect server from PREFECT_API_URL, as in a deployment. A batch
that is already loaded is no error (a rerun after a crash finds those); one that fails
validation is, so exit status 0 means the whole load went through.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys


def main(argv: list[str]) -> int:
    """Ingest each --daily path in turn; print one JSON line per batch; return 0 when done."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--now", required=True, type=dt.datetime.fromisoformat)
    parser.add_argument("--daily", action="append", required=True)
    args = parser.parse_args(argv)
    if args.now.tzinfo is None:
        parser.error("--now needs a zone, e.g. 2026-11-22T03:00:00+00:00")

    # Imported here, after argument checks: they take seconds, and --help should not.
    from flows.ingest.daily import ingest_flow
    from quantlake import runtime
    from quantlake.settings import load_settings

    runtime.prepare(load_settings())
    for path in args.daily:
        done = ingest_flow(source="file", file_path=path, now=args.now, report_to_dagster=False)
        print(json.dumps({"path": path, "status": done.status, "batch": done.batch_id}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
