"""How a `quantlake` command fails: one paragraph and an exit code; the traceback in the log.

No exception reaches typer's or Python's traceback printer. Typer's default rendered every local
variable of every frame: after one failure the CLI once spent over ten minutes and 6 GB on a
traceback holding multi-million-row frames. Here a failure costs a formatted stack (no locals)
written to <data_dir>/logs/quantlake.log and one paragraph on stderr.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.text import Text
from typer.core import TyperGroup

from quantlake import cli_log

EXIT_CODES = (
    "Exit codes: 0 done; 1 failed or refused (the message says why; also any unexpected "
    "error, whose traceback goes to <data dir>/logs/quantlake.log); 2 bad arguments or "
    "configuration; 3 data failed validation; 4 a data source or the broker failed "
    "(unreachable, refused keys)."
)
MAX_MESSAGE = 2000  # longer messages are cut on the terminal; the log has them whole


@dataclass(frozen=True)
class Known:
    """An expected failure: its exit code, heading and what to do next."""

    module: str  # the exception class's module starts with this
    code: int
    heading: str
    next: str


# By exception class name, matched anywhere in the exception's class hierarchy.
KNOWN = {
    "DataQualityError": Known(
        "flows.", 3, "Data failed validation",
        "`quantlake quality` shows the rules and rows that failed",
    ),
    "SourceError": Known(
        "flows.", 4, "The data source failed",
        "check the source's settings (QUANTLAKE_SOURCE, QUANTLAKE_ALPACA__*) and the network, "
        "then rerun",
    ),
    "BrokerError": Known(
        "flows.", 4, "The broker failed",
        "check the broker's settings and the network; `quantlake reconcile` shows what the "
        "broker holds before you trade again",
    ),
    "TradeRefused": Known("flows.", 1, "Trade refused", "nothing was sent"),
    "DailyAssetsFailed": Known(
        "assets.", 1, "Features, model or predictions failed",
        "the log (and the Dagster UI under `quantlake serve`) shows the failed step; fix it and "
        "rerun",
    ),
    "WriteLockTimeout": Known(
        "warehouse.", 1, "The lakehouse is busy",
        "another quantlake process is writing; rerun when it is done",
    ),
}  # fmt: skip


def known(exc: BaseException) -> Known | None:
    """Return how to report ``exc`` if it is an expected failure, else None."""
    for cls in type(exc).__mro__:
        found = KNOWN.get(cls.__name__)
        if found is not None and cls.__module__.startswith(found.module):
            return found
    return None


def message(exc: BaseException) -> str:
    """Return the exception's message, cut to MAX_MESSAGE characters."""
    try:
        text = str(exc)
    except Exception:  # noqa: BLE001 - a broken __str__ must not hide the failure
        text = f"(the {type(exc).__name__} could not be printed)"
    text = text.strip() or "(no message)"
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + " ... (cut; see the log)"


def paragraph(exc: BaseException, *, log: str) -> tuple[Text, int]:
    """Return the paragraph a person sees for ``exc`` and the exit code."""
    found = known(exc)
    if found is not None:
        text = Text.assemble(
            (f"{found.heading}: ", "bold red"),
            message(exc).rstrip("."),
            f". {found.next[0].upper()}{found.next[1:]}. Details: {log}",
        )
        return text, found.code
    text = Text.assemble(
        ("quantlake failed: ", "bold red"),
        f"{type(exc).__name__}: {message(exc)}; the traceback is in {log}. This was not "
        "expected: rerun once, and if it fails again, report it with that log file.",
    )
    return text, 1


def fail(exc: BaseException, *, command: str | None = None) -> NoReturn:
    """Log ``exc`` with its traceback, print one paragraph on stderr, exit with its code."""
    log = cli_log.log_path()
    logging.getLogger("quantlake.cli").error(
        "quantlake %s failed: %s", command or "", type(exc).__name__, exc_info=exc
    )
    text, code = paragraph(exc, log=str(log))
    # soft_wrap: the terminal wraps the paragraph, so the paths in it stay whole and copyable.
    Console(stderr=True).print(text, soft_wrap=True)
    raise typer.Exit(code)


class QuantlakeGroup(TyperGroup):
    """A command group whose commands fail with a paragraph and an exit code (see fail)."""

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise  # exits, usage errors and Ctrl-C: typer reports these itself
        except Exception as exc:  # noqa: BLE001 - every other failure: one paragraph, logged
            fail(exc, command=ctx.invoked_subcommand)


def new_app(**options: Any) -> typer.Typer:
    """Return a Typer app that reports failures as paragraphs, never as tracebacks.

    An app needs a callback or two commands to be a group (typer collapses a lone command).
    """
    return typer.Typer(
        cls=QuantlakeGroup,
        pretty_exceptions_enable=False,
        pretty_exceptions_show_locals=False,
        rich_markup_mode="rich",
        **options,
    )
