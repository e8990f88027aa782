"""Trade runs SIGKILLed between writing their orders and sending them (`quantlake trade` in a
subprocess), then run again: no order is ever sent twice, the broker holds no order the
platform does not know, and the reconciliation after the clean rerun finds nothing wrong.

Each kill is aimed, not random: the child runs with the test-only pause point of
flows/trade/pause.py set, writes which point it reached to a marker file and waits there; the
test kills it then, and checks in the lakehouse and at the broker that the kill landed where
it was aimed (orders written, none sent; or, for Alpaca, sent but not recorded)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from prefect.settings import PREFECT_API_URL

from flows.brokers.select import build_broker
from flows.ingest.daily import ingest_flow
from flows.trade.flow import trade_flow
from flows.trade.pause import PAUSE_AT, PAUSE_FILE, Point
from flows.trade.reconcile import reconcile
from quantlake.cycle import _materialize
from quantlake.settings import Settings
from tests.support.alpaca_trading_server import AlpacaTradingServer, broker_env
from warehouse import calendar, schemas
from warehouse.lake import Lakehouse

pytestmark = pytest.mark.integration

# Sessions after the first, each traded by a killed run and then a clean one.
SESSIONS = [dt.date(2026, 11, d) for d in (20, 23, 24, 25, 27)]
SMALL = {"n_symbols": 6, "QUANTLAKE_STRATEGY__TOP_K": "3"}


def night_after(session: dt.date) -> dt.datetime:
    return calendar.session_close(session) + dt.timedelta(hours=4)


def killed_trade(now: dt.datetime, point: Point, folder: Path) -> str:
    """Start `quantlake trade` paused at ``point``, SIGKILL it there; return the point reached."""
    marker, log = folder / "paused-at", folder / "trade.log"
    marker.unlink(missing_ok=True)
    env = {
        **os.environ,
        "PREFECT_API_URL": PREFECT_API_URL.value(),
        PAUSE_AT: point,
        PAUSE_FILE: str(marker),
    }
    cmd = [sys.executable, "-m", "quantlake.cli", "trade", "--now", f"{now:%Y-%m-%dT%H:%M:%S}"]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        while not marker.exists():
            if proc.poll() is not None:
                text = log.read_text(errors="replace")[-3000:]
                raise AssertionError(f"trade exited {proc.returncode} before {point}: {text}")
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    return marker.read_text()


def landing(lake: Lakehouse, session: dt.date, at_broker: set[str]) -> tuple[int, int, set[str]]:
    """Return (orders written for the session, how many the broker has, their statuses)."""
    written = lake.read(schemas.ORDERS, where="session = ?", params=[session])
    ids = set(written.get_column("client_order_id"))
    return len(ids), len(ids & at_broker), set(written.get_column("status"))


def check_books(settings: Settings, session: dt.date, now: dt.datetime, sent: list[str]) -> None:
    """Assert no order was recorded or sent twice, none is unknown, and the books reconcile."""
    with Lakehouse(settings.lake_dir) as lake:
        platform = lake.read(schemas.ORDERS)
        ids = platform.get_column("client_order_id")
        assert ids.n_unique() == len(ids), f"{session}: an order was recorded twice"
        assert len(set(sent)) == len(sent), f"{session}: an order was sent twice"
        assert set(sent) <= set(ids), f"{session}: the broker holds an unknown order"
        todays = platform.filter(pl.col("session") == session)
        assert set(todays.get_column("status")) <= {"filled", "rejected"}, session
        report = reconcile(
            lake, build_broker(settings, lake=lake), now=now, exchange=settings.exchange
        )
        assert report.clean, (session, report.differences)


def prepare(settings: Settings, now: dt.datetime) -> None:
    ingest_flow(now=now)
    _materialize(settings, as_of=now)


def test_paper_trade_runs_killed_between_writing_and_sending_never_duplicate_an_order(
    simulator_settings, tmp_path: Path
) -> None:
    settings = simulator_settings(**SMALL)
    for session in SESSIONS:
        now = night_after(session)
        prepare(settings, now)
        assert killed_trade(now, "orders_written", tmp_path) == "orders_written"
        with Lakehouse(settings.lake_dir) as lake:
            paper = set(lake.read(schemas.PAPER_ORDERS).get_column("client_order_id"))
            written, sent, status = landing(lake, session, paper)
        # The kill landed in the window: the orders are written and none was sent.
        assert (written > 0, sent, status) == (True, 0, {"pending_submit"}), session
        rerun = trade_flow(now=now, report_to_dagster=False)
        assert rerun.orders_sent == written, session
        with Lakehouse(settings.lake_dir) as lake:
            paper_ids = lake.read(schemas.PAPER_ORDERS).get_column("client_order_id")
        check_books(settings, session, now, paper_ids.to_list())


@pytest.fixture
def trading_server() -> Iterator[AlpacaTradingServer]:
    with AlpacaTradingServer(prices={}, cash=1_000_000.0) as server:
        yield server


def test_alpaca_trade_runs_killed_around_sending_never_duplicate_an_order(
    simulator_settings, tmp_path: Path, trading_server: AlpacaTradingServer
) -> None:
    settings = simulator_settings(**SMALL, **broker_env(trading_server))
    for i, session in enumerate(SESSIONS):
        now = night_after(session)
        prepare(settings, now)
        with Lakehouse(settings.lake_dir) as lake:
            closes = lake.read(schemas.CURATED_BARS, where="session = ?", params=[session])
        with trading_server.lock:  # the market trades at the session's closes
            trading_server.prices = dict(closes.select("symbol", "close").iter_rows())
        # Most kills land between writing and sending; every other one between sending and
        # recording what the broker answered.
        point: Point = "orders_sent" if i % 2 else "orders_written"
        assert killed_trade(now, point, tmp_path) == point
        with Lakehouse(settings.lake_dir) as lake:
            written, sent, status = landing(lake, session, set(server_ids(trading_server)))
        assert written > 0 and status == {"pending_submit"}, session
        assert sent == (written if point == "orders_sent" else 0), (session, point)
        rerun = trade_flow(now=now, report_to_dagster=False)
        assert rerun.orders_sent == written - sent, session
        check_books(settings, session, now, server_ids(trading_server))


def server_ids(server: AlpacaTradingServer) -> list[str]:
    with server.lock:
        return [o["client_order_id"] for o in server.orders.values()]
