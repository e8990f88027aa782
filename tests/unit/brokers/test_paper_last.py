"""PaperBroker filling at the last price with a reference volume, and what settle does after."""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest

from flows.brokers.base import OrderRequest
from flows.brokers.paper import PaperBroker
from quantlake.settings import PaperBrokerSettings
from warehouse.lake import Lakehouse

FRI, MON = dt.date(2024, 1, 5), dt.date(2024, 1, 8)
NOW = dt.datetime(2024, 1, 8, 22, tzinfo=dt.UTC)
LAST = PaperBrokerSettings(initial_cash=1_000_000.0, commission_bps=1.0, slippage_bps=5.0)


def buy(cid: str, qty: float, **kw: object) -> OrderRequest:
    return OrderRequest(cid, "AAA", "buy", qty, reference_price=100.0, session=FRI, **kw)  # type: ignore[arg-type]


def monday(volume: float = 1e6, low: float = 99.0) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "symbol": ["AAA"],
            "session": [MON],
            "open": [100.0],
            "high": [101.0],
            "low": [low],
            "close": [100.0],
            "volume": [volume],
        }
    )


@pytest.fixture
def broker(lake: Lakehouse) -> PaperBroker:
    return PaperBroker(lake, settings=LAST)


def test_the_defaults_fill_at_the_last_price_without_a_volume_model() -> None:
    settings = PaperBrokerSettings()
    assert settings.fill_at == "last"
    assert (settings.max_participation, settings.impact_exponent) == (0.1, 0.5)


def test_a_reference_volume_adds_impact(broker: PaperBroker) -> None:
    filled = broker.submit(buy("o-1", 100.0, reference_volume=10_000.0))
    # 1% of the volume: 5 + 100 * sqrt(0.01) = 15 bps.
    assert (filled.status, filled.filled_qty) == ("filled", 100.0)
    assert filled.filled_avg_price == pytest.approx(100.15)


def test_a_capped_day_order_expires_when_a_later_session_settles(broker: PaperBroker) -> None:
    part = broker.submit(buy("o-1", 2_000.0, reference_volume=10_000.0))
    assert (part.status, part.filled_qty) == ("partially_filled", 1_000.0)
    assert part.filled_avg_price == pytest.approx(100 * (1 + (5 + 100 * math.sqrt(0.1)) / 1e4))
    [expired] = broker.settle(monday(), now=NOW)
    assert (expired.status, expired.filled_qty) == ("expired", 1_000.0)
    assert expired.filled_avg_price == part.filled_avg_price  # nothing filled on Monday
    assert [p.qty for p in broker.positions()] == [1_000.0]


def test_a_capped_gtc_order_keeps_filling_on_later_bars(broker: PaperBroker) -> None:
    broker.submit(buy("o-1", 2_000.0, reference_volume=10_000.0, time_in_force="gtc"))
    [done] = broker.settle(monday(), now=NOW)
    assert (done.status, done.filled_qty) == ("filled", 2_000.0)
    assert [p.qty for p in broker.positions()] == [2_000.0]


def test_a_resting_day_limit_expires_and_a_gtc_limit_fills_when_reached(
    broker: PaperBroker,
) -> None:
    day = broker.submit(buy("day", 10.0, order_type="limit", limit_price=99.5))
    gtc = broker.submit(buy("gtc", 10.0, order_type="limit", limit_price=99.5, time_in_force="gtc"))
    assert day.status == gtc.status == "new"
    result = {o.client_order_id: o for o in broker.settle(monday(low=99.0), now=NOW)}
    assert result["day"].status == "expired" and result["day"].filled_qty == 0.0
    assert result["gtc"].status == "filled" and result["gtc"].filled_avg_price == 99.5


@pytest.mark.parametrize("volume", [0.0, -5.0, float("nan")])
def test_an_unusable_reference_volume_is_rejected(broker: PaperBroker, volume: float) -> None:
    order = broker.submit(buy("o-1", 1.0, reference_volume=volume))
    assert order.status == "rejected"
    assert "reference volume" in (order.message or "")
    assert broker.positions() == []
