"""Bars from Alpaca's market-data API through alpaca-py: adjusted daily bars, and minute bars
of stocks (``/v2/stocks/bars``) and crypto (``/v1beta3/crypto/us/bars``).

alpaca-py follows ``next_page_token`` itself (``RESTClient._get_marketdata`` loops until the
token is null) and retries HTTP 429/504 three times, 3 s apart, before raising ``APIError``.
The minute source adds its own backoff on top (``RateLimited``), per request chunk.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from typing import Any, Literal
from zoneinfo import ZoneInfo

import polars as pl
import requests
from alpaca.common.exceptions import APIError
from alpaca.data.enums import Adjustment, CryptoFeed, DataFeed
from alpaca.data.historical import CryptoHistoricalDataClient, StockHistoricalDataClient
from alpaca.data.requests import CryptoBarsRequest, StockBarsRequest
from alpaca.data.timeframe import TimeFrame

from flows.sources.base import BAR_COLUMNS, SourceBatch, SourceError
from flows.sources.minute_bars import MINUTE_BAR_COLUMNS, MinuteBatch, empty_minute_bars
from quantlake.settings import AlpacaSettings

# Alpaca stamps a daily bar at midnight New York time (04:00 or 05:00 UTC).
EXCHANGE_TZ = ZoneInfo("America/New_York")
DEFAULT_DATA_URL = "https://data.alpaca.markets"
RawBars = dict[str, list[dict[str, object]]]


class RateLimited(SourceError):
    """Alpaca still answered HTTP 429 after alpaca-py's own retries."""


class AlpacaBarSource:
    """Adjusted daily bars for an explicit list of symbols from Alpaca market data."""

    name = "alpaca"

    def __init__(self, settings: AlpacaSettings, *, symbols: tuple[str, ...] = ()) -> None:
        if settings.api_key is None or settings.secret_key is None:
            raise SourceError(
                "the Alpaca source needs keys: set QUANTLAKE_ALPACA__API_KEY and "
                "QUANTLAKE_ALPACA__SECRET_KEY in the environment"
            )
        self.settings = settings
        self.symbols = symbols
        self._secrets = (
            settings.api_key.get_secret_value(),
            settings.secret_key.get_secret_value(),
        )
        self._client = StockHistoricalDataClient(
            api_key=self._secrets[0],
            secret_key=self._secrets[1],
            raw_data=True,
            url_override=settings.data_url,
        )

    def fetch(
        self, *, start: dt.date, end: dt.date, symbols: tuple[str, ...] | None = None
    ) -> SourceBatch:
        """Return adjusted daily bars in [start, end] for ``symbols``, else the configured ones."""
        if start > end:
            raise ValueError(f"start {start} is after end {end}")
        wanted = symbols or self.symbols
        if not wanted:
            raise SourceError(
                "the Alpaca source needs explicit symbols: set QUANTLAKE_SYMBOLS (e.g. "
                '\'["AAPL","MSFT"]\') or pass symbols='
            )
        request = StockBarsRequest(
            symbol_or_symbols=list(wanted),
            timeframe=TimeFrame.Day,
            start=dt.datetime.combine(start, dt.time(0), tzinfo=EXCHANGE_TZ),
            end=dt.datetime.combine(end, dt.time(23, 59, 59), tzinfo=EXCHANGE_TZ),
            adjustment=Adjustment.ALL,
            feed=DataFeed(self.settings.feed),
        )
        raw = self._get(request)
        bars = bars_frame(raw).filter(pl.col("session").is_between(start, end))
        return SourceBatch(source=self.name, bars=bars)

    def _get(self, request: StockBarsRequest) -> dict[str, list[dict[str, object]]]:
        """Call the API; turn its failures into SourceErrors that say what to do."""
        return call_alpaca(
            lambda: self._client.get_stock_bars(request),
            where=self.settings.data_url or DEFAULT_DATA_URL,
            secrets=self._secrets,
        )


class AlpacaMinuteSource:
    """One-minute bars of stocks and crypto through alpaca-py's historical-data clients.

    Symbols with a slash (``BTC/USD``) are crypto. Windows are fetched in chunks of ``chunk``;
    a chunk still rate-limited after alpaca-py's retries is retried after each of ``backoff``
    seconds (``sleep`` waits), so a 429 costs one chunk, not the whole window.
    """

    # Not "alpaca": meta.batches watermarks are per source, and daily bars own that name.
    name = "alpaca_minute"

    def __init__(
        self,
        settings: AlpacaSettings,
        *,
        symbols: tuple[str, ...] = (),
        crypto_symbols: tuple[str, ...] = (),
        adjustment: Literal["raw", "split", "dividend", "all"] = "raw",
        feed: Literal["iex", "sip"] | None = None,
        chunk: dt.timedelta = dt.timedelta(days=7),
        backoff: tuple[float, ...] = (5.0, 20.0, 60.0),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if chunk < dt.timedelta(minutes=1):
            raise ValueError(f"chunk must be at least one minute, not {chunk}")
        self.settings = settings
        self.symbols, self.crypto_symbols = symbols, crypto_symbols
        self.adjustment, self.feed = Adjustment(adjustment), DataFeed(feed or settings.feed)
        self.chunk, self.backoff, self._sleep = chunk, backoff, sleep
        key = settings.api_key.get_secret_value() if settings.api_key else None
        secret = settings.secret_key.get_secret_value() if settings.secret_key else None
        self._secrets = tuple(s for s in (key, secret) if s is not None)
        if not (key and secret):
            key = secret = None  # alpaca-py refuses half a key pair
        url = settings.data_url
        # Crypto bars need no keys (keys raise the rate limit); stock bars do.
        self._crypto = CryptoHistoricalDataClient(key, secret, raw_data=True, url_override=url)
        self._stocks = (
            StockHistoricalDataClient(key, secret, raw_data=True, url_override=url)
            if key and secret
            else None
        )

    def fetch(
        self, *, start: dt.datetime, end: dt.datetime, symbols: tuple[str, ...] | None = None
    ) -> MinuteBatch:
        """Return bars with ``start <= ts < end`` for ``symbols``, else the configured ones."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("start and end must be timezone-aware instants")
        wanted = symbols if symbols is not None else self.symbols + self.crypto_symbols
        if not wanted:
            raise SourceError(
                "the Alpaca minute source needs symbols: set QUANTLAKE_MINUTE__SYMBOLS and/or "
                "QUANTLAKE_MINUTE__CRYPTO_SYMBOLS"
            )
        stocks = [s for s in wanted if "/" not in s]
        crypto = [s for s in wanted if "/" in s]
        if stocks and self._stocks is None:
            raise SourceError(
                "stock minute bars need Alpaca keys: set QUANTLAKE_ALPACA__API_KEY and "
                "QUANTLAKE_ALPACA__SECRET_KEY (crypto bars need none)"
            )
        frames = []
        lo = start
        while lo < end:
            hi = min(lo + self.chunk, end)
            # Alpaca's end is inclusive: a bar at ``hi`` belongs to the next chunk.
            inside = (pl.col("ts") >= lo) & (pl.col("ts") < hi)
            if stocks:
                raw = self._stock_chunk(stocks, lo, hi)
                frames.append(minute_frame(raw, "us_equity").filter(inside))
            if crypto:
                raw = self._crypto_chunk(crypto, lo, hi)
                frames.append(minute_frame(raw, "crypto").filter(inside))
            lo = hi
        bars = pl.concat(frames) if frames else empty_minute_bars()
        return MinuteBatch(self.name, bars)

    def _stock_chunk(self, symbols: list[str], lo: dt.datetime, hi: dt.datetime) -> RawBars:
        request = StockBarsRequest(
            symbol_or_symbols=symbols,
            timeframe=TimeFrame.Minute,
            start=lo,
            end=hi,
            adjustment=self.adjustment,
            feed=self.feed,
        )
        assert self._stocks is not None
        return self._backed_off(lambda: self._stocks.get_stock_bars(request))  # type: ignore[union-attr]

    def _crypto_chunk(self, symbols: list[str], lo: dt.datetime, hi: dt.datetime) -> RawBars:
        request = CryptoBarsRequest(
            symbol_or_symbols=symbols, timeframe=TimeFrame.Minute, start=lo, end=hi
        )
        return self._backed_off(lambda: self._crypto.get_crypto_bars(request, feed=CryptoFeed.US))

    def _backed_off(self, fetch: Callable[[], Any]) -> RawBars:
        """Call, waiting ``backoff[i]`` seconds after the i-th rate-limited answer."""
        where = self.settings.data_url or DEFAULT_DATA_URL
        for delay in self.backoff:
            try:
                return call_alpaca(fetch, where=where, secrets=self._secrets)
            except RateLimited:
                self._sleep(delay)
        return call_alpaca(fetch, where=where, secrets=self._secrets)


def minute_frame(raw: RawBars, asset_class: str) -> pl.DataFrame:
    """Turn alpaca-py's raw bars ({symbol: [{"t", "o", ..., "vw", "n"}]}) into minute bars."""
    keys = ("t", "o", "h", "l", "c", "v", "vw", "n")
    columns: dict[str, list[Any]] = {"symbol": [], **{k: [] for k in keys}}
    for symbol, bars in raw.items():
        for bar in bars or ():
            columns["symbol"].append(symbol)
            for k in keys:
                columns[k].append(bar.get(k))
    if not columns["symbol"]:
        return empty_minute_bars()
    frame = pl.DataFrame(
        columns,
        schema={"symbol": pl.String, "t": pl.String}
        | {k: pl.Float64 for k in ("o", "h", "l", "c", "v", "vw")}
        | {"n": pl.Int64},
    )
    return frame.select(
        "symbol",
        ts=pl.col("t").str.to_datetime(time_zone="UTC", time_unit="us"),
        asset_class=pl.lit(asset_class),
        open="o",
        high="h",
        low="l",
        close="c",
        volume="v",
        vwap="vw",
        trade_count="n",
    ).cast(MINUTE_BAR_COLUMNS)


def call_alpaca(fetch: Callable[[], Any], *, where: str, secrets: tuple[str, ...]) -> RawBars:
    """Call alpaca-py; turn its failures into SourceErrors that say what to do (keys masked)."""
    try:
        return fetch()
    except APIError as error:
        status = getattr(error, "status_code", None)
        transient = status is None or status == 429 or status >= 500
        kind = RateLimited if status == 429 else SourceError
        raise kind(redact(_api_error_message(error), secrets), transient=transient) from error
    except ValueError as error:  # also requests' JSONDecodeError: a body that is not JSON
        raise SourceError(
            redact(f"Alpaca market data at {where} sent an unexpected response: {error}", secrets)
        ) from error
    except requests.RequestException as error:
        raise SourceError(
            redact(
                f"cannot reach Alpaca market data at {where} ({type(error).__name__}: "
                f"{error}): check the network and QUANTLAKE_ALPACA__DATA_URL, then rerun",
                secrets,
            ),
            transient=True,
        ) from error


def redact(message: str, secrets: tuple[str, ...]) -> str:
    """Mask the keys should an error ever echo them (short strings would mask plain words)."""
    for secret in secrets:
        if len(secret) >= 8:
            message = message.replace(secret, "***")
    return message


def bars_frame(raw: dict[str, list[dict[str, object]]]) -> pl.DataFrame:
    """Turn alpaca-py's raw bars ({symbol: [{"t", "o", "h", ...}]}) into BAR_COLUMNS."""
    rows = [
        {"symbol": symbol, **{k: bar.get(k) for k in ("t", "o", "h", "l", "c", "v")}}
        for symbol, bars in raw.items()
        for bar in bars or ()
    ]
    if not rows:
        return pl.DataFrame(schema=BAR_COLUMNS)
    frame = pl.DataFrame(
        rows,
        schema={"symbol": pl.String, "t": pl.String}
        | {k: pl.Float64 for k in ("o", "h", "l", "c", "v")},
    )
    stamp = pl.col("t").str.to_datetime(time_zone="UTC", time_unit="us")
    return frame.select(
        "symbol",
        session=stamp.dt.convert_time_zone(str(EXCHANGE_TZ)).dt.date(),
        open="o",
        high="h",
        low="l",
        close="c",
        volume="v",
    ).cast(BAR_COLUMNS)


def _api_error_message(error: APIError) -> str:
    """Describe an Alpaca API error by its status code, with the next step to take."""
    status = error.status_code
    try:
        detail = json.loads(str(error)).get("message", str(error))
    except (ValueError, AttributeError):
        detail = str(error)[:200]
    said = f"Alpaca market data answered HTTP {status}: {detail!r}"
    if status in (401, 403):
        return (
            f"{said}. The API keys were refused: check QUANTLAKE_ALPACA__API_KEY and "
            "QUANTLAKE_ALPACA__SECRET_KEY (a key pair with market-data access; feed 'sip' needs "
            "a paid plan, 'iex' does not)"
        )
    if status == 429:
        return f"{said}. Rate limit still hit after alpaca-py's retries: wait a minute and rerun"
    if status == 404:
        return f"{said}. No bars route there: check QUANTLAKE_ALPACA__DATA_URL"
    if status is not None and status >= 500:
        return f"{said}. Alpaca had a server error: rerun later (status.alpaca.markets)"
    return f"{said}. Check the symbols, dates and QUANTLAKE_ALPACA__FEED"
