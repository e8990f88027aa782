"""Alpaca through alpaca-py: each order placed at most once, found again by its client order id.

alpaca-py's RESTClient sends requests without a timeout and retries 429/504 itself, POSTs
included. Here requests time out after ``timeout`` seconds and the library's own retry is off:
this module owns the retry policy, because only it knows that after an unclear failure the
order must be looked up (by client_order_id) before it is ever sent again.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import requests
from alpaca.common.enums import Sort
from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from alpaca.trading.enums import OrderSide, QueryOrderStatus
from alpaca.trading.enums import TimeInForce as AlpacaTimeInForce
from alpaca.trading.models import Order
from alpaca.trading.requests import GetOrdersRequest, LimitOrderRequest, MarketOrderRequest

from flows.brokers.base import (
    Account,
    BrokerError,
    BrokerOrder,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    Side,
    TimeInForce,
)
from quantlake.settings import AlpacaSettings

# Failures after which the order may or may not have reached Alpaca; reads retry on them.
TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})
_NETWORK = (requests.Timeout, requests.ConnectionError)
T = TypeVar("T")
# Alpaca's many order states, folded into the platform's: working, filled, or finished unfilled.
_STATUS: dict[str, OrderStatus] = {
    "new": "new",
    "pending_new": "new",
    "accepted": "accepted",
    "accepted_for_bidding": "accepted",
    "pending_review": "accepted",
    "held": "accepted",
    "suspended": "accepted",
    "calculated": "accepted",
    "stopped": "accepted",
    "pending_cancel": "accepted",
    "pending_replace": "accepted",
    "partially_filled": "partially_filled",
    "filled": "filled",
    "done_for_day": "expired",
    "expired": "expired",
    "canceled": "canceled",
    "replaced": "canceled",
    "rejected": "rejected",
}


@dataclass(frozen=True)
class MarketClock:
    """The broker's view of the market: open now or not, and when it next opens and closes."""

    timestamp: dt.datetime
    is_open: bool
    next_open: dt.datetime
    next_close: dt.datetime


class _TimeoutSession(requests.Session):
    """A requests session that never waits longer than ``timeout`` seconds for a response."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self._timeout = timeout

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self._timeout)
        return super().request(method, url, *args, **kwargs)


class AlpacaBroker:
    """Alpaca paper or live trading; the account is chosen by the keys and ``settings.paper``."""

    name = "alpaca"

    def __init__(
        self,
        settings: AlpacaSettings,
        *,
        timeout: float = 10.0,
        read_attempts: int = 4,
        backoff: float = 0.5,
    ) -> None:
        if settings.api_key is None or settings.secret_key is None:
            raise ValueError(
                "the Alpaca broker needs QUANTLAKE_ALPACA__API_KEY and "
                "QUANTLAKE_ALPACA__SECRET_KEY in the environment"
            )
        self._paper = settings.paper
        self._url = settings.trading_url
        self._attempts = read_attempts
        self._backoff = backoff
        self._client = TradingClient(
            api_key=settings.api_key.get_secret_value(),
            secret_key=settings.secret_key.get_secret_value(),
            paper=settings.paper,
            url_override=settings.trading_url,
        )
        # Private alpaca-py attributes (0.44): fail loudly if a release renames them.
        for attribute in ("_retry", "_session"):
            if not hasattr(self._client, attribute):
                raise RuntimeError(
                    f"alpaca-py's TradingClient has no {attribute} any more; update "
                    "flows/brokers/alpaca.py, which sets timeouts and retries through it"
                )
        self._client._retry = 0
        self._client._session = _TimeoutSession(timeout)

    def __repr__(self) -> str:
        return f"AlpacaBroker(paper={self._paper}, url={self._url!r})"

    def submit(self, order: OrderRequest) -> BrokerOrder:
        """Place ``order`` once: return the broker's order if its client_order_id is known.

        After a timeout, a dropped connection, a 429/5xx or a 422 (a duplicate id) the order is
        looked up by client_order_id; if Alpaca has it, that order is returned. A transient
        failure with no order behind it is retried once under the same id. 403 and other
        refusals raise BrokerError with Alpaca's message.
        """
        found = self.get_order(order.client_order_id)
        if found is not None:
            return _same_order(found, order)
        request = _alpaca_request(order)
        last = ""
        for attempt in (1, 2):
            try:
                return to_broker_order(self._client.submit_order(request))
            except APIError as exc:
                status, last = exc.status_code, f"HTTP {exc.status_code}: {api_message(exc)}"
                if status != 422 and status not in TRANSIENT_STATUS:
                    raise BrokerError(f"alpaca refused {_describe(order)}: {last}") from exc
            except _NETWORK as exc:
                status, last = None, f"{type(exc).__name__}: {exc}"
            found = self._lookup_after_failure(order, last)
            if found is not None:
                return _same_order(found, order)
            if status == 422:
                raise BrokerError(f"alpaca refused {_describe(order)}: {last}")
            if attempt == 1:
                time.sleep(self._backoff)
        raise BrokerError(
            f"alpaca did not take {_describe(order)} after 2 attempts ({last}); it has no order "
            "with this client_order_id, so rerunning later is safe"
        )

    def get_order(self, client_order_id: str) -> BrokerOrder | None:
        def call() -> Order | None:
            try:
                return self._client.get_order_by_client_id(client_order_id)
            except APIError as exc:
                if exc.status_code == 404:
                    return None
                raise

        found = self._read(call, f"order {client_order_id!r}")
        return None if found is None else to_broker_order(found)

    def list_orders(self) -> list[BrokerOrder]:
        """Return the 500 most recent orders, oldest first."""
        query = GetOrdersRequest(status=QueryOrderStatus.ALL, limit=500, direction=Sort.DESC)
        orders = self._read(lambda: self._client.get_orders(query), "the order list")
        return [to_broker_order(o) for o in reversed(orders)]

    def positions(self) -> list[Position]:
        rows = self._read(self._client.get_all_positions, "positions")
        return [Position(p.symbol, float(p.qty), float(p.avg_entry_price)) for p in rows]

    def account(self, *, prices: dict[str, float] | None = None) -> Account:
        """Return Alpaca's cash, equity and buying power (it values positions itself)."""
        acct = self._read(self._client.get_account, "the account")
        values = {"cash": acct.cash, "equity": acct.equity, "buying_power": acct.buying_power}
        missing = sorted(k for k, v in values.items() if v is None)
        if missing:
            raise BrokerError(f"alpaca's account response lacks {missing}")
        return Account(**{k: float(v) for k, v in values.items()})

    def clock(self) -> MarketClock:
        """Return Alpaca's market clock (holidays and early closes as the broker sees them)."""
        c = self._read(self._client.get_clock, "the market clock")
        return MarketClock(c.timestamp, bool(c.is_open), c.next_open, c.next_close)

    def cancel(self, client_order_id: str) -> BrokerOrder:
        """Cancel a working order by its client id and return it as Alpaca then reports it."""
        found = self.get_order(client_order_id)
        if found is None:
            raise BrokerError(f"alpaca has no order {client_order_id!r} to cancel")
        try:
            self._client.cancel_order_by_id(found.broker_order_id)
        except APIError as exc:
            raise BrokerError(
                f"alpaca refused to cancel {client_order_id!r} (status {found.status}): "
                f"HTTP {exc.status_code}: {api_message(exc)}"
            ) from exc
        after = self.get_order(client_order_id)
        assert after is not None  # it was there a moment ago; Alpaca does not delete orders
        return after

    def _lookup_after_failure(self, order: OrderRequest, failure: str) -> BrokerOrder | None:
        try:
            return self.get_order(order.client_order_id)
        except BrokerError as exc:
            raise BrokerError(
                f"{_describe(order)} may or may not have reached alpaca ({failure}) and looking it "
                f"up failed: {exc}. Rerun later; the same client_order_id cannot be placed twice"
            ) from exc

    def _read(self, call: Callable[[], T], what: str) -> T:
        """Call a read-only endpoint, retrying timeouts, dropped connections, 429 and 5xx."""
        last = ""
        for attempt in range(self._attempts):
            try:
                return call()
            except APIError as exc:
                last = f"HTTP {exc.status_code}: {api_message(exc)}"
                if exc.status_code not in TRANSIENT_STATUS:
                    raise BrokerError(f"alpaca refused to return {what}: {last}") from exc
            except _NETWORK as exc:
                last = f"{type(exc).__name__}: {exc}"
            if attempt + 1 < self._attempts:
                time.sleep(self._backoff * 2**attempt)
        raise BrokerError(
            f"could not read {what} from alpaca after {self._attempts} attempts ({last}); "
            "check the network and https://status.alpaca.markets"
        )


def api_message(exc: APIError) -> str:
    """Return the ``message`` of an Alpaca error body, or the raw body when it is not JSON."""
    text = str(exc)
    try:
        return str(json.loads(text)["message"])
    except (ValueError, KeyError, TypeError):
        return text[:300]


def _alpaca_request(order: OrderRequest) -> MarketOrderRequest | LimitOrderRequest:
    fields: dict[str, Any] = {
        "symbol": order.symbol,
        "qty": order.qty,
        "side": OrderSide(order.side),
        "time_in_force": AlpacaTimeInForce(order.time_in_force),
        "client_order_id": order.client_order_id,
    }
    if order.order_type == "limit":
        return LimitOrderRequest(**fields, limit_price=order.limit_price)
    if order.limit_price is not None:
        raise BrokerError(f"{_describe(order)} is a market order but has a limit_price")
    return MarketOrderRequest(**fields)


def _describe(order: OrderRequest) -> str:
    return f"order {order.client_order_id!r} ({order.side} {order.qty} {order.symbol})"


def _same_order(found: BrokerOrder, order: OrderRequest) -> BrokerOrder:
    if (found.symbol, found.side) != (order.symbol, order.side):
        raise BrokerError(
            f"client_order_id {order.client_order_id!r} already names a {found.side} of "
            f"{found.symbol} at alpaca, not a {order.side} of {order.symbol}"
        )
    return found


def to_broker_order(order: Order) -> BrokerOrder:
    """Map an alpaca-py Order to the platform's BrokerOrder (lower-case states, float sizes)."""
    status = _STATUS.get(_value(order.status) or "")
    side = _value(order.side)
    kind = _value(order.type or order.order_type)
    tif = _value(order.time_in_force)
    if status is None or side not in ("buy", "sell") or kind not in ("market", "limit"):
        raise BrokerError(
            f"alpaca order {order.client_order_id!r} has status {_value(order.status)!r}, side "
            f"{side!r}, type {kind!r}: not a simple market/limit order this platform placed"
        )
    if tif not in ("day", "gtc") or order.symbol is None or order.qty is None:
        raise BrokerError(
            f"alpaca order {order.client_order_id!r} has time_in_force {tif!r}, symbol "
            f"{order.symbol!r}, qty {order.qty!r}: expected a day/gtc order with a symbol and qty"
        )
    return BrokerOrder(
        client_order_id=order.client_order_id,
        broker_order_id=str(order.id),
        symbol=order.symbol,
        side=cast(Side, side),
        qty=float(order.qty),
        order_type=cast(OrderType, kind),
        time_in_force=cast(TimeInForce, tif),
        status=status,
        filled_qty=float(order.filled_qty or 0.0),
        filled_avg_price=_float(order.filled_avg_price),
        limit_price=_float(order.limit_price),
        submitted_at=order.submitted_at,
        filled_at=order.filled_at,
    )


def _value(enum_or_none: Any) -> str | None:
    return None if enum_or_none is None else str(getattr(enum_or_none, "value", enum_or_none))


def _float(value: str | float | None) -> float | None:
    return None if value is None else float(value)
