"""A local HTTP server speaking Alpaca's trading API as alpaca-py calls it, with faults on demand.

Routes (alpaca-py 0.44, ``alpaca/trading/client.py``; the client prefixes ``/v2``):
POST /v2/orders, GET /v2/orders, GET /v2/orders/{id}, DELETE /v2/orders/{id},
GET /v2/orders:by_client_order_id?client_order_id=..., GET /v2/positions, GET /v2/account,
GET /v2/clock. Market orders (and limit orders that cross) fill at once at ``prices``.

Faults, each for ``times`` calls of one route (e.g. ``"POST /v2/orders"``) after ``after`` calls:
``timeout_after_accept`` handles the request, then sends nothing until the client gives up;
``close_after_accept`` handles it, then closes the connection without a response; ``reset``
aborts the connection (TCP RST) before handling; ``"403"``, ``"404"``, ``"429"``, ``"500"``
answer with that status without handling.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import struct
import threading
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

Fault = Literal["timeout_after_accept", "close_after_accept", "reset", "403", "404", "429", "500"]

_ERRORS = {
    "403": (403, 40310000, "forbidden"),
    "404": (404, 40410000, "order not found"),
    "429": (429, 42910000, "rate limit exceeded"),
    "500": (500, 50010000, "internal server error"),
}
_OPEN = {"new", "accepted", "partially_filled", "pending_new"}


@dataclass(frozen=True)
class Recorded:
    """One request as the server saw it (auth headers reduced to whether they matched)."""

    route: str
    query: dict[str, str]
    body: dict[str, Any] | None
    authorized: bool


class AlpacaTradingServer:
    """An in-memory Alpaca account behind a real HTTP server on 127.0.0.1 (a context manager)."""

    def __init__(
        self,
        *,
        prices: dict[str, float],
        cash: float = 100_000.0,
        api_key: str = "test-key",
        secret_key: str = "test-secret",
        hang_seconds: float = 30.0,
        market_open: bool = True,
    ) -> None:
        self.prices = dict(prices)
        self.cash = cash
        self.api_key, self.secret_key = api_key, secret_key
        self.hang_seconds = hang_seconds
        self.market_open = market_open
        self.orders: dict[str, dict[str, Any]] = {}  # by order id, in submission order
        self.positions: dict[str, tuple[float, float]] = {}  # symbol -> (qty, avg price)
        self.lock = threading.Lock()
        self._faults: dict[str, list[Fault | None]] = {}
        self._requests: list[Recorded] = []
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.trading = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The base URL to give alpaca-py as ``url_override`` (it appends ``/v2``)."""
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def __enter__(self) -> AlpacaTradingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def inject(self, route: str, fault: Fault, *, times: int = 1, after: int = 0) -> None:
        """Make ``times`` calls of ``route`` ("METHOD /v2/path") fail, once ``after`` pass."""
        with self.lock:
            self._faults.setdefault(route, []).extend([None] * after + [fault] * times)

    def take_fault(self, route: str) -> Fault | None:
        with self.lock:
            queue = self._faults.get(route)
            return queue.pop(0) if queue else None

    def record(self, entry: Recorded) -> None:
        with self.lock:
            self._requests.append(entry)

    @property
    def requests(self) -> list[Recorded]:
        with self.lock:
            return list(self._requests)

    def calls(self, route: str) -> int:
        return sum(1 for r in self.requests if r.route == route)

    def orders_for(self, client_order_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return [o for o in self.orders.values() if o["client_order_id"] == client_order_id]

    # -- the book (called with self.lock held) ------------------------------------------------
    def create_order(self, body: dict[str, Any]) -> tuple[int, Any]:
        coid = body.get("client_order_id") or str(uuid.uuid4())
        if any(o["client_order_id"] == coid for o in self.orders.values()):
            return _error(422, 40010001, "client_order_id must be unique")
        symbol, side, kind = body.get("symbol"), body.get("side"), body.get("type")
        qty = float(body.get("qty") or 0)
        limit = float(body["limit_price"]) if body.get("limit_price") is not None else None
        if side not in ("buy", "sell") or kind not in ("market", "limit") or qty <= 0:
            return _error(422, 40010001, "invalid order: side, type or qty")
        if kind == "limit" and limit is None:
            return _error(422, 40010001, "limit_price is required for limit orders")
        if symbol not in self.prices:
            return _error(422, 40010001, f"asset {symbol} not found")
        price = self.prices[symbol]
        crosses = kind == "market" or (price <= limit if side == "buy" else price >= limit)
        held, avg = self.positions.get(symbol, (0.0, 0.0))
        if side == "buy" and crosses and qty * price > self.cash:
            return _error(403, 40310000, "insufficient buying power")
        if side == "sell" and qty > held:
            return _error(
                403,
                40310000,
                f"insufficient qty available for order (requested: {qty}, available: {held})",
            )
        order = _order_json(coid, symbol, side, kind, body, qty, limit)
        if crosses:
            self._fill(order, symbol, side, qty, price, held, avg)
        self.orders[order["id"]] = order
        return 200, order

    def _fill(self, order: dict, symbol: str, side: str, qty: float, price: float,
              held: float, avg: float) -> None:  # fmt: skip
        order.update(status="filled", filled_qty=_num(qty), filled_avg_price=_num(price))
        order["filled_at"] = order["updated_at"]
        if side == "buy":
            self.positions[symbol] = (held + qty, (held * avg + qty * price) / (held + qty))
            self.cash -= qty * price
        else:
            self.cash += qty * price
            if held - qty > 0:
                self.positions[symbol] = (held - qty, avg)
            else:
                self.positions.pop(symbol)

    def list_orders(self, query: dict[str, str]) -> list[dict[str, Any]]:
        status = query.get("status", "open")
        found = [
            o
            for o in self.orders.values()
            if status == "all" or (o["status"] in _OPEN) == (status == "open")
        ]
        if query.get("direction", "desc") == "desc":
            found.reverse()
        return found[: int(query.get("limit", 50))]

    def account_json(self) -> dict[str, Any]:
        value = sum(q * self.prices.get(s, a) for s, (q, a) in self.positions.items())
        return {
            "id": "0d3c0a40-0000-4000-8000-000000000001",
            "account_number": "PA0TESTACCT",
            "status": "ACTIVE",
            "currency": "USD",
            "cash": _num(self.cash),
            "buying_power": _num(self.cash),
            "equity": _num(self.cash + value),
            "portfolio_value": _num(self.cash + value),
            "long_market_value": _num(value),
            "pattern_day_trader": False,
            "trading_blocked": False,
            "account_blocked": False,
        }

    def positions_json(self) -> list[dict[str, Any]]:
        return [
            {
                "asset_id": str(uuid.uuid5(uuid.NAMESPACE_DNS, symbol)),
                "symbol": symbol,
                "exchange": "NASDAQ",
                "asset_class": "us_equity",
                "avg_entry_price": _num(avg),
                "qty": _num(qty),
                "qty_available": _num(qty),
                "side": "long",
                "cost_basis": _num(qty * avg),
                "current_price": _num(self.prices.get(symbol, avg)),
                "market_value": _num(qty * self.prices.get(symbol, avg)),
            }
            for symbol, (qty, avg) in sorted(self.positions.items())
        ]


class _Handler(BaseHTTPRequestHandler):
    server: ThreadingHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet; tests assert on recorded requests, not on logs."""

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        trading: AlpacaTradingServer = self.server.trading  # type: ignore[attr-defined]
        parts = urlsplit(self.path)
        path, query = unquote(parts.path), dict(parse_qsl(parts.query))
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        route, order_id = _route(method, path)
        authorized = (
            self.headers.get("APCA-API-KEY-ID") == trading.api_key
            and self.headers.get("APCA-API-SECRET-KEY") == trading.secret_key
        )
        trading.record(Recorded(route, query, body, authorized))
        if not authorized:
            return self._send(*_error(401, 40110000, "request is not authorized"))
        fault = trading.take_fault(route)
        if fault == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return None
        if fault in _ERRORS:
            return self._send(*_error(*_ERRORS[fault]))
        with trading.lock:
            status, payload = _dispatch(trading, route, order_id, query, body)
        if fault == "timeout_after_accept":
            trading._stopping.wait(trading.hang_seconds)
        if fault in ("timeout_after_accept", "close_after_accept"):
            self.close_connection = True
            return None
        return self._send(status, payload)

    def _send(self, status: int, payload: Any) -> None:
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _route(method: str, path: str) -> tuple[str, str | None]:
    if path.startswith("/v2/orders/"):
        return f"{method} /v2/orders/{{id}}", path.removeprefix("/v2/orders/")
    return f"{method} {path}", None


def _dispatch(
    t: AlpacaTradingServer, route: str, order_id: str | None, query: dict, body: Any
) -> tuple[int, Any]:
    if route == "POST /v2/orders":
        return t.create_order(body or {})
    if route == "GET /v2/orders":
        return 200, t.list_orders(query)
    if route == "GET /v2/orders:by_client_order_id":
        found = [
            o for o in t.orders.values() if o["client_order_id"] == query.get("client_order_id")
        ]
        return (200, found[0]) if found else _error(404, 40410000, "order not found")
    if route in ("GET /v2/orders/{id}", "DELETE /v2/orders/{id}"):
        order = t.orders.get(order_id or "")
        if order is None:
            return _error(404, 40410000, "order not found")
        if route.startswith("GET"):
            return 200, order
        if order["status"] not in _OPEN:
            return _error(422, 42210000, "order is not cancelable")
        order.update(status="canceled", canceled_at=_now())
        return 204, None
    if route == "GET /v2/positions":
        return 200, t.positions_json()
    if route == "GET /v2/account":
        return 200, t.account_json()
    if route == "GET /v2/clock":
        now = dt.datetime.now(dt.UTC)
        return 200, {"timestamp": now.isoformat(), "is_open": t.market_open,
                     "next_open": (now + dt.timedelta(days=1)).isoformat(),
                     "next_close": (now + dt.timedelta(hours=1)).isoformat()}  # fmt: skip
    return _error(404, 40410000, f"no route {route}")


def _order_json(
    coid: str, symbol: str, side: str, kind: str, body: dict, qty: float, limit: float | None
) -> dict[str, Any]:
    now = _now()
    return {
        "id": str(uuid.uuid4()),
        "client_order_id": coid,
        "created_at": now,
        "updated_at": now,
        "submitted_at": now,
        "filled_at": None,
        "expired_at": None,
        "canceled_at": None,
        "failed_at": None,
        "replaced_at": None,
        "replaced_by": None,
        "replaces": None,
        "asset_id": str(uuid.uuid5(uuid.NAMESPACE_DNS, symbol)),
        "symbol": symbol,
        "asset_class": "us_equity",
        "notional": None,
        "qty": _num(qty),
        "filled_qty": "0",
        "filled_avg_price": None,
        "order_class": "simple",
        "order_type": kind,
        "type": kind,
        "side": side,
        "time_in_force": body.get("time_in_force", "day"),
        "limit_price": None if limit is None else _num(limit),
        "stop_price": None,
        "status": "new",
        "extended_hours": False,
        "legs": None,
    }


def _error(status: int, code: int, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"code": code, "message": message}


def _num(value: float) -> str:
    return format(value, ".9f").rstrip("0").rstrip(".")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")


def broker_env(server: AlpacaTradingServer) -> dict[str, str]:
    """Return the environment that points quantlake's Alpaca broker at ``server``."""
    return {
        "QUANTLAKE_BROKER": "alpaca",
        "QUANTLAKE_ALPACA__API_KEY": server.api_key,
        "QUANTLAKE_ALPACA__SECRET_KEY": server.secret_key,
        "QUANTLAKE_ALPACA__TRADING_URL": server.url,
    }
