"""client_order_id: deterministic, unique per (strategy, session, symbol, intent), broker-safe."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strategies.ids import MAX_LENGTH, client_order_id

SAFE = re.compile(r"^[A-Za-z0-9._-]+$")
DAY = dt.date(2024, 1, 5)


def test_ids_are_readable_and_pinned() -> None:
    # Golden value: changing the id scheme would let a rerun place yesterday's orders again.
    oid = client_order_id(strategy="topk", session=DAY, symbol="AAPL", intent="entry")
    assert oid == "ql-topk-20240105-AAPL-entry-" + oid[-6:]
    assert oid == client_order_id(strategy="topk", session=DAY, symbol="AAPL", intent="entry")
    assert oid == "ql-topk-20240105-AAPL-entry-24137d"


def test_look_alike_symbols_get_distinct_safe_ids() -> None:
    ids = {
        client_order_id(strategy="topk", session=DAY, symbol=s, intent="entry")
        for s in ("BRK.B", "BRK/B", "BRK_B", "BRK-B", "BRK B")
    }
    assert len(ids) == 5
    assert all(SAFE.match(i) and len(i) <= MAX_LENGTH for i in ids)


def test_each_part_of_the_tuple_changes_the_id() -> None:
    base = {"strategy": "topk", "session": DAY, "symbol": "AAPL", "intent": "entry"}
    variants = [
        base,
        base | {"strategy": "topk2"},
        base | {"session": dt.date(2024, 1, 8)},
        base | {"symbol": "MSFT"},
        base | {"intent": "exit"},
    ]
    assert len({client_order_id(**v) for v in variants}) == len(variants)


def test_a_datetime_session_or_empty_symbol_is_refused() -> None:
    with pytest.raises(TypeError, match="datetime.date"):
        client_order_id(
            strategy="topk", session=dt.datetime(2024, 1, 5), symbol="AAPL", intent="entry"
        )
    with pytest.raises(ValueError, match="symbol"):
        client_order_id(strategy="topk", session=DAY, symbol=" ", intent="entry")


parts = st.text(min_size=1, max_size=60).filter(str.strip)


@given(strategy=parts, symbol=parts, intent=parts, days=st.integers(0, 20_000))
def test_any_input_gives_a_short_safe_id(
    strategy: str, symbol: str, intent: str, days: int
) -> None:
    session = dt.date(1990, 1, 1) + dt.timedelta(days=days)
    oid = client_order_id(strategy=strategy, session=session, symbol=symbol, intent=intent)
    assert len(oid) <= MAX_LENGTH
    assert SAFE.match(oid)


@given(a=parts, b=parts)
def test_different_symbols_give_different_ids(a: str, b: str) -> None:
    ids = {client_order_id(strategy="topk", session=DAY, symbol=s, intent="entry") for s in (a, b)}
    assert len(ids) == len({a, b})
