"""What a data-contract rule is: GX expectations plus a polars explanation of a failing row.

Expectations are declared as (class name, kwargs), so declaring rules does not import GX
(``import great_expectations`` takes seconds). The macro and news suites build them for GX to run
on the rows; the daily-bars checks run as polars masks with the same semantics
(validations/unexpected.py) and GX validates their counts. Batch rules (schema) reject the whole
batch; row rules quarantine the failing rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl

from validations.result import Severity
from warehouse import calendar


@dataclass(frozen=True)
class Check:
    """One GX expectation: its class name in ``great_expectations.expectations`` and kwargs."""

    expectation: str
    kwargs: Mapping[str, Any]


# The defaults of quantlake.settings.sources (US equities; runs of five placeholder bars).
US_EQUITY_SYMBOL = r"^[A-Z][A-Z0-9.\-]{0,9}$"
STALE_RUN_BARS = 5


@dataclass(frozen=True)
class Parameters:
    """The suite parameters of one run: the exchange's sessions over the batch, ``today`` (the
    last session a bar may be for), the pattern symbols match and the stale-run length."""

    today: dt.date
    sessions: tuple[dt.date, ...]
    symbol_pattern: str = US_EQUITY_SYMBOL
    stale_run_bars: int = STALE_RUN_BARS

    @classmethod
    def for_frame(
        cls,
        frame: pl.DataFrame,
        *,
        today: dt.date,
        exchange: str,
        symbol_pattern: str = US_EQUITY_SYMBOL,
        stale_run_bars: int = STALE_RUN_BARS,
    ) -> Parameters:
        """Return the parameters for ``frame``: the sessions between its first and last date."""
        days = frame.get_column("session") if "session" in frame.columns else pl.Series([])
        found: tuple[dt.date, ...] = ()
        if days.dtype == pl.Date and days.null_count() < len(days):
            found = tuple(calendar.sessions(days.min(), days.max(), exchange=exchange))
        return cls(today, found, symbol_pattern=symbol_pattern, stale_run_bars=stale_run_bars)

    def for_gx(self) -> dict[str, Any]:
        """Return the values as GX compares them with a datetime64 column (naive midnights)."""
        return {
            "today": _midnight(self.today),
            "sessions": [_midnight(d) for d in self.sessions],
            "symbol_pattern": self.symbol_pattern,
        }


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time())


@dataclass(frozen=True)
class Rule:
    """A named data-contract rule: its expectations and, for row rules, what a failing row shows.

    ``detail`` explains a failing row. ``kept`` marks failing rows that are nevertheless kept
    (the newest of a set of duplicates): they fail the expectation but are not quarantined.
    ``mask`` states a row rule no single GX expectation can (it reads a symbol's neighbouring
    bars): given the NaN-free batch, True where a row fails; GX validates its per-symbol
    counts. A row rule with
    neither checks nor mask is decided after the others (validations/symbol_share.py).
    """

    name: str
    severity: Severity
    scope: Literal["batch", "row"]
    description: str
    checks: tuple[Check, ...]
    detail: Callable[[Parameters], pl.Expr] | None = None
    kept: pl.Expr | None = None
    mask: Callable[[pl.DataFrame, Parameters], pl.Series] | None = None
