"""Trade runs SIGKILLed at random moments (`quantlake trade` in a subprocess), then run again:
no order is ever sent twice, the broker holds no order the platform does not know, and the
reconciliation after the clean rerun finds nothing wrong."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time

import pytest
from prefect.settings import PREFECT_API_URL

from flows.brokers.select import build_broker
from flows.ingest.daily import ingest_flow
from flows.trade.flow import trade_flow
from flows.trade.reconcile import reconcile
from quantlake.cycle import _materialize
from warehouse import calendar, schemas
from warehouse.lake import Lakehouse

pytestmark = pytest.mark.integration

# Sessions after the first, each traded by a killed run and then a clean one.
SESSIONS = [dt.date(2026, 11, d) for d in (20, 23, 24, 25, 27)]


def night_after(session: dt.date) -> dt.datetime:
    return calendar.session_close(session) + dt.timedelta(hours=4)


def killed_trade(now: dt.datetime, delay_s: float) -> str:
    """Start `quantlake trade` and SIGKILL it after ``delay_s``; say how it ended."""
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value()}
    cmd = [sys.executable, "-m", "quantlake.cli", "trade", "--now", f"{now:%Y-%m-%dT%H:%M:%S}"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(delay_s)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return f"killed after {delay_s:.1f} s"
    err = proc.stderr.read().decode() if proc.stderr else ""
    assert proc.returncode == 0, f"trade exited {proc.returncode} before the kill: {err[-2000:]}"
    return "finished before the kill"


def test_killed_trade_runs_never_duplicate_an_order(simulator_settings) -> None:
    settings = simulator_settings(QUANTLAKE_STRATEGY__TOP_K="4")
    rng = random.Random(20261122)
    outcomes = []
    for session in SESSIONS:
        now = night_after(session)
        ingest_flow(now=now)
        _materialize(settings, as_of=now)
        # Process start-up takes a few seconds; kills land anywhere from start-up to the end.
        outcomes.append(killed_trade(now, rng.uniform(2.0, 14.0)))
        trade_flow(now=now, report_to_dagster=False)
        with Lakehouse(settings.lake_dir) as lake:
            platform = lake.read(schemas.ORDERS)
            paper = lake.read(schemas.PAPER_ORDERS)
            ids = platform.get_column("client_order_id")
            assert ids.n_unique() == len(ids), f"{session}: an order was recorded twice"
            sent = paper.get_column("client_order_id")
            assert sent.n_unique() == len(sent), f"{session}: an order was sent twice"
            assert set(sent) <= set(ids), f"{session}: the broker holds an unknown order"
            todays = platform.filter(platform.get_column("session") == session)
            assert set(todays.get_column("status")) <= {"filled", "rejected"}, session
            report = reconcile(
                lake, build_broker(settings, lake=lake), now=now, exchange=settings.exchange
            )
            assert report.clean, (session, report.differences)
    assert any(o.startswith("killed") for o in outcomes), outcomes
    print("kill outcomes:", outcomes)
