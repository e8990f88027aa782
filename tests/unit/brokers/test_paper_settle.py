"""PaperBroker fills at the next open: queued orders, settle, partial fills, expiry, cancel."""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest

from flows.brokers.base import BrokerError, OrderRequest
from flows.brokers.paper import PaperBroker, submission_session
from quantlake.settings import PaperBrokerSettings
from warehouse.lake import Lakehouse
from warehouse.schemas import PAPER_ORDERS

FRI, MON, TUE = dt.date(2024, 1, 5), dt.date(2024, 1, 8), dt.date(2024, 1, 9)
NOW = dt.datetime(2024, 1, 9, 22, tzinfo=dt.UTC)
NEXT_OPEN = PaperBrokerSettings(
    initial_cash=1_000_000.0,
    commission_bps=1.0,
    slippage_bps=5.0,
    impact_coefficient_bps=100.0,
    impact_exponent=0.5,
    max_participation=0.1,
    fill_at="next_open",
)


def order(cid: str, side: str = "buy", qty: float = 100.0, **kw: object) -> OrderRequest:
    kw = {"symbol": "AAA", "session": FRI} | kw
    return OrderRequest(cid, side=side, qty=qty, **kw)  # type: ignore[arg-type]


def bars(*rows: tuple[str, dt.date, float, float, float, float | None]) -> pl.DataFrame:
    """Bars (symbol, session, open, high, low, volume); close is the open (unused)."""
    return pl.DataFrame(
        [(s, d, o, h, lo, o, v) for s, d, o, h, lo, v in rows],
        schema={
            "symbol": pl.String,
            "session": pl.Date,
            "open": pl.Float64,
            "high": pl.Float64,
            "low": pl.Float64,
            "close": pl.Float64,
            "volume": pl.Float64,
        },
        orient="row",
    )


def price(base: float, qty: float, volume: float, sign: float = 1.0) -> float:
    """The hand model: 5 bps fixed + 100 bps * sqrt(participation), against us."""
    return base * (1 + sign * (5 + 100 * math.sqrt(qty / volume)) / 1e4)


@pytest.fixture
def broker(lake: Lakehouse) -> PaperBroker:
    return PaperBroker(lake, settings=NEXT_OPEN)


def test_an_order_waits_for_the_next_open_and_fills_there(
    broker: PaperBroker, lake: Lakehouse
) -> None:
    queued = broker.submit(order("o-1", reference_price=50.0))
    assert (queued.status, queued.filled_qty, queued.filled_avg_price) == ("accepted", 0.0, None)
    assert broker.account().cash == 1_000_000.0 and broker.positions() == []
    # A bar of the order's own session is not a later open: nothing fills on it.
    assert broker.settle(bars(("AAA", FRI, 40.0, 41.0, 39.0, 1e4)), now=NOW) == []
    [filled] = broker.settle(bars(("AAA", MON, 100.0, 101.0, 99.0, 10_000.0)), now=NOW)
    expected = price(100.0, 100.0, 10_000.0)  # 100.15
    assert (filled.status, filled.filled_qty) == ("filled", 100.0)
    assert filled.filled_avg_price == pytest.approx(expected)
    assert filled.commission == pytest.approx(100 * expected * 1e-4)
    assert filled.filled_at == NOW
    assert broker.account().cash == pytest.approx(1_000_000 - 100 * expected - filled.commission)
    [position] = broker.positions()
    assert (position.qty, position.avg_price) == (100.0, pytest.approx(expected))
    assert broker.get_order("o-1") == filled


def test_settling_the_same_bars_twice_changes_nothing(broker: PaperBroker, lake: Lakehouse) -> None:
    broker.submit(order("o-1", qty=3_000.0, time_in_force="gtc"))
    week = bars(("AAA", MON, 100.0, 101.0, 99.0, 10_000.0), ("AAA", TUE, 102.0, 103, 101, 1e4))
    before = lake.current_snapshot()
    [first] = broker.settle(week, now=NOW)
    assert lake.current_snapshot() == before + 1  # both sessions in one transaction
    assert first.filled_qty == 2_000.0
    assert broker.settle(week, now=NOW + dt.timedelta(hours=1)) == []
    assert lake.current_snapshot() == before + 1
    assert broker.get_order("o-1") == first


def test_a_gtc_order_fills_over_sessions_at_the_volume_weighted_price(broker: PaperBroker) -> None:
    broker.submit(order("o-1", qty=2_500.0, time_in_force="gtc"))
    [monday] = broker.settle(bars(("AAA", MON, 100.0, 101.0, 99.0, 10_000.0)), now=NOW)
    assert (monday.status, monday.filled_qty) == ("partially_filled", 1_000.0)
    assert "participation cap" in (monday.message or "")
    assert [p.qty for p in broker.positions()] == [1_000.0]
    [tuesday] = broker.settle(bars(("AAA", TUE, 110.0, 111.0, 109.0, 20_000.0)), now=NOW)
    first, second = price(100.0, 1_000, 10_000), price(110.0, 1_500, 20_000)
    assert (tuesday.status, tuesday.filled_qty) == ("filled", 2_500.0)
    assert tuesday.filled_avg_price == pytest.approx((1_000 * first + 1_500 * second) / 2_500)
    assert tuesday.commission == pytest.approx((1_000 * first + 1_500 * second) * 1e-4)
    assert broker.account().cash == pytest.approx(
        1_000_000 - 1_000 * first - 1_500 * second - tuesday.commission
    )


def test_a_day_order_expires_after_its_one_session_keeping_what_filled(
    broker: PaperBroker,
) -> None:
    broker.submit(order("o-1", qty=2_500.0))
    [expired] = broker.settle(bars(("AAA", MON, 100.0, 101.0, 99.0, 10_000.0)), now=NOW)
    assert (expired.status, expired.filled_qty) == ("expired", 1_000.0)
    assert "expired" in (expired.message or "")
    assert broker.settle(bars(("AAA", TUE, 100.0, 101.0, 99.0, 1e6)), now=NOW) == []
    assert [p.qty for p in broker.positions()] == [1_000.0]


def test_a_limit_order_waits_for_its_price(broker: PaperBroker) -> None:
    broker.submit(order("o-1", order_type="limit", limit_price=95.0, time_in_force="gtc"))
    [waiting] = broker.settle(bars(("AAA", MON, 100.0, 101.0, 96.0, 1e4)), now=NOW)
    assert (waiting.status, waiting.filled_qty) == ("accepted", 0.0)
    assert waiting.message == "limit 95 not reached (open 100, low 96)"
    [filled] = broker.settle(bars(("AAA", TUE, 97.0, 98.0, 94.0, 1e4)), now=NOW)
    assert filled.filled_avg_price == 95.0  # traded down through the limit; costs clamped


def test_missing_volume_fills_nothing_and_the_order_waits(broker: PaperBroker) -> None:
    broker.submit(order("o-1", time_in_force="gtc"))
    broker.submit(order("o-2", symbol="BBB"))
    quiet = bars(("AAA", MON, 100.0, 101.0, 99.0, None), ("BBB", MON, 10.0, 11.0, 9.0, 0.0))
    changed = {o.client_order_id: o for o in broker.settle(quiet, now=NOW)}
    assert changed["o-1"].status == "accepted" and "no volume" in (changed["o-1"].message or "")
    assert changed["o-2"].status == "expired" and "volume is 0" in (changed["o-2"].message or "")
    assert broker.account().cash == 1_000_000.0
    [later] = broker.settle(bars(("AAA", TUE, 100.0, 101.0, 99.0, 1e4)), now=NOW)
    assert later.status == "filled"


def test_long_only_guards_apply_when_queued_orders_fill(broker: PaperBroker) -> None:
    broker.submit(order("big", qty=9_000.0))  # ~901,000 at 100
    broker.submit(order("more", qty=2_000.0, symbol="BBB"))  # ~200,000 more: beyond the cash
    broker.submit(order("naked", side="sell", qty=5.0, symbol="CCC"))
    monday = bars(*[(s, MON, 100.0, 101.0, 99.0, 1e6) for s in ("AAA", "BBB", "CCC")])
    result = {o.client_order_id: o for o in broker.settle(monday, now=NOW)}
    assert result["big"].status == "filled"
    assert result["more"].status == "rejected"
    assert "insufficient cash" in (result["more"].message or "")
    assert result["naked"].status == "rejected"
    assert "insufficient position" in (result["naked"].message or "")
    assert [p.symbol for p in broker.positions()] == ["AAA"]
    assert broker.account().cash >= 0.0


def test_sells_fill_before_buys_in_a_session(broker: PaperBroker) -> None:
    broker.submit(order("a", qty=9_000.0))
    broker.settle(bars(("AAA", MON, 100.0, 101.0, 99.0, 1e6)), now=NOW)
    # Buying BBB needs the cash the AAA sale brings; both queued for Tuesday.
    broker.submit(order("b", qty=9_000.0, symbol="BBB", session=MON))
    broker.submit(order("c", side="sell", qty=9_000.0, session=MON))
    tuesday = bars(("AAA", TUE, 100.0, 101.0, 99.0, 1e6), ("BBB", TUE, 100.0, 101.0, 99.0, 1e6))
    assert {o.status for o in broker.settle(tuesday, now=NOW)} == {"filled"}
    assert [p.symbol for p in broker.positions()] == ["BBB"]


def test_cancel_stops_an_open_order_and_refuses_a_filled_one(
    broker: PaperBroker, lake: Lakehouse
) -> None:
    broker.submit(order("part", qty=2_500.0, time_in_force="gtc"))
    broker.submit(order("done", symbol="BBB"))
    broker.settle(
        bars(("AAA", MON, 100.0, 101.0, 99.0, 1e4), ("BBB", MON, 10.0, 11.0, 9.0, 1e6)), now=NOW
    )
    canceled = broker.cancel("part")
    assert (canceled.status, canceled.filled_qty) == ("canceled", 1_000.0)
    snapshot = lake.current_snapshot()
    assert broker.cancel("part") == canceled  # again: unchanged, nothing written
    assert lake.current_snapshot() == snapshot
    assert broker.settle(bars(("AAA", TUE, 100.0, 101.0, 99.0, 1e6)), now=NOW) == []
    assert [p.qty for p in broker.positions() if p.symbol == "AAA"] == [1_000.0]
    with pytest.raises(BrokerError, match="already filled"):
        broker.cancel("done")
    with pytest.raises(BrokerError, match="no paper order 'nope'"):
        broker.cancel("nope")


def test_pending_since_names_the_bars_settle_still_needs(broker: PaperBroker) -> None:
    assert broker.pending_since() is None
    broker.submit(order("o-1", qty=2_500.0, time_in_force="gtc"))
    broker.submit(order("o-2", symbol="BBB", session=MON))
    assert broker.pending_since() == FRI
    broker.settle(bars(("AAA", MON, 100.0, 101.0, 99.0, 1e4)), now=NOW)  # partially filled
    assert broker.pending_since() == MON
    broker.cancel("o-1")
    broker.cancel("o-2")
    assert broker.pending_since() is None


def test_a_canceled_queued_order_never_fills(broker: PaperBroker) -> None:
    broker.submit(order("o-1"))
    assert broker.cancel("o-1").status == "canceled"
    assert broker.settle(bars(("AAA", MON, 100.0, 101.0, 99.0, 1e4)), now=NOW) == []
    assert broker.account().cash == 1_000_000.0


def test_the_book_survives_a_restart_between_settles(lake: Lakehouse) -> None:
    PaperBroker(lake, settings=NEXT_OPEN).submit(order("o-1", qty=2_500.0, time_in_force="gtc"))
    PaperBroker(lake, settings=NEXT_OPEN).settle(bars(("AAA", MON, 100, 101, 99, 1e4)), now=NOW)
    root = lake.root
    lake.close()
    with Lakehouse(root) as reopened:
        broker = PaperBroker(reopened, settings=NEXT_OPEN)
        assert broker.settle(bars(("AAA", MON, 100, 101, 99, 1e4)), now=NOW) == []
        [done] = broker.settle(bars(("AAA", TUE, 100, 101, 99, 1e5)), now=NOW)
        assert done.filled_qty == 2_500.0


@pytest.mark.parametrize(
    ("frame", "words"),
    [
        (bars().drop("volume"), "lack column"),
        (bars().with_columns(pl.col("session").cast(pl.String)), "Date column"),
        (bars(("AAA", MON, 1, 1, 1, 1), ("AAA", MON, 2, 2, 2, 2)), "more than one row"),
    ],
)
def test_unreadable_bars_are_refused(broker: PaperBroker, frame: pl.DataFrame, words: str) -> None:
    broker.submit(order("o-1"))
    with pytest.raises(BrokerError, match=words):
        broker.settle(frame, now=NOW)
    assert broker.get_order("o-1").status == "accepted"  # type: ignore[union-attr]


def test_without_a_session_the_order_belongs_to_the_submission_session(
    broker: PaperBroker, lake: Lakehouse
) -> None:
    placed = broker.submit(OrderRequest("o-1", "AAA", "buy", 1.0))
    stored = lake.read(PAPER_ORDERS).row(0, named=True)
    assert placed.submitted_at is not None
    assert stored["session"] == submission_session(placed.submitted_at, exchange="XNYS")
    assert stored["worked_session"] is None


@pytest.mark.parametrize(
    ("now", "session"),
    [
        (dt.datetime(2024, 1, 6, 15, tzinfo=dt.UTC), FRI),  # Saturday: Friday's
        (dt.datetime(2024, 1, 8, 13, tzinfo=dt.UTC), MON),  # Monday 08:00 New York, pre-open
        (dt.datetime(2024, 1, 9, 2, tzinfo=dt.UTC), MON),  # Monday 21:00 New York
        (dt.datetime(2024, 1, 15, 15, tzinfo=dt.UTC), dt.date(2024, 1, 12)),  # MLK day
    ],
)
def test_submission_session(now: dt.datetime, session: dt.date) -> None:
    assert submission_session(now, exchange="XNYS") == session
