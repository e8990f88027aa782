"""The CLI's log file (<data_dir>/logs/quantlake.log) and what of the logs reaches the terminal.

Tracebacks go to the file, never to the terminal: the CLI says what failed in one paragraph
(quantlake/cli_errors.py) and names the file. Warnings still show, one line each; errors of
Prefect flow and task runs do not (they are the failure the paragraph reports).
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import time
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import TextIO

LOG_NAME = "quantlake.log"
MAX_BYTES = 10 * 1024 * 1024
BACKUPS = 5
MAX_LINE = 500  # a warning longer than this is cut on the terminal (the file has it whole)
_MARK = "_quantlake_cli"
# Prefect's flow and task run loggers: their errors are the failures the CLI itself reports.
RUN_LOGGERS = ("prefect.flow_runs", "prefect.task_runs")
_current: list[Path] = []


class UtcFormatter(logging.Formatter):
    converter = time.gmtime

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """Return the record's time as ISO 8601 UTC with milliseconds."""
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", self.converter(record.created))
        return f"{stamp}.{int(record.msecs):03d}Z"


class LogFile(RotatingFileHandler):
    """A rotating file that creates its folder on the first record, not before.

    Its name must not start with an underscore: Prefect, configuring logging on import, leaves
    the root logger alone when it already has a handler with a formatter whose class name does
    not (so Prefect's console handler, which prints tracebacks, is never added).
    """

    def _open(self) -> TextIO:
        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        return super()._open()


class Terminal(logging.Handler):
    """Warnings and errors as one line on the current stderr, without tracebacks.

    The stream is looked up on every record (not bound once), so a test runner's swapped
    stderr, closed after the test, is never written to later.
    """

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or record.exc_text:
            return  # the CLI reports the failure itself; the file has the traceback
        if record.name.startswith(RUN_LOGGERS) and record.levelno >= logging.ERROR:
            return  # "Finished in state Failed(...)": the CLI's paragraph says the same
        try:
            line = " ".join(record.getMessage().split())
            if len(line) > MAX_LINE:
                line = line[:MAX_LINE] + f"... (whole message in {log_path()})"
            sys.stderr.write(f"{record.levelname.lower()}: {line}\n")
        except Exception:  # noqa: BLE001 - a log line must never break the command
            self.handleError(record)


def configure(data_dir: Path) -> Path:
    """Send every log record to ``<data_dir>/logs/quantlake.log`` (timestamped, rotated) and
    only warnings, without tracebacks, to the terminal; return the file's path.

    Called before Prefect is imported, this also keeps Prefect's own console handler off the
    root logger (Prefect leaves a root logger that already has handlers alone); when Prefect
    was configured first, its console handler is replaced.
    """
    path = (data_dir / "logs" / LOG_NAME).resolve()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _MARK, False) or type(handler).__name__ == "PrefectConsoleHandler":
            root.removeHandler(handler)
            handler.close()
    file = LogFile(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=True)
    file.setFormatter(
        UtcFormatter("%(asctime)s %(levelname)s %(name)s [pid %(process)d] %(message)s")
    )
    terminal = Terminal(level=logging.WARNING)
    for handler in (file, terminal):
        setattr(handler, _MARK, True)
        root.addHandler(handler)
    _current[:] = [path]
    return path


def log_path() -> Path:
    """Return the log file's path, configuring a fallback when no command has yet (an error
    before the settings were read): the default data folder, else the temporary folder."""
    if _current:
        return _current[0]
    data_dir = Path(os.environ.get("QUANTLAKE_DATA_DIR") or "data")
    try:
        (data_dir / "logs").mkdir(parents=True, exist_ok=True)
    except OSError:
        data_dir = Path(tempfile.gettempdir()) / "quantlake"
    return configure(data_dir)
