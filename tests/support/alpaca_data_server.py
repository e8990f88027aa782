"""A real local HTTP server speaking Alpaca's historical-bars route, for tests of alpaca-py users.

``GET /v2/stocks/bars`` with the query alpaca-py sends (symbols, timeframe, start, end, limit,
page_token, adjustment, feed) and the headers APCA-API-KEY-ID / APCA-API-SECRET-KEY. Bars come
from a polars frame (symbol, session, open, high, low, close, volume), are stamped at midnight
New York time like Alpaca's daily bars, ordered by symbol then time and paged by ``limit`` capped
at ``page_size``. The server serves the frame as given: ``adjustment`` and ``feed`` are only
recorded.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qsl, urlsplit

import polars as pl

ROUTE = "/v2/stocks/bars"
DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000


@dataclass(frozen=True)
class ReceivedRequest:
    """One request as the server saw it, and the status it answered."""

    path: str
    query: dict[str, str]
    key_id: str | None
    status: int


class AlpacaDataServer:
    """Serve ``bars`` on 127.0.0.1 at a free port while used as a context manager."""

    def __init__(
        self,
        bars: pl.DataFrame,
        *,
        api_key: str,
        secret_key: str,
        page_size: int = MAX_LIMIT,
        faults: int = 0,
        fault_status: int = 429,
    ) -> None:
        self.api_key = api_key
        self.secret_key = secret_key
        self.page_size = page_size
        self.fault_status = fault_status
        self.requests: list[ReceivedRequest] = []
        self._faults_left = faults
        self._rows = _alpaca_rows(bars)
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        # A short poll interval makes shutdown() return quickly when the test is done.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> AlpacaDataServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def answer(self, path: str, query: dict[str, str], headers: dict[str, str]) -> tuple[int, dict]:
        """Return the status and JSON body for one request, and record it."""
        status, body = self._respond(path, query, headers)
        with self._lock:
            self.requests.append(
                ReceivedRequest(path, query, headers.get("apca-api-key-id"), status)
            )
        return status, body

    def _respond(
        self, path: str, query: dict[str, str], headers: dict[str, str]
    ) -> tuple[int, dict]:
        with self._lock:
            fault = self._faults_left > 0
            self._faults_left -= fault
        if fault:
            return self.fault_status, {"code": 42910000, "message": "too many requests."}
        if path != ROUTE:
            return 404, {"message": "Not Found"}
        if headers.get("apca-api-key-id") != self.api_key:
            return 401, {"code": 40110000, "message": "request is not authorized"}
        if headers.get("apca-api-secret-key") != self.secret_key:
            return 403, {"code": 40310000, "message": "forbidden"}
        if not query.get("symbols") or query.get("timeframe") != "1Day":
            return 422, {"code": 42210000, "message": "symbols and timeframe=1Day are required"}
        try:
            return 200, self._page(query)
        except ValueError as error:
            return 400, {"code": 40010001, "message": f"invalid query: {error}"}

    def _page(self, query: dict[str, str]) -> dict:
        symbols = set(query["symbols"].split(","))
        start = _instant(query.get("start"), default=dt.datetime.min.replace(tzinfo=dt.UTC))
        end = _instant(query.get("end"), default=dt.datetime.max.replace(tzinfo=dt.UTC))
        rows = [r for r in self._rows if r[0] in symbols and start <= r[1] <= end]
        offset = _offset(query["page_token"]) if query.get("page_token") else 0
        limit = min(int(query.get("limit", DEFAULT_LIMIT)), MAX_LIMIT, self.page_size)
        page = rows[offset : offset + limit]
        bars: dict[str, list[dict]] = {}
        for symbol, _, bar in page:
            bars.setdefault(symbol, []).append(bar)
        more = offset + limit < len(rows)
        return {"bars": bars, "next_page_token": _token(offset + limit) if more else None}


def _handler_for(server: AlpacaDataServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            split = urlsplit(self.path)
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, body = server.answer(split.path, dict(parse_qsl(split.query)), headers)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            """Keep test output clean; the server records requests instead."""

    return Handler


def _alpaca_rows(bars: pl.DataFrame) -> list[tuple[str, dt.datetime, dict]]:
    """Return (symbol, UTC instant, Alpaca bar JSON) per bar, by symbol then time."""
    stamped = bars.sort("symbol", "session").with_columns(
        t=pl.col("session")
        .cast(pl.Datetime("us"))
        .dt.replace_time_zone("America/New_York")
        .dt.convert_time_zone("UTC")
    )
    rows = []
    for r in stamped.iter_rows(named=True):
        bar = {
            "t": r["t"].strftime("%Y-%m-%dT%H:%M:%SZ"),
            "o": r["open"],
            "h": r["high"],
            "l": r["low"],
            "c": r["close"],
            "v": int(r["volume"]),
            "n": max(1, int(r["volume"]) // 100),
            "vw": round((r["high"] + r["low"] + r["close"]) / 3, 4),
        }
        rows.append((r["symbol"], r["t"], bar))
    return rows


def _instant(text: str | None, *, default: dt.datetime) -> dt.datetime:
    if text is None:
        return default
    instant = dt.datetime.fromisoformat(text)
    return instant if instant.tzinfo else instant.replace(tzinfo=dt.UTC)


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _offset(token: str) -> int:
    try:
        return int(json.loads(base64.urlsafe_b64decode(token))["offset"])
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"page_token {token!r} was not issued by this server") from error
