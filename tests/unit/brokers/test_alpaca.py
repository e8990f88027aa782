"""AlpacaBroker with the real alpaca-py client against a local Alpaca trading server.

Each fault must leave at most one order at the broker for the client_order_id, and the
caller must get either that order or a BrokerError that says what happened.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from flows.brokers.alpaca import AlpacaBroker
from flows.brokers.base import BrokerError, OrderRequest
from quantlake.settings import AlpacaSettings
from tests.support.alpaca_trading_server import AlpacaTradingServer

POST = "POST /v2/orders"
LOOKUP = "GET /v2/orders:by_client_order_id"
SECRET = "test-secret"
BUY = OrderRequest("ql-topk-20240105-AAPL-entry-abc123", "AAPL", "buy", 10.0)


@pytest.fixture
def server() -> Iterator[AlpacaTradingServer]:
    with AlpacaTradingServer(prices={"AAPL": 200.0, "BRK.B": 400.0}, cash=100_000.0) as srv:
        yield srv


def _broker(server: AlpacaTradingServer, *, secret: str = SECRET) -> AlpacaBroker:
    settings = AlpacaSettings(
        api_key=SecretStr("test-key"), secret_key=SecretStr(secret), trading_url=server.url
    )
    return AlpacaBroker(settings, timeout=2.0, read_attempts=3, backoff=0.01)


@pytest.fixture
def broker(server: AlpacaTradingServer) -> AlpacaBroker:
    return _broker(server)


def _routes(server: AlpacaTradingServer) -> list[str]:
    return [r.route for r in server.requests]


def test_happy_path_places_fills_and_reports(server: AlpacaTradingServer, broker: AlpacaBroker):
    order = broker.submit(BUY)
    assert (order.status, order.filled_qty, order.filled_avg_price) == ("filled", 10.0, 200.0)
    assert (order.symbol, order.side, order.order_type, order.time_in_force) == (
        "AAPL", "buy", "market", "day",
    )  # fmt: skip
    [placed] = server.orders_for(BUY.client_order_id)
    assert order.broker_order_id == placed["id"]
    assert _routes(server) == [LOOKUP, POST]
    post = server.requests[1]
    assert post.authorized
    assert post.body == {
        "symbol": "AAPL", "qty": 10.0, "side": "buy", "type": "market",
        "time_in_force": "day", "client_order_id": BUY.client_order_id,
    }  # fmt: skip
    assert [(p.symbol, p.qty, p.avg_price) for p in broker.positions()] == [("AAPL", 10.0, 200.0)]
    account = broker.account()
    assert (account.cash, account.equity, account.buying_power) == (98_000.0, 100_000.0, 98_000.0)
    assert broker.list_orders() == [order]
    assert broker.get_order(BUY.client_order_id) == order
    assert broker.get_order("never-sent") is None


def test_a_limit_order_that_does_not_cross_stays_new(
    server: AlpacaTradingServer, broker: AlpacaBroker
) -> None:
    order = broker.submit(
        OrderRequest("lim-1", "BRK.B", "buy", 2.0, order_type="limit", limit_price=390.0)
    )
    assert (order.status, order.filled_qty, order.limit_price) == ("new", 0.0, 390.0)
    assert broker.positions() == []


def test_submitting_the_same_order_twice_places_one(
    server: AlpacaTradingServer, broker: AlpacaBroker
) -> None:
    first = broker.submit(BUY)
    assert broker.submit(BUY) == first
    assert len(server.orders_for(BUY.client_order_id)) == 1
    assert server.calls(POST) == 1


@pytest.mark.parametrize("fault", ["timeout_after_accept", "close_after_accept"])
def test_an_order_accepted_without_a_reply_is_found_not_resent(
    server: AlpacaTradingServer, broker: AlpacaBroker, fault: str
) -> None:
    server.inject(POST, fault)  # type: ignore[arg-type]
    order = broker.submit(BUY)
    assert order.status == "filled"
    assert len(server.orders_for(BUY.client_order_id)) == 1
    assert _routes(server) == [LOOKUP, POST, LOOKUP]


@pytest.mark.parametrize("fault", ["reset", "429", "500"])
def test_a_transient_failure_is_looked_up_then_sent_once_more(
    server: AlpacaTradingServer, broker: AlpacaBroker, fault: str
) -> None:
    server.inject(POST, fault)  # type: ignore[arg-type]
    order = broker.submit(BUY)
    assert order.status == "filled"
    assert len(server.orders_for(BUY.client_order_id)) == 1
    # alpaca-py's own retry is off: the lookup always comes between two sends.
    assert _routes(server) == [LOOKUP, POST, LOOKUP, POST]
    assert server.requests[3].body["client_order_id"] == BUY.client_order_id


def test_a_persistent_failure_gives_up_after_one_resend(
    server: AlpacaTradingServer, broker: AlpacaBroker
) -> None:
    server.inject(POST, "500", times=5)
    with pytest.raises(BrokerError, match=r"did not take .*HTTP 500: internal server error"):
        broker.submit(BUY)
    assert server.orders_for(BUY.client_order_id) == []
    assert server.calls(POST) == 2


def test_a_403_is_a_clear_error_and_is_not_retried(
    server: AlpacaTradingServer, broker: AlpacaBroker
) -> None:
    server.inject(POST, "403")
    with pytest.raises(BrokerError, match="alpaca refused order .*HTTP 403: forbidden"):
        broker.submit(BUY)
    assert server.calls(POST) == 1
    assert server.orders_for(BUY.client_order_id) == []


def test_insufficient_buying_power_carries_the_brokers_message(broker: AlpacaBroker) -> None:
    with pytest.raises(BrokerError, match="HTTP 403: insufficient buying power"):
        broker.submit(OrderRequest("big-1", "AAPL", "buy", 1000.0))


def test_a_duplicate_id_rejected_by_alpaca_returns_the_existing_order(
    server: AlpacaTradingServer, broker: AlpacaBroker
) -> None:
    first = broker.submit(BUY)
    # Another run placed it between our lookup and our send: the lookup misses, the send 422s.
    server.inject(LOOKUP, "404")
    assert broker.submit(BUY) == first
    assert len(server.orders_for(BUY.client_order_id)) == 1
    assert _routes(server)[2:] == [LOOKUP, POST, LOOKUP]


def test_a_422_for_an_order_alpaca_does_not_have_is_an_error(broker: AlpacaBroker) -> None:
    with pytest.raises(BrokerError, match="HTTP 422: asset NOPE not found"):
        broker.submit(OrderRequest("nope-1", "NOPE", "buy", 1.0))


def test_lookups_retry_rate_limits_and_server_errors(
    server: AlpacaTradingServer, broker: AlpacaBroker
) -> None:
    server.inject(LOOKUP, "429")
    server.inject(LOOKUP, "500")
    assert broker.submit(BUY).status == "filled"
    assert _routes(server) == [LOOKUP, LOOKUP, LOOKUP, POST]


def test_an_order_is_never_sent_when_lookups_keep_failing(
    server: AlpacaTradingServer, broker: AlpacaBroker
) -> None:
    server.inject(LOOKUP, "500", times=3)
    with pytest.raises(BrokerError, match="could not read order .* after 3 attempts"):
        broker.submit(BUY)
    assert server.calls(POST) == 0


def test_an_unclear_send_with_a_failing_lookup_says_the_outcome_is_unknown(
    server: AlpacaTradingServer, broker: AlpacaBroker
) -> None:
    server.inject(POST, "timeout_after_accept")
    server.inject(LOOKUP, "500", times=3, after=1)  # the lookup before the send succeeds
    with pytest.raises(BrokerError, match="may or may not have reached alpaca"):
        broker.submit(BUY)
    assert server.calls(POST) == 1
    assert len(server.orders_for(BUY.client_order_id)) == 1


def test_secrets_stay_out_of_reprs_and_errors(server: AlpacaTradingServer) -> None:
    broker = _broker(server, secret="wrong-secret-value")
    assert "wrong-secret-value" not in repr(broker)
    with pytest.raises(BrokerError, match="HTTP 401: request is not authorized") as caught:
        broker.account()
    assert "wrong-secret-value" not in str(caught.value)
    assert not server.requests[0].authorized


def test_missing_keys_are_refused_before_any_request() -> None:
    with pytest.raises(ValueError, match="QUANTLAKE_ALPACA__API_KEY"):
        AlpacaBroker(AlpacaSettings())


def test_the_server_speaks_the_other_routes_alpaca_py_calls(server: AlpacaTradingServer) -> None:
    from alpaca.trading.client import TradingClient
    from alpaca.trading.enums import QueryOrderStatus
    from alpaca.trading.requests import GetOrdersRequest

    client = TradingClient("test-key", SECRET, url_override=server.url)
    resting = _broker(server).submit(
        OrderRequest("lim-2", "AAPL", "buy", 1.0, order_type="limit", limit_price=150.0)
    )
    assert str(client.get_order_by_id(resting.broker_order_id).id) == resting.broker_order_id
    open_orders = client.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN))
    assert [o.client_order_id for o in open_orders] == ["lim-2"]
    client.cancel_order_by_id(resting.broker_order_id)
    assert client.get_orders(GetOrdersRequest(status=QueryOrderStatus.OPEN)) == []
    assert _broker(server).get_order("lim-2").status == "canceled"  # type: ignore[union-attr]
    assert client.get_clock().is_open
    assert "DELETE /v2/orders/{id}" in _routes(server)


def test_a_working_limit_order_is_cancelled_and_a_filled_one_is_not(
    server: AlpacaTradingServer, broker: AlpacaBroker
) -> None:
    resting = OrderRequest(
        "ql-limit-rest", "AAPL", "buy", 5.0, order_type="limit", limit_price=150.0
    )
    assert broker.submit(resting).status in ("new", "accepted")  # 150 < 200: does not cross
    cancelled = broker.cancel(resting.client_order_id)
    assert (cancelled.status, cancelled.filled_qty) == ("canceled", 0.0)
    broker.submit(BUY)
    with pytest.raises(BrokerError, match="refused to cancel .*not cancelable"):
        broker.cancel(BUY.client_order_id)
    with pytest.raises(BrokerError, match="no order 'nope' to cancel"):
        broker.cancel("nope")


def test_the_clock_says_whether_the_market_is_open(server: AlpacaTradingServer) -> None:
    assert _broker(server).clock().is_open
    server.market_open = False
    clock = _broker(server).clock()
    assert not clock.is_open and clock.next_open > clock.timestamp
