"""A slow, obvious re-statement of the daily-bars rules, row by row, to test validate_bars."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from validations.rules import US_EQUITY_SYMBOL
from warehouse.calendar import is_session

PRICES = ("open", "high", "low", "close")
ORDER = (
    ("low_le_open", "low", "open"),
    ("low_le_close", "low", "close"),
    ("open_le_high", "open", "high"),
    ("close_le_high", "close", "high"),
    ("low_le_high", "low", "high"),
)


def _missing(value: Any) -> bool:
    return value is None or value != value  # NaN counts as missing, as in pandas (and GX)


def _row_rules(
    row: Mapping[str, Any], *, today: dt.date, exchange: str, symbol: str
) -> Iterable[str]:
    if row["symbol"] is None or row["session"] is None:
        yield "keys_not_null"
    if row["symbol"] is not None and not re.fullmatch(symbol, row["symbol"]):
        yield "symbol_pattern"
    if any(not _missing(row[c]) and math.isinf(row[c]) for c in (*PRICES, "volume")):
        yield "values_finite"
    if any(_missing(row[p]) for p in PRICES):
        yield "prices_not_null"
    if _missing(row["volume"]):
        yield "volume_not_null"
    if any(not _missing(row[p]) and row[p] <= 0 for p in PRICES):
        yield "prices_positive"
    for name, small, big in ORDER:
        if not _missing(row[small]) and not _missing(row[big]) and row[small] > row[big]:
            yield name
    if not _missing(row["volume"]) and row["volume"] < 0:
        yield "volume_nonnegative"
    if row["session"] is not None and not is_session(row["session"], exchange=exchange):
        yield "trading_session"
    if row["session"] is not None and row["session"] > today:
        yield "session_not_future"


def _stale(rows: list[dict[str, Any]], min_bars: int) -> set[int]:
    """Return the row numbers in runs of ``min_bars`` zero-volume bars repeating the one before."""
    found: set[int] = set()
    ordered = sorted(rows, key=lambda r: (str(r["symbol"]), str(r["session"]), r["row_number"]))
    run: list[dict[str, Any]] = []
    for r in ordered:
        last = run[-1] if run else None
        repeats = (
            last is not None
            and last["symbol"] == r["symbol"]
            and r["volume"] == 0
            and all(not _missing(r[p]) and r[p] == last[p] for p in PRICES)
        )
        if not repeats:
            found |= {x["row_number"] for x in run} if len(run) >= min_bars else set()
            run = [r] if r["volume"] == 0 else []
        else:
            run.append(r)
    return found | ({x["row_number"] for x in run} if len(run) >= min_bars else set())


def expected_quarantine(
    rows: list[dict[str, Any]],
    *,
    today: dt.date,
    exchange: str = "XNYS",
    symbol: str = US_EQUITY_SYMBOL,
    stale_run_bars: int = 5,
) -> set[tuple[int, str]]:
    """Return every (row_number, rule) a correct validation quarantines (the per-symbol share
    aside: tests/unit/validations/test_hostile_bars.py states it)."""
    keys = Counter((r["symbol"], r["session"]) for r in rows)
    newest: dict[tuple[Any, Any], int] = {}
    for r in rows:
        key = (r["symbol"], r["session"])
        newest[key] = max(newest.get(key, r["row_number"]), r["row_number"])
    out = {
        (r["row_number"], rule)
        for r in rows
        for rule in _row_rules(r, today=today, exchange=exchange, symbol=symbol)
    }
    out |= {(n, "stale_run") for n in _stale(rows, stale_run_bars)}
    out |= {
        (r["row_number"], "unique_symbol_session")
        for r in rows
        if keys[(r["symbol"], r["session"])] > 1
        and r["row_number"] != newest[(r["symbol"], r["session"])]
    }
    return out
