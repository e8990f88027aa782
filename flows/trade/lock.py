"""One trade run at a time per data directory and broker: an exclusive, non-blocking file lock.

The lock is an ``flock`` on ``<data_dir>/locks/trade-<broker>.lock``: the operating system
releases it when the holder exits, however it exits (a SIGKILLed run leaves no stale lock). A
second run does not wait (it might trade on a plan the first has made obsolete); it is refused,
and told who holds the lock. Beyond one machine, a Prefect global concurrency limit on the
trade deployment does the same job.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class TradeLockHeld(RuntimeError):
    """Another trade run holds the lock; the message names it."""


@contextmanager
def trade_lock(data_dir: Path, broker: str, *, now: dt.datetime) -> Iterator[Path]:
    """Hold the trade lock for ``broker`` while the block runs; raise TradeLockHeld if taken."""
    path = data_dir / "locks" / f"trade-{broker}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "unknown"
            raise TradeLockHeld(
                f"another trade run for broker {broker!r} is in progress ({holder}); this run "
                "does nothing. Wait for it to finish (a killed run releases the lock at once)"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} since {now:%Y-%m-%d %H:%M:%S} UTC".encode(), 0)
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
