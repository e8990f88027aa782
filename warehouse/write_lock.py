"""One lakehouse writer at a time on a SQLite catalog: an exclusive ``flock`` per commit.

SQLite lets one writer commit at a time; a DuckLake commit that meets another process's write
lock fails with "database is locked" rather than waiting (measured: two processes committing in
a loop lose commits within seconds). Holding this lock from BEGIN to COMMIT makes writers queue
instead. It is reentrant within a thread (a transaction opened inside another on the same
thread does not deadlock) and released by the kernel when its holder dies. A PostgreSQL catalog
does not need it.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class WriteLockTimeout(RuntimeError):
    """Another writer held the lakehouse write lock for longer than the timeout."""


class WriteLock:
    """An inter-process, per-thread-reentrant exclusive lock on a file."""

    def __init__(self, path: Path, *, timeout_s: float = 600.0) -> None:
        self.path = path
        self.timeout_s = timeout_s
        self._local = threading.local()

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Hold the lock while the block runs (waiting for other writers, up to the timeout)."""
        if getattr(self._local, "depth", 0):
            self._local.depth += 1
            try:
                yield
            finally:
                self._local.depth -= 1
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            self._acquire(fd)
            self._local.depth = 1
            try:
                yield
            finally:
                self._local.depth = 0
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def _acquire(self, fd: int) -> None:
        deadline = time.monotonic() + self.timeout_s
        pause = 0.005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise WriteLockTimeout(
                        f"another process has been writing to the lakehouse for over "
                        f"{self.timeout_s:.0f} s (lock {self.path}); find it with "
                        f"`fuser {self.path}` and let it finish or stop it"
                    ) from None
                time.sleep(pause)
                pause = min(pause * 2, 0.1)
