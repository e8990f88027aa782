"""A real local HTTP server speaking Alpaca's historical-bars routes, for tests of alpaca-py users.

Routes, with the query alpaca-py sends (symbols, timeframe, start, end, limit, page_token, and
for stocks adjustment, feed) and the headers APCA-API-KEY-ID / APCA-API-SECRET-KEY:

- ``GET /v2/stocks/bars?timeframe=1Day``: daily bars from ``bars`` (symbol, session, OHLCV),
  stamped at midnight New York time like Alpaca's daily bars;
- ``GET /v2/stocks/bars?timeframe=1Min``: minute bars from ``minute_bars``;
- ``GET /v1beta3/crypto/us/bars?timeframe=1Min``: minute bars from ``crypto_bars`` (keys
  optional, as at Alpaca; when sent they must be right).

Minute frames have symbol, ts (bar start, UTC), OHLCV and optionally vwap and trade_count (else
made up from the bar). Bars are ordered by symbol then time, ``start``/``end`` are inclusive,
and pages hold ``limit`` bars capped at ``page_size``. ``faults`` answers that many requests
with ``fault_status`` once ``fault_after`` requests were served. ``adjustment`` and ``feed``
are only recorded: the server serves the frames as given.
"""

from __future__ import annotations

import base64
import bisect
import datetime as dt
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qsl, urlsplit

import polars as pl

ROUTE = "/v2/stocks/bars"
CRYPTO_ROUTE = "/v1beta3/crypto/us/bars"
DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000
Rows = dict[str, tuple[list[dt.datetime], list[dict]]]


@dataclass(frozen=True)
class ReceivedRequest:
    """One request as the server saw it, and the status it answered."""

    path: str
    query: dict[str, str]
    key_id: str | None
    status: int


class AlpacaDataServer:
    """Serve the frames on 127.0.0.1 at a free port while used as a context manager."""

    def __init__(
        self,
        bars: pl.DataFrame | None = None,
        *,
        api_key: str,
        secret_key: str,
        minute_bars: pl.DataFrame | None = None,
        crypto_bars: pl.DataFrame | None = None,
        page_size: int = MAX_LIMIT,
        faults: int = 0,
        fault_status: int = 429,
        fault_after: int = 0,
    ) -> None:
        self.api_key = api_key
        self.secret_key = secret_key
        self.page_size = page_size
        self.fault_status = fault_status
        self.requests: list[ReceivedRequest] = []
        self._faults_left = faults
        self._fault_after = fault_after
        self._tables: dict[tuple[str, str], Rows] = {
            (ROUTE, "1Day"): _index(_daily_rows(bars)) if bars is not None else {},
            (ROUTE, "1Min"): _index(_minute_rows(minute_bars)) if minute_bars is not None else {},
            (CRYPTO_ROUTE, "1Min"): (
                _index(_minute_rows(crypto_bars)) if crypto_bars is not None else {}
            ),
        }
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
            fault = self._faults_left > 0 and len(self.requests) >= self._fault_after
            self._faults_left -= fault
        if fault:
            return self.fault_status, {"code": 42910000, "message": "too many requests."}
        if path not in (ROUTE, CRYPTO_ROUTE):
            return 404, {"message": "Not Found"}
        keyless = path == CRYPTO_ROUTE and "apca-api-key-id" not in headers
        if not keyless and headers.get("apca-api-key-id") != self.api_key:
            return 401, {"code": 40110000, "message": "request is not authorized"}
        if not keyless and headers.get("apca-api-secret-key") != self.secret_key:
            return 403, {"code": 40310000, "message": "forbidden"}
        timeframe = query.get("timeframe")
        if not query.get("symbols") or (path, timeframe) not in self._tables:
            served = sorted(tf for route, tf in self._tables if route == path)
            return 422, {
                "code": 42210000,
                "message": f"symbols and a timeframe in {served} are required",
            }
        try:
            return 200, self._page(self._tables[(path, timeframe)], query)
        except ValueError as error:
            return 400, {"code": 40010001, "message": f"invalid query: {error}"}

    def _page(self, table: Rows, query: dict[str, str]) -> dict:
        start = _instant(query.get("start"), default=dt.datetime.min.replace(tzinfo=dt.UTC))
        end = _instant(query.get("end"), default=dt.datetime.max.replace(tzinfo=dt.UTC))
        rows: list[tuple[str, dict]] = []
        for symbol in sorted(set(query["symbols"].split(","))):
            stamps, bars = table.get(symbol, ([], []))
            lo, hi = bisect.bisect_left(stamps, start), bisect.bisect_right(stamps, end)
            rows.extend((symbol, bar) for bar in bars[lo:hi])
        offset = _offset(query["page_token"]) if query.get("page_token") else 0
        limit = min(int(query.get("limit", DEFAULT_LIMIT)), MAX_LIMIT, self.page_size)
        page = rows[offset : offset + limit]
        out: dict[str, list[dict]] = {}
        for symbol, bar in page:
            out.setdefault(symbol, []).append(bar)
        more = offset + limit < len(rows)
        return {"bars": out, "next_page_token": _token(offset + limit) if more else None}


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


def _index(rows: list[tuple[str, dt.datetime, dict]]) -> Rows:
    """Group (symbol, instant, bar) rows by symbol, each sorted by instant for bisection."""
    table: Rows = {}
    for symbol, instant, bar in sorted(rows, key=lambda r: (r[0], r[1])):
        stamps, bars = table.setdefault(symbol, ([], []))
        stamps.append(instant)
        bars.append(bar)
    return table


def _daily_rows(bars: pl.DataFrame) -> list[tuple[str, dt.datetime, dict]]:
    """Return (symbol, UTC instant, Alpaca bar JSON) per daily bar."""
    stamped = bars.with_columns(
        ts=pl.col("session")
        .cast(pl.Datetime("us"))
        .dt.replace_time_zone("America/New_York")
        .dt.convert_time_zone("UTC")
    )
    return _minute_rows(stamped, integer_volume=True)


def _minute_rows(
    bars: pl.DataFrame, *, integer_volume: bool | None = None
) -> list[tuple[str, dt.datetime, dict]]:
    """Return (symbol, UTC instant, Alpaca bar JSON) per bar of a frame with symbol, ts, OHLCV."""
    whole = integer_volume
    if whole is None:  # shares are whole numbers, crypto volumes are not
        whole = bool((bars.get_column("volume") % 1 == 0).all())
    rows = []
    for r in bars.iter_rows(named=True):
        volume = int(r["volume"]) if whole else r["volume"]
        vwap = r.get("vwap")
        count = r.get("trade_count")
        bar = {
            "t": r["ts"].strftime("%Y-%m-%dT%H:%M:%SZ"),
            "o": r["open"],
            "h": r["high"],
            "l": r["low"],
            "c": r["close"],
            "v": volume,
            "n": count if count is not None else max(1, int(r["volume"]) // 100),
            "vw": vwap if vwap is not None else round((r["high"] + r["low"] + r["close"]) / 3, 4),
        }
        rows.append((r["symbol"], r["ts"], bar))
    return rows


def intraday_bars(folder: Path) -> pl.DataFrame:
    """Read a shared intraday folder (``<SYMBOL>_1m..._*.csv.gz``) as symbol, ts, OHLCV frames.

    Timestamps with an offset are read as such; naive ones are UTC (see ../shared/data/SOURCES.md
    and flows/sources/minute_file_layout.py). Crypto pairs are renamed as Alpaca spells them.
    """
    frames = []
    for file in sorted(folder.glob("*.csv.gz")):
        frame = pl.read_csv(file, infer_schema=False)
        stamp, symbol = frame.columns[0], file.name.split("_")[0]
        if symbol.startswith("BTC") and "/" not in symbol:
            symbol = f"BTC/{symbol[3:]}"
        frames.append(
            frame.select(
                symbol=pl.lit(symbol),
                ts=pl.col(stamp)
                .str.replace(r"\+00:00$", "")
                .str.to_datetime(time_unit="us")
                .dt.replace_time_zone("UTC"),
                **{c: pl.col(c).cast(pl.Float64) for c in ("open", "high", "low", "close")},
                volume=pl.col("volume").cast(pl.Float64),
            )
        )
    return pl.concat(frames).sort("symbol", "ts")


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
