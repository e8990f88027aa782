"""A slow, obvious re-statement of the daily-bars rules, row by row, to test validate_bars."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

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


def _row_rules(row: Mapping[str, Any], *, today: dt.date, exchange: str) -> Iterable[str]:
    if row["symbol"] is None or row["session"] is None:
        yield "keys_not_null"
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


def expected_quarantine(
    rows: list[dict[str, Any]], *, today: dt.date, exchange: str = "XNYS"
) -> set[tuple[int, str]]:
    """Return every (row_number, rule) a correct validation quarantines."""
    keys = Counter((r["symbol"], r["session"]) for r in rows)
    newest: dict[tuple[Any, Any], int] = {}
    for r in rows:
        key = (r["symbol"], r["session"])
        newest[key] = max(newest.get(key, r["row_number"]), r["row_number"])
    out = {
        (r["row_number"], rule)
        for r in rows
        for rule in _row_rules(r, today=today, exchange=exchange)
    }
    out |= {
        (r["row_number"], "unique_symbol_session")
        for r in rows
        if keys[(r["symbol"], r["session"])] > 1
        and r["row_number"] != newest[(r["symbol"], r["session"])]
    }
    return out
