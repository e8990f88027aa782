"""The trade lock: one run per broker at a time; a second is refused with who holds it; the
lock is gone the moment its holder dies, however it dies."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from flows.trade.lock import TradeLockHeld, trade_lock

NOW = dt.datetime(2026, 11, 23, 14, 45, tzinfo=dt.UTC)


def test_a_second_run_is_refused_and_told_who_holds_the_lock(tmp_path: Path) -> None:
    with trade_lock(tmp_path, "paper", now=NOW):
        held = f"pid {os.getpid()} since 2026-11-23 14:45"
        with pytest.raises(TradeLockHeld, match=held), trade_lock(tmp_path, "paper", now=NOW):
            pass
        with trade_lock(tmp_path, "alpaca", now=NOW):  # another broker is another book
            pass
    with trade_lock(tmp_path, "paper", now=NOW):  # released on exit
        pass


def test_a_killed_holder_leaves_no_stale_lock(tmp_path: Path) -> None:
    code = (
        "import datetime as dt, pathlib, sys, time\n"
        "from flows.trade.lock import trade_lock\n"
        f"with trade_lock(pathlib.Path({str(tmp_path)!r}), 'paper', now=dt.datetime.now(dt.UTC)):\n"
        "    print('locked', flush=True)\n"
        "    time.sleep(600)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with (
            pytest.raises(TradeLockHeld, match=f"pid {holder.pid}"),
            trade_lock(tmp_path, "paper", now=NOW),
        ):
            pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with trade_lock(tmp_path, "paper", now=NOW):  # reaped: the kernel dropped its lock
        pass
