"""The one interface every broker implements, and the plain records it speaks in."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal, Protocol

Side = Literal["buy", "sell"]
OrderType = Literal["market", "limit"]
TimeInForce = Literal["day", "gtc"]
OrderStatus = Literal[
    "new", "accepted", "partially_filled", "filled", "canceled", "rejected", "expired"
]


class BrokerError(RuntimeError):
    """The broker refused or failed; the message says what happened and what to do."""


@dataclass(frozen=True)
class OrderRequest:
    """An order the platform wants placed. ``client_order_id`` is deterministic and unique."""

    client_order_id: str
    symbol: str
    side: Side
    qty: float
    order_type: OrderType = "market"
    time_in_force: TimeInForce = "day"
    limit_price: float | None = None
    # The last trusted price, used by the paper broker to fill and by risk checks.
    reference_price: float | None = None
    # The traded volume behind reference_price (the paper broker's impact and participation cap).
    reference_volume: float | None = None
    # The exchange session the order is placed in; the paper broker fills a "next_open" order
    # from the first session after it (None: derived from the submission instant).
    session: dt.date | None = None


@dataclass(frozen=True)
class BrokerOrder:
    """An order as the broker knows it."""

    client_order_id: str
    broker_order_id: str
    symbol: str
    side: Side
    qty: float
    order_type: OrderType
    time_in_force: TimeInForce
    status: OrderStatus
    filled_qty: float
    filled_avg_price: float | None
    limit_price: float | None
    submitted_at: dt.datetime | None
    filled_at: dt.datetime | None
    commission: float = 0.0
    # Why the broker rejected the order (or left it unfilled), when it says.
    message: str | None = None


@dataclass(frozen=True)
class Position:
    symbol: str
    qty: float
    avg_price: float


@dataclass(frozen=True)
class Account:
    cash: float
    equity: float
    buying_power: float


class Broker(Protocol):
    """A place to send orders."""

    name: str

    def submit(self, order: OrderRequest) -> BrokerOrder:
        """Place ``order``; if the broker already has its client_order_id, return that order."""
        ...

    def get_order(self, client_order_id: str) -> BrokerOrder | None:
        """Return the order with this client id, or None when the broker has never seen it."""
        ...

    def list_orders(self) -> list[BrokerOrder]:
        """Return recent orders (open and closed)."""
        ...

    def cancel(self, client_order_id: str) -> BrokerOrder:
        """Cancel a working order (what filled stays filled); refuse a closed one."""
        ...

    def positions(self) -> list[Position]: ...

    def account(self, *, prices: dict[str, float] | None = None) -> Account:
        """Return cash and equity; ``prices`` values positions where the broker cannot."""
        ...
