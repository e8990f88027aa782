"""`quantlake serve` end to end: the real Prefect server, served deployments, Dagster webserver
and daemon as child processes, driven only through their public HTTP APIs.

Proves: the two deployments exist with exchange-session schedules (holidays excluded, scheduled
by the server itself); the Dagster lineage runs from raw bars to orders; an on-demand ingest run
lands data, its runless event wakes the daemon's automation sensor, which materializes features,
model and predictions for the ingested session; Ctrl-C stops every process serve started.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from warehouse import calendar, schemas
from warehouse.lake import Lakehouse

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent
NEW_YORK = ZoneInfo("America/New_York")
N_SYMBOLS = 8
SCHEDULES = {"daily-ingest": ("ingest", dt.time(17, 30)), "daily-trade": ("trade", dt.time(9, 45))}
ON_DEMAND = {"backfill", "fill-gaps"}  # unscheduled: run from the UI with parameters
LINEAGE = [
    ("raw/bars", "curated/bars"),
    ("curated/bars", "features/daily"),
    ("features/daily", "models/registry"),
    ("models/registry", "predictions/daily"),
    ("predictions/daily", "trading/orders"),
]
TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}  # Prefect state types
DAGSTER_TERMINAL = {"SUCCESS", "FAILURE", "CANCELED"}  # Dagster run statuses


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    data_dir: Path
    prefect_home: Path
    output: Path
    prefect_api: str
    dagster_graphql: str

    def logs_tail(self, lines: int = 30) -> str:
        """Return the end of every service log and of serve's own output, for failure messages."""
        parts = []
        for log in [self.output, *sorted((self.data_dir / "logs").glob("*.log"))]:
            text = log.read_text(errors="replace").splitlines()[-lines:] if log.exists() else []
            parts.append(f"--- {log.name} ---\n" + "\n".join(text))
        return "\n".join(parts)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def poll(what: str, check: Callable[[], Any], *, served: Served, deadline: float) -> Any:
    """Return check()'s first truthy result, or fail after ``deadline`` s with the logs' tails."""
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if served.process.poll() is not None:
            pytest.fail(f"quantlake serve exited while waiting for {what}\n{served.logs_tail()}")
        if result := check():
            return result
        time.sleep(2)
    pytest.fail(f"no {what} after {deadline:.0f} s\n{served.logs_tail()}")


def leaked(prefect_home: Path) -> list[int]:
    """Return the pids of live processes whose environment carries this test's PREFECT_HOME."""
    marker = f"PREFECT_HOME={prefect_home}".encode()
    pids = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if marker in environ.read_bytes().split(b"\0"):
                pids.append(int(environ.parent.name))
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue  # the process ended while we looked, or is not ours
    return pids


def service_env(tmp: Path) -> dict[str, str]:
    scrubbed = ("PREFECT_", "QUANTLAKE_", "DAGSTER_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(scrubbed)}
    env.update(
        QUANTLAKE_SOURCE="simulator",
        QUANTLAKE_SIMULATOR__N_SYMBOLS=str(N_SYMBOLS),
        QUANTLAKE_HISTORY_START="2024-01-02",
        PREFECT_HOME=str(tmp / "prefect-home"),
    )
    return env


def start_serve(tmp: Path) -> Served:
    prefect_port, dagster_port = free_port(), free_port()
    output = tmp / "serve-output.txt"
    args = [str(BIN / "quantlake"), "serve", "--data-dir", str(tmp / "data")]
    args += ["--prefect-port", str(prefect_port), "--dagster-port", str(dagster_port)]
    with output.open("wb") as out:
        # Its own session, as in a terminal: signals reach serve only, never its children.
        process = subprocess.Popen(
            args,
            cwd=tmp,
            env=service_env(tmp),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Served(
        process=process,
        data_dir=tmp / "data",
        prefect_home=tmp / "prefect-home",
        output=output,
        prefect_api=f"http://127.0.0.1:{prefect_port}/api",
        dagster_graphql=f"http://127.0.0.1:{dagster_port}/graphql",
    )


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A running `quantlake serve`; stopped (and anything left behind killed) at the end."""
    s = start_serve(tmp_path_factory.mktemp("serve"))
    try:
        poll(
            "ready line from serve",
            lambda: "Ctrl-C" in s.output.read_text(),
            served=s,
            deadline=240,
        )
        yield s
    finally:
        if s.process.poll() is None:
            s.process.send_signal(signal.SIGINT)
            try:
                s.process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                s.process.kill()
        for pid in leaked(s.prefect_home):  # a failed test must not leave servers running
            os.kill(pid, signal.SIGKILL)


def prefect(served: Served, method: str, path: str, body: Any = None) -> Any:
    response = httpx.request(method, f"{served.prefect_api}{path}", json=body, timeout=30)
    assert response.is_success, f"{method} {path}: {response.status_code} {response.text}"
    return response.json()


def dagster(served: Served, query: str) -> dict[str, Any]:
    response = httpx.post(served.dagster_graphql, json={"query": query}, timeout=30)
    payload = response.json()
    assert response.is_success and "errors" not in payload, payload
    return payload["data"]


def deployments(served: Served) -> dict[str, dict[str, Any]]:
    return {d["name"]: d for d in prefect(served, "POST", "/deployments/filter", {})}


def both_deployments(served: Served) -> dict[str, dict[str, Any]] | None:
    found = deployments(served)
    return found if len(found) >= len(SCHEDULES) + len(ON_DEMAND) else None


def scheduled_starts(served: Served, deployment_id: str) -> list[dt.datetime]:
    body = {
        "deployments": {"id": {"any_": [deployment_id]}},
        "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}},
        "sort": "EXPECTED_START_TIME_ASC",
        "limit": 200,
    }
    runs = prefect(served, "POST", "/flow_runs/filter", body)
    by_schedule = [r for r in runs if (r.get("created_by") or {}).get("type") == "SCHEDULE"]
    return [dt.datetime.fromisoformat(r["expected_start_time"]) for r in by_schedule]


def session_starts(at: dt.time, start: dt.datetime, end: dt.datetime) -> list[dt.datetime]:
    """The oracle: every exchange session in [start, end] at ``at`` New York time."""
    days = calendar.sessions(start.astimezone(NEW_YORK).date(), end.astimezone(NEW_YORK).date())
    starts = [dt.datetime.combine(day, at, tzinfo=NEW_YORK) for day in days]
    return [t for t in starts if start <= t <= end]


def test_serve_prints_where_everything_is(served: Served) -> None:
    shown = served.output.read_text()
    assert served.prefect_api.removesuffix("/api") in shown
    assert served.dagster_graphql.removesuffix("/graphql") in shown
    assert str((served.data_dir / "gx" / "data_docs" / "index.html").resolve()) in shown
    names = {p.name for p in (served.data_dir / "logs").glob("*.log")}
    expected = {"prefect-server", "prefect-deployments", "dagster-webserver", "dagster-daemon"}
    assert names == {f"{n}.log" for n in expected}


def test_deployments_are_scheduled_on_exchange_sessions_only(served: Served) -> None:
    found = poll("both deployments", lambda: both_deployments(served), served=served, deadline=120)
    assert set(found) == set(SCHEDULES) | ON_DEMAND
    assert not any(found[name]["schedules"] for name in ON_DEMAND)
    window = dt.timedelta(days=45)  # from late November, this spans Thanksgiving and Christmas
    for name, (flow, at) in SCHEDULES.items():
        deployment = found[name]
        assert prefect(served, "GET", f"/flows/{deployment['flow_id']}")["name"] == flow
        [schedule] = deployment["schedules"]
        assert schedule["active"] and not deployment["paused"]
        assert schedule["schedule"]["timezone"] == "America/New_York"
        assert "rrule" in schedule["schedule"]
        # The server's own scheduler service must have queued the first runs by itself.
        runs = partial(scheduled_starts, served, deployment["id"])
        auto = poll(f"auto-scheduled runs of {name}", runs, served=served, deadline=120)
        assert auto == session_starts(at, auto[0], auto[-1])
        # Then ask it for six more weeks of runs and compare them with the exchange calendar.
        start = dt.datetime.now(dt.UTC)
        end = start + window
        body = {
            "start_time": start.isoformat(),
            "end_time": end.isoformat(),
            "min_time": window.total_seconds(),
            "max_runs": 100,
        }
        prefect(served, "POST", f"/deployments/{deployment['id']}/schedule", body)
        starts = [t for t in scheduled_starts(served, deployment["id"]) if start <= t <= end]
        assert starts == session_starts(at, start, end)


def test_dagster_lineage_runs_from_raw_bars_to_orders(served: Served) -> None:
    query = "{ assetNodes { assetKey { path } dependencyKeys { path } } }"
    nodes = dagster(served, query)["assetNodes"]
    edges = {
        ("/".join(dep["path"]), "/".join(node["assetKey"]["path"]))
        for node in nodes
        for dep in node["dependencyKeys"]
    }
    assert set(LINEAGE) <= edges, f"missing edges: {set(LINEAGE) - edges}"


def automation_runs(served: Served) -> list[dict[str, Any]]:
    """Return every Dagster run: nothing else launches runs in the served instance (the
    automation sensor's runs, and the backfill runs it emits for many partitions at once)."""
    query = """{ runsOrError { ... on Runs { results {
        runId status assetSelection { path } } } } }"""
    return dagster(served, query)["runsOrError"]["results"]


def test_ingest_run_wakes_dagster_automation(served: Served) -> None:
    # The real clock: features only see bars known by their own (wall-clock) cut-off.
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    ingest = deployments(served)["daily-ingest"]
    body = {"parameters": {"now": now.isoformat()}}
    flow_run = prefect(served, "POST", f"/deployments/{ingest['id']}/create_flow_run", body)

    def finished() -> dict[str, Any] | None:
        state = prefect(served, "GET", f"/flow_runs/{flow_run['id']}")["state"]
        return state if state["type"] in TERMINAL else None

    state = poll("finished ingest flow run", finished, served=served, deadline=240)
    assert state["type"] == "COMPLETED", f"{state}\n{served.logs_tail()}"
    assert (served.data_dir / "gx" / "data_docs" / "index.html").is_file()

    def selected(run: dict[str, Any]) -> set[str]:
        return {"/".join(k["path"]) for k in run["assetSelection"] or []}

    def scored() -> list[dict[str, Any]] | None:
        # Features for the model's window (one backfill run), then the model, then the latest
        # session's predictions: each a tick of the automation sensor after the one before.
        runs = [r for r in automation_runs(served) if r["status"] in DAGSTER_TERMINAL]
        failed = [r for r in runs if r["status"] != "SUCCESS"]
        assert not failed, f"{failed}\n{served.logs_tail()}"
        done = any("predictions/daily" in selected(r) for r in runs)
        return runs if done else None

    runs = poll("the automation's predictions run", scored, served=served, deadline=600)
    assert {"features/daily", "models/registry", "predictions/daily"} <= set().union(
        *(selected(r) for r in runs)
    )
    session = calendar.last_completed_session(now)
    with Lakehouse(served.data_dir / "lake") as lake:
        latest = lake.read(schemas.PREDICTIONS, where="session = ?", params=[session])
    assert latest.get_column("symbol").n_unique() == N_SYMBOLS, served.logs_tail()


def test_ctrl_c_stops_every_service(served: Served) -> None:
    assert leaked(served.prefect_home), "the services should be running before the stop"
    served.process.send_signal(signal.SIGINT)
    code = served.process.wait(timeout=120)
    assert code == 0, served.logs_tail()
    end = time.monotonic() + 15  # SIGKILLed grandchildren may take a moment to be reaped
    while leaked(served.prefect_home) and time.monotonic() < end:
        time.sleep(0.5)
    assert leaked(served.prefect_home) == []
