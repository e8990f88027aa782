"""`quantlake serve`: Prefect server + deployments, Dagster webserver + daemon, as children.

Each child runs in its own session, so a Ctrl-C in the terminal reaches only this process, which
then stops the children in order. SIGTERM and SIGHUP take the same path, so a service manager
(or a closed terminal) never leaves orphaned servers behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from rich.console import Console
from rich.markup import escape

from quantlake.runtime import DEPLOYMENT_DIR
from quantlake.settings import Settings

BIN = Path(sys.executable).parent
STOP_GRACE_SECONDS = 20.0


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log: Path


def _start(name: str, args: list[str], *, env: dict[str, str], logs: Path) -> Child:
    log = logs / f"{name}.log"
    with log.open("ab") as handle:
        # The working directory is the caller's, so every child reads the same .env as the CLI.
        process = subprocess.Popen(
            args, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Child(name, process, log)


def _wait_http(url: str, *, child: Child, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.process.poll() is not None:
            raise RuntimeError(
                f"{child.name} exited with code {child.process.returncode}; see {child.log}"
            )
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass  # not listening yet: poll again until the deadline
        time.sleep(0.5)
    raise RuntimeError(
        f"{child.name} did not answer at {url} within {timeout:.0f} s; see {child.log}"
    )


def prepare_dagster_instance(dagster_home: Path) -> None:
    """Create the Dagster instance's storage once, before the webserver and daemon open it.

    Both create missing SQLite storage at start; started together on a fresh DAGSTER_HOME they
    race and stamp the schedule database with two Alembic heads, and neither can load it again.
    """
    import dagster as dg

    with dg.DagsterInstance.from_config(str(dagster_home)):
        pass


def _service_env(prefect_port: int) -> dict[str, str]:
    env = dict(os.environ)
    api = f"http://127.0.0.1:{prefect_port}/api"
    env["PREFECT_API_URL"] = api
    env["PREFECT_UI_API_URL"] = api
    env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    return env


def start_services(
    settings: Settings, *, prefect_port: int, dagster_port: int
) -> tuple[list[Child], dict[str, str]]:
    """Start every service and return the children and their URLs once they answer."""
    logs = settings.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = _service_env(prefect_port)
    workspace = str(DEPLOYMENT_DIR / "workspace.yaml")
    prefect = [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1"]
    webserver = [str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(dagster_port)]
    children: list[Child] = []
    try:
        server = _start(
            "prefect-server", [*prefect, "--port", str(prefect_port)], env=env, logs=logs
        )
        children.append(server)
        prepare_dagster_instance(settings.dagster_home)
        _wait_http(f"{env['PREFECT_API_URL']}/health", child=server, timeout=120)
        deployments = [sys.executable, "-m", "flows.deployments"]
        children.append(_start("prefect-deployments", deployments, env=env, logs=logs))
        web = _start("dagster-webserver", [*webserver, "-w", workspace], env=env, logs=logs)
        children.append(web)
        daemon = [str(BIN / "dagster-daemon"), "run", "-w", workspace]
        children.append(_start("dagster-daemon", daemon, env=env, logs=logs))
        _wait_http(f"http://127.0.0.1:{dagster_port}/server_info", child=web, timeout=180)
    except BaseException:
        stop(children)
        raise
    urls = {
        "Prefect UI": f"http://127.0.0.1:{prefect_port}",
        "Dagster UI": f"http://127.0.0.1:{dagster_port}",
        "Data Docs": str((settings.docs_dir / "index.html").resolve()),
    }
    return children, urls


def _signal_group(child: Child, signum: int) -> None:
    # ProcessLookupError: the whole process group has already exited.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.process.pid, signum)


def stop(children: list[Child], *, grace: float = STOP_GRACE_SECONDS) -> None:
    """Stop the children as Ctrl-C would, newest first, each before the service it depends on.

    SIGINT, not SIGTERM: Prefect 3.8's runner ignores SIGTERM (its handler never awaits the
    shutdown), while every service here shuts down cleanly on KeyboardInterrupt. The deployments
    process pauses its schedules through the Prefect server on the way out, so the server goes
    last. A child still running after ``grace`` seconds is killed.
    """
    for child in reversed(children):
        if child.process.poll() is None:
            _signal_group(child, signal.SIGINT)
        try:
            child.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            _signal_group(child, signal.SIGKILL)
            child.process.wait()
        # Grandchildren (code servers, run workers, flow runs) share the child's group.
        _signal_group(child, signal.SIGKILL)


def _watch(children: list[Child], console: Console) -> None:
    while True:
        dead = [c for c in children if c.process.poll() is not None]
        if dead:
            console.print(
                f"[bold red]{dead[0].name} stopped[/] (code {dead[0].process.returncode}); "
                f"see {escape(str(dead[0].log))}. Stopping the other services."
            )
            raise SystemExit(1)
        time.sleep(1)


def serve_all(
    settings: Settings, *, prefect_port: int, dagster_port: int, console: Console
) -> None:
    """Start everything, print the URLs, and stay up until Ctrl-C, SIGTERM or a service dies."""
    # All three stop signals take the Ctrl-C path, even when started with SIGINT ignored (a
    # background job of a script): the children then start with SIGINT at its default too.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.default_int_handler)
    children: list[Child] = []
    try:
        with console.status("Starting Prefect server, deployments, Dagster webserver, daemon..."):
            try:
                children, urls = start_services(
                    settings, prefect_port=prefect_port, dagster_port=dagster_port
                )
            except RuntimeError as exc:
                console.print(f"[bold red]Could not start the services[/]: {escape(str(exc))}")
                raise SystemExit(1) from exc
        # soft_wrap: a long path stays on one line, so it can be copied (or clicked) whole.
        for name, url in urls.items():
            console.print(f"[bold cyan]{name:<11}[/] {escape(url)}", soft_wrap=True)
        logs = (settings.data_dir / "logs").resolve()
        console.print(f"Logs in {escape(str(logs))}. Ctrl-C stops everything.", soft_wrap=True)
        _watch(children, console)
    except KeyboardInterrupt:
        console.print("Stopping...")
    finally:
        stop(children)
    console.print("Stopped.")
