"""PaperBroker on a real temporary lakehouse: fills, idempotency, restarts, rejections."""

from __future__ import annotations

import pytest

from flows.brokers.base import BrokerError, OrderRequest
from flows.brokers.paper import PaperBroker
from quantlake.settings import PaperBrokerSettings
from warehouse.lake import Lakehouse
from warehouse.schemas import PAPER_ORDERS

SETTINGS = PaperBrokerSettings(initial_cash=100_000.0, commission_bps=1.0, slippage_bps=5.0)


def _buy(coid: str = "o-1", qty: float = 10.0, price: float | None = 200.0, **kw: object):
    return OrderRequest(coid, "AAPL", "buy", qty, reference_price=price, **kw)  # type: ignore[arg-type]


@pytest.fixture
def broker(lake: Lakehouse) -> PaperBroker:
    return PaperBroker(lake, settings=SETTINGS)


def test_a_market_buy_fills_with_slippage_and_commission(broker: PaperBroker) -> None:
    order = broker.submit(_buy())
    # 200 * (1 + 5bp) = 200.1; notional 2001; commission 1bp = 0.2001
    assert order.status == "filled"
    assert order.filled_qty == 10.0
    assert order.filled_avg_price == pytest.approx(200.1)
    assert order.commission == pytest.approx(0.2001)
    assert broker.account().cash == pytest.approx(100_000 - 2001 - 0.2001)
    [position] = broker.positions()
    assert (position.symbol, position.qty) == ("AAPL", 10.0)
    assert position.avg_price == pytest.approx(200.1)


def test_a_sell_receives_less_and_keeps_the_average_price(broker: PaperBroker) -> None:
    broker.submit(_buy())
    sell = broker.submit(OrderRequest("o-2", "AAPL", "sell", 4.0, reference_price=210.0))
    # 210 * (1 - 5bp) = 209.895; notional 839.58; commission 0.083958
    assert sell.filled_avg_price == pytest.approx(209.895)
    cash = 100_000 - 2001 - 0.2001 + 839.58 - 0.083958
    assert broker.account().cash == pytest.approx(cash)
    [position] = broker.positions()
    assert position.qty == pytest.approx(6.0)
    assert position.avg_price == pytest.approx(200.1)
    # Selling the rest closes the position.
    broker.submit(OrderRequest("o-3", "AAPL", "sell", 6.0, reference_price=210.0))
    assert broker.positions() == []


def test_the_same_client_order_id_fills_once(broker: PaperBroker, lake: Lakehouse) -> None:
    first = broker.submit(_buy())
    snapshot = lake.current_snapshot()
    again = broker.submit(_buy(qty=99.0))  # a rerun with a recomputed quantity
    assert again == first
    assert lake.current_snapshot() == snapshot  # nothing written the second time
    assert lake.count(PAPER_ORDERS) == 1
    assert broker.account().cash == pytest.approx(100_000 - 2001 - 0.2001)


def test_each_submit_is_one_snapshot(broker: PaperBroker, lake: Lakehouse) -> None:
    before = lake.current_snapshot()
    broker.submit(_buy())
    assert lake.current_snapshot() == before + 1
    assert lake.snapshots(limit=1)[0].extra["client_order_id"] == "o-1"


def test_books_survive_a_restart(lake: Lakehouse) -> None:
    first = PaperBroker(lake, settings=SETTINGS).submit(_buy())
    root = lake.root
    lake.close()
    with Lakehouse(root) as reopened:
        broker = PaperBroker(reopened, settings=SETTINGS.model_copy(update={"initial_cash": 5.0}))
        assert broker.get_order("o-1") == first
        assert broker.submit(_buy()) == first
        assert broker.list_orders() == [first]
        assert broker.account().cash == pytest.approx(100_000 - 2001 - 0.2001)
        assert [p.qty for p in broker.positions()] == [10.0]


def test_a_buy_beyond_cash_is_rejected_and_stored(broker: PaperBroker) -> None:
    order = broker.submit(_buy(qty=1000.0))  # 200,100 + commission > 100,000
    assert order.status == "rejected"
    assert order.filled_qty == 0.0 and order.filled_avg_price is None
    assert order.message is not None and "insufficient cash" in order.message
    assert broker.account().cash == 100_000.0
    assert broker.positions() == []
    assert broker.get_order("o-1") == order  # the reason is stored with the order
    assert broker.submit(_buy(qty=1000.0)).status == "rejected"


def test_a_sell_beyond_the_position_is_rejected(broker: PaperBroker) -> None:
    broker.submit(_buy())
    order = broker.submit(OrderRequest("o-2", "AAPL", "sell", 11.0, reference_price=200.0))
    assert order.status == "rejected"
    assert "insufficient position" in (order.message or "")
    assert [p.qty for p in broker.positions()] == [10.0]


@pytest.mark.parametrize("price", [None, 0.0, -1.0, float("nan")])
def test_an_order_without_a_usable_reference_price_is_rejected(
    broker: PaperBroker, price: float | None
) -> None:
    order = broker.submit(_buy(price=price))
    assert order.status == "rejected"
    assert "reference price" in (order.message or "")
    assert broker.account().cash == 100_000.0


def test_limit_orders_fill_only_within_the_limit(broker: PaperBroker) -> None:
    resting = broker.submit(_buy("o-1", order_type="limit", limit_price=199.9))
    assert resting.status == "new"  # the reference price 200 is above the limit
    assert "limit 199.9 not reached" in (resting.message or "")
    assert broker.account().cash == 100_000.0
    filled = broker.submit(_buy("o-2", order_type="limit", limit_price=200.2))
    assert filled.status == "filled"
    assert filled.filled_avg_price == pytest.approx(200.1)  # within the limit: full slippage
    assert filled.limit_price == 200.2


def test_a_limit_order_never_fills_past_its_limit_after_slippage(broker: PaperBroker) -> None:
    # Reference 200 reaches the limit 200.05; 200.1 after slippage would breach it: clamped.
    order = broker.submit(_buy(order_type="limit", limit_price=200.05))
    assert order.status == "filled"
    assert order.filled_avg_price == 200.05


@pytest.mark.parametrize(
    "order",
    [
        _buy(qty=0.0),
        _buy(qty=float("nan")),
        _buy(order_type="limit"),
        _buy(limit_price=10.0),
    ],
)
def test_malformed_orders_are_refused_and_not_stored(broker: PaperBroker, order) -> None:
    with pytest.raises(BrokerError, match="refused"):
        broker.submit(order)
    assert broker.list_orders() == []


def test_a_reused_id_for_another_symbol_is_an_error(broker: PaperBroker) -> None:
    broker.submit(_buy())
    with pytest.raises(BrokerError, match="already names a buy of AAPL"):
        broker.submit(OrderRequest("o-1", "MSFT", "buy", 1.0, reference_price=10.0))


def test_account_values_positions_at_given_prices_or_at_book_value(broker: PaperBroker) -> None:
    broker.submit(_buy())
    broker.submit(OrderRequest("o-2", "MSFT", "buy", 5.0, reference_price=100.0))
    cash = broker.account().cash
    assert broker.account().equity == pytest.approx(cash + 10 * 200.1 + 5 * 100.05)
    valued = broker.account(prices={"AAPL": 250.0, "MSFT": 90.0})
    assert valued.equity == pytest.approx(cash + 10 * 250.0 + 5 * 90.0)
    assert valued.buying_power == cash
    with pytest.raises(BrokerError, match="MSFT"):  # a partial price map is not a valuation
        broker.account(prices={"AAPL": 250.0})


def test_a_second_account_on_the_same_lakehouse_is_refused(lake: Lakehouse) -> None:
    PaperBroker(lake, settings=SETTINGS).submit(_buy())
    other = PaperBroker(lake, settings=SETTINGS, account="other")
    with pytest.raises(BrokerError, match="belong to account 'paper'"):
        other.submit(_buy("o-9"))


def test_a_split_multiplies_held_shares_once_and_keeps_value() -> None:
    import datetime as dt
    import tempfile
    from pathlib import Path

    import polars as pl

    from flows.brokers.base import OrderRequest
    from flows.brokers.paper import PaperBroker
    from quantlake.settings import PaperBrokerSettings
    from warehouse.lake import Lakehouse

    now = dt.datetime(2024, 1, 5, 21, tzinfo=dt.UTC)
    free = PaperBrokerSettings(initial_cash=10_000.0, commission_bps=0.0, slippage_bps=0.0)
    with Lakehouse(Path(tempfile.mkdtemp())) as lake:
        broker = PaperBroker(lake, settings=free)
        broker.submit(OrderRequest("a", "AAA", "buy", 10, reference_price=100.0))
        splits = pl.DataFrame(
            {
                "symbol": ["AAA", "BBB"],
                "ex_session": [dt.date(2024, 1, 5)] * 2,
                "split_ratio": [2.0, 3.0],
            }
        )
        assert broker.apply_splits(splits, now=now) == 1
        assert broker.apply_splits(splits, now=now) == 0  # never twice
        (pos,) = broker.positions()
        assert (pos.qty, pos.avg_price) == (20.0, 50.0)
        assert broker.account(prices={"AAA": 50.0}).equity == 10_000.0
        # BBB was not held when its split became known: buying it later is not re-split.
        broker.submit(OrderRequest("b", "BBB", "buy", 5, reference_price=10.0))
        broker.apply_splits(splits, now=now)
        assert {p.symbol: p.qty for p in broker.positions()} == {"AAA": 20.0, "BBB": 5.0}


def test_equity_without_a_price_for_a_held_symbol_is_an_error() -> None:
    import tempfile
    from pathlib import Path

    import pytest

    from flows.brokers.base import BrokerError, OrderRequest
    from flows.brokers.paper import PaperBroker
    from quantlake.settings import PaperBrokerSettings
    from warehouse.lake import Lakehouse

    with Lakehouse(Path(tempfile.mkdtemp())) as lake:
        broker = PaperBroker(lake, settings=PaperBrokerSettings())
        broker.submit(OrderRequest("a", "AAA", "buy", 10, reference_price=100.0))
        with pytest.raises(BrokerError, match="AAA"):
            broker.account(prices={"MSFT": 1.0})
