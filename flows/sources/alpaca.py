"""Daily bars from Alpaca's market-data API through alpaca-py (split- and dividend-adjusted).

alpaca-py follows ``next_page_token`` itself (``RESTClient._get_marketdata`` loops until the
token is null) and retries HTTP 429/504 three times before raising ``APIError``.
"""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import polars as pl
import requests
from alpaca.common.exceptions import APIError
from alpaca.data.enums import Adjustment, DataFeed
from alpaca.data.historical import StockHistoricalDataClient
from alpaca.data.requests import StockBarsRequest
from alpaca.data.timeframe import TimeFrame

from flows.sources.base import BAR_COLUMNS, SourceBatch, SourceError
from quantlake.settings import AlpacaSettings

# Alpaca stamps a daily bar at midnight New York time (04:00 or 05:00 UTC).
EXCHANGE_TZ = ZoneInfo("America/New_York")


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
        where = self.settings.data_url or "https://data.alpaca.markets"
        try:
            return self._client.get_stock_bars(request)  # type: ignore[return-value]
        except APIError as error:
            status = getattr(error, "status_code", None)
            transient = status is None or status == 429 or status >= 500
            raise SourceError(
                self._redact(_api_error_message(error)), transient=transient
            ) from error
        except ValueError as error:  # also requests' JSONDecodeError: a body that is not JSON
            raise SourceError(
                self._redact(f"Alpaca market data at {where} sent an unexpected response: {error}")
            ) from error
        except requests.RequestException as error:
            raise SourceError(
                self._redact(
                    f"cannot reach Alpaca market data at {where} ({type(error).__name__}: "
                    f"{error}): check the network and QUANTLAKE_ALPACA__DATA_URL, then rerun"
                ),
                transient=True,
            ) from error

    def _redact(self, message: str) -> str:
        """Mask the keys should an error ever echo them (short strings would mask plain words)."""
        for secret in self._secrets:
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
