"""`quantlake serve`: Prefect server + deployments, Dagster webserver + daemon, as children."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from rich.console import Console

from quantlake.runtime import DEPLOYMENT_DIR
from quantlake.settings import Settings

BIN = Path(sys.executable).parent
ROOT = DEPLOYMENT_DIR.parent


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log: Path


def _start(name: str, args: list[str], *, env: dict[str, str], logs: Path) -> Child:
    log = logs / f"{name}.log"
    handle = log.open("ab")
    process = subprocess.Popen(
        args, env=env, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
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
            pass
        time.sleep(0.5)
    raise RuntimeError(
        f"{child.name} did not answer at {url} within {timeout:.0f} s; see {child.log}"
    )


def start_services(
    settings: Settings, *, prefect_port: int, dagster_port: int
) -> tuple[list[Child], dict[str, str]]:
    """Start every service and return the children and their URLs once they answer."""
    logs = settings.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    api = f"http://127.0.0.1:{prefect_port}/api"
    env["PREFECT_API_URL"] = api
    env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    env["PREFECT_UI_API_URL"] = api
    workspace = str(DEPLOYMENT_DIR / "workspace.yaml")
    children: list[Child] = []
    try:
        server = _start(
            "prefect-server",
            [
                str(BIN / "prefect"),
                "server",
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                str(prefect_port),
            ],
            env=env,
            logs=logs,
        )
        children.append(server)
        _wait_http(f"{api}/health", child=server, timeout=120)
        children.append(
            _start(
                "prefect-deployments",
                [sys.executable, "-m", "flows.deployments"],
                env=env,
                logs=logs,
            )
        )
        web = _start(
            "dagster-webserver",
            [
                str(BIN / "dagster-webserver"),
                "-h",
                "127.0.0.1",
                "-p",
                str(dagster_port),
                "-w",
                workspace,
            ],
            env=env,
            logs=logs,
        )
        children.append(web)
        children.append(
            _start(
                "dagster-daemon",
                [str(BIN / "dagster-daemon"), "run", "-w", workspace],
                env=env,
                logs=logs,
            )
        )
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


def stop(children: list[Child]) -> None:
    """Stop the children, politely first."""
    for child in reversed(children):
        if child.process.poll() is None:
            os.killpg(child.process.pid, signal.SIGTERM)
    for child in reversed(children):
        try:
            child.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(child.process.pid, signal.SIGKILL)


def serve_all(
    settings: Settings, *, prefect_port: int, dagster_port: int, console: Console
) -> None:
    """Start everything, print the URLs, and stay up until Ctrl-C or a service dies."""
    with console.status("Starting Prefect server, deployments, Dagster webserver and daemon..."):
        children, urls = start_services(
            settings, prefect_port=prefect_port, dagster_port=dagster_port
        )
    for name, url in urls.items():
        console.print(f"[bold cyan]{name:<11}[/] {url}")
    console.print(f"Logs in {settings.data_dir / 'logs'}. Ctrl-C stops everything.")
    try:
        while True:
            dead = [c for c in children if c.process.poll() is not None]
            if dead:
                console.print(
                    f"[bold red]{dead[0].name} stopped[/] (code {dead[0].process.returncode}); "
                    f"see {dead[0].log}"
                )
                break
            time.sleep(1)
    except KeyboardInterrupt:
        console.print("Stopping...")
    finally:
        stop(children)
