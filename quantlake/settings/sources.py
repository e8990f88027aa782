"""Settings of the data sources: the simulator, Alpaca, minute bars, macro series and news."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from quantlake.settings.base import _Frozen, _zone


class SimulatorSettings(_Frozen):
    """The built-in seeded market simulator (the embedded default source)."""

    n_symbols: int = Field(20, ge=1, le=2000)
    start: dt.date = dt.date(2019, 1, 2)
    seed: int = 7
    # Expected splits per symbol per 2,520 sessions (~10 years); none below a $10 post-split price.
    split_rate: float = Field(0.15, ge=0)
    # Probability that any one bar is a bad tick (inconsistent OHLC, negative or missing price).
    bad_tick_rate: float = Field(0.0005, ge=0, le=0.1)
    # Short-term cross-sectional reversal: the share of yesterday's idiosyncratic return given
    # back today (0 = a market with no cross-sectional signal at all).
    reversal: float = Field(0.3, ge=0, lt=1)


class AlpacaSettings(_Frozen):
    """Alpaca keys and endpoints. Keys come only from the environment."""

    api_key: SecretStr | None = None
    secret_key: SecretStr | None = None
    paper: bool = True
    # Overrides for tests and proxies; None means alpaca-py's own defaults.
    data_url: str | None = None
    trading_url: str | None = None
    feed: Literal["iex", "sip"] = "iex"

    @property
    def has_keys(self) -> bool:
        return self.api_key is not None and self.secret_key is not None


class MinuteSettings(_Frozen):
    """Minute bars (flows/ingest/minute.py): off unless this group is set."""

    source: Literal["file", "alpaca"] = "file"
    # Folders of minute-bar files (flows/sources/minute_files.py), read recursively.
    directories: tuple[Path, ...] = ()
    # The zone of timestamps written without an offset; None refuses such files (no guessing).
    naive_timezone: str | None = None
    # Header-less files (as crypto exchanges publish them): their columns in order, e.g.
    # '["open_time","open","high","low","close","volume"]' (names as minute_file_layout maps
    # them; unknown names are dropped); None refuses such files.
    columns: tuple[str, ...] | None = None
    # The unit of integer (epoch) timestamps; None refuses them.
    epoch_unit: Literal["s", "ms", "us"] | None = None
    # Every file's asset class; None: crypto for pairs a folder's metadata file lists.
    asset_class: Literal["us_equity", "crypto"] | None = None
    symbols: tuple[str, ...] = ()
    crypto_symbols: tuple[str, ...] = ()
    # None: the Alpaca group's feed.
    feed: Literal["iex", "sip"] | None = None
    adjustment: Literal["raw", "split", "dividend", "all"] = "raw"
    # First instant loaded from Alpaca for a symbol with no minute bars yet (UTC).
    history_start: dt.datetime | None = None
    # Alpaca requests span at most this many days, so a rate limit costs one chunk, not all.
    chunk_days: int = Field(7, ge=1, le=366)
    # A one-minute close-to-close move larger than this fraction is flagged (a warning).
    max_jump: float = Field(0.10, gt=0)

    @model_validator(mode="after")
    def _check_source(self) -> MinuteSettings:
        if self.source == "file" and not self.directories:
            raise ValueError(
                "QUANTLAKE_MINUTE__SOURCE=file needs QUANTLAKE_MINUTE__DIRECTORIES (a JSON list "
                "of folders of minute-bar files)"
            )
        if self.source == "alpaca" and not (self.symbols or self.crypto_symbols):
            raise ValueError(
                "QUANTLAKE_MINUTE__SOURCE=alpaca needs QUANTLAKE_MINUTE__SYMBOLS or "
                "QUANTLAKE_MINUTE__CRYPTO_SYMBOLS"
            )
        if self.source == "alpaca" and self.history_start is None:
            raise ValueError(
                "QUANTLAKE_MINUTE__SOURCE=alpaca needs QUANTLAKE_MINUTE__HISTORY_START (the first "
                "UTC instant to load, e.g. 2024-01-02T00:00:00Z)"
            )
        if self.history_start is not None and self.history_start.tzinfo is None:
            raise ValueError("QUANTLAKE_MINUTE__HISTORY_START needs a zone, e.g. ...T00:00:00Z")
        return self


MacroFrequency = Literal["D", "W", "M", "Q", "A"]

# Publication lags in days after the END of the observation period (see MacroSettings).
MACRO_LAGS: dict[str, int] = {
    **dict.fromkeys(("DGS2", "DGS10", "DGS30", "T10Y2Y", "T10YIE", "T5YIE"), 1),
    **dict.fromkeys(("VIXCLS", "SP500", "BAMLC0A0CM", "BAMLH0A0HYM2", "RRPONTSYD"), 1),
    **dict.fromkeys(("DCOILWTICO", "DCOILBRENTEU", "DTWEXBGS"), 7),
    **{"ICSA": 5, "WALCL": 1, "MORTGAGE30US": 0, "GASREGW": 1, "STLFSI4": 6, "ANFCI": 5},
    **{"WM2NS": 30, "M2SL": 25, "BUSLOANS": 10, "FEDFUNDS": 1},
    **dict.fromkeys(("UNRATE", "U6RATE", "PAYEMS", "CIVPART", "AHETPI"), 7),
    **dict.fromkeys(("CPIAUCSL", "CPILFESL", "PPIFIS", "PCOPPUSDM", "PALLFNFINDEXM"), 15),
    **{"INDPRO": 17, "RSXFS": 16, "HOUST": 18, "HSN1F": 25, "DGORDER": 35, "CFNAI": 25},
    **{"PCEPILFE": 30, "JTSJOL": 40, "CSUSHPINSA": 60, "OILPRICE": 15},
    **{"UMCSENT": 0, "MICH": 0, "GDP": 30, "GDPC1": 30, "USREC": 365},
}


class MacroSettings(_Frozen):
    """Macro series in FRED's CSV format (flows/ingest/macro.py); off until a path is set.

    Each observation's knowledge time is its vintage's release date where the file states one
    (ALFRED ``realtime_start``), else the end of its observation period plus the series'
    publication lag in days; either at ``release_time`` (UTC) on that day, and never after the
    ingest itself. FRED dates an observation by the START of its period, so a monthly value dated
    2024-05-01 ends 2024-05-31; with CPI's 15-day lag it is known 2024-06-15 22:00 UTC.
    Frequencies are inferred from the spacing of a series' dates (``frequencies`` overrides).

    Default lags (``lags``; a series not listed gets ``default_lag_days``, 30):

    | series                                            | days | why                            |
    |---------------------------------------------------|------|--------------------------------|
    | DGS2 DGS10 DGS30 T10Y2Y T10YIE T5YIE              | 1    | H.15/Treasury: next bus. day   |
    | VIXCLS SP500 BAMLC0A0CM BAMLH0A0HYM2 RRPONTSYD    | 1    | daily market data, next day    |
    | DCOILWTICO DCOILBRENTEU DTWEXBGS                  | 7    | EIA spot prices, H.10: weekly  |
    | ICSA                                              | 5    | week ending Saturday, on Thu   |
    | WALCL, MORTGAGE30US, GASREGW                      | 1, 0, 1 | H.4.1 Thu; PMMS Thu; EIA Mon |
    | STLFSI4, ANFCI                                    | 6, 5 | weekly, released the next week |
    | WM2NS, M2SL, BUSLOANS, FEDFUNDS                   | 30, 25, 10, 1 | H.6; H.8; H.15        |
    | UNRATE U6RATE PAYEMS CIVPART AHETPI               | 7    | jobs report, first Friday      |
    | CPIAUCSL CPILFESL PPIFIS PCOPPUSDM PALLFNFINDEXM  | 15   | CPI/PPI mid-month; IMF prices  |
    | INDPRO, RSXFS, HOUST, HSN1F                       | 17, 16, 18, 25 | G.17; retail; housing |
    | DGORDER, CFNAI, PCEPILFE, JTSJOL                  | 35, 25, 30, 40 | M3; CFNAI; PCE; JOLTS |
    | CSUSHPINSA, OILPRICE                              | 60, 15 | Case-Shiller; discontinued   |
    | UMCSENT MICH                                      | 0    | Michigan, final at month end   |
    | GDP GDPC1                                         | 30   | advance estimate               |
    | USREC                                             | 365  | NBER dates recessions later    |
    | any other series (``default_lag_days``)           | 30   | a month after the period       |

    These are conservative approximations of the release calendars; a series whose vintages
    matter should be loaded from ALFRED files with ``realtime_start`` instead.
    """

    # A folder of FRED CSVs (read recursively; names starting with "_" or "." are catalogues
    # and skipped) and/or single files. Neither set: macro ingest is off.
    directory: Path | None = None
    files: tuple[Path, ...] = ()
    # Series to load (FRED ids); empty: every series found.
    series: tuple[str, ...] = ()
    # Days after the period end, per series; setting it (QUANTLAKE_MACRO__LAGS='{"X": 3}')
    # replaces the whole table above, so copy the rows you keep.
    lags: dict[str, int] = Field(default_factory=lambda: dict(MACRO_LAGS))
    default_lag_days: int = Field(30, ge=0)
    # Time of day (UTC) a release is assumed public: after H.15's 4:15 pm ET in winter and
    # summer, and after every 8:30 am ET release.
    release_time: dt.time = dt.time(22, 0)
    frequencies: dict[str, MacroFrequency] = Field(default_factory=dict)

    @field_validator("series", mode="after")
    @classmethod
    def _upper_series(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(s.upper() for s in value)

    @field_validator("lags", "frequencies", mode="after")
    @classmethod
    def _upper_keys(cls, value: dict[str, object]) -> dict[str, object]:
        return {k.upper(): v for k, v in value.items()}

    @field_validator("lags", mode="after")
    @classmethod
    def _non_negative(cls, value: dict[str, int]) -> dict[str, int]:
        if negative := sorted(k for k, days in value.items() if days < 0):
            raise ValueError(f"publication lags must be >= 0 days; negative for {negative}")
        return value

    @property
    def paths(self) -> tuple[Path, ...]:
        """Return every configured folder and file (empty: macro ingest is off)."""
        return ((self.directory,) if self.directory else ()) + self.files


class NewsSettings(_Frozen):
    """Headlines and social posts (flows/ingest/news.py); off until a path is set.

    A file's publisher is its name up to the first "_" (``cnbc_headlines.csv`` -> cnbc). Times
    without a zone are read in the publisher's zone from ``timezones``: CNBC and Reuters write
    US Eastern (CNBC says "ET"; these Reuters items are from its US site, dated in New York),
    The Guardian writes London dates; any other publisher's naive times are read in
    ``default_timezone``. A date without a time is known by the end of that local day.
    """

    directory: Path | None = None
    files: tuple[Path, ...] = ()
    # Files that are not valid UTF-8 are decoded with this (CNBC/Guardian/Reuters exports are
    # Windows-1252); bytes it cannot decode become U+FFFD and are reported, never a crash.
    encoding: str = "cp1252"
    timezones: dict[str, str] = Field(
        default_factory=lambda: {
            "cnbc": "America/New_York",
            "reuters": "America/New_York",
            "guardian": "Europe/London",
        }
    )
    default_timezone: str = "UTC"
    # Tag headlines with symbols whose names appear in them as whole words, e.g.
    # {"TSLA": ["Tesla"], "AAPL": ["Apple", "iPhone"]}; empty: only the inputs' own tags.
    symbol_aliases: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    @field_validator("encoding", mode="after")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        import codecs

        try:
            return codecs.lookup(value).name
        except LookupError as exc:
            raise ValueError(f"unknown encoding {value!r}: use a Python codec name") from exc

    @field_validator("default_timezone", mode="after")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        _zone(value)
        return value

    @field_validator("timezones", mode="after")
    @classmethod
    def _known_zones(cls, value: dict[str, str]) -> dict[str, str]:
        for zone in value.values():
            _zone(zone)
        return {k.lower(): v for k, v in value.items()}

    @property
    def paths(self) -> tuple[Path, ...]:
        """Return every configured folder and file (empty: news ingest is off)."""
        return ((self.directory,) if self.directory else ()) + self.files

    def timezone(self, publisher: str) -> str:
        """Return the zone naive times of ``publisher`` are read in."""
        return self.timezones.get(publisher.lower(), self.default_timezone)


AssetClassName = Literal["us_equity", "crypto"]

# What a symbol of each asset class looks like: US tickers with a class suffix (BRK.B, BF-B),
# crypto pairs as Alpaca writes them (BTC/USD). Anything else (quotes, slashes in a ticker,
# path parts, 300 characters, nothing) is not a symbol and is quarantined.
SYMBOL_PATTERNS: dict[str, str] = {
    "us_equity": r"^[A-Z][A-Z0-9.\-]{0,9}$",
    "crypto": r"^[A-Z0-9]{2,10}/[A-Z0-9]{2,10}$",
}


class ValidationSettings(_Frozen):
    """Data-contract thresholds the daily and minute suites take as parameters of a run."""

    # Per asset class, the regular expression a symbol must match (all of it: anchor it).
    # Setting it (QUANTLAKE_VALIDATION__SYMBOL_PATTERNS='{"us_equity": "..."}') replaces the
    # whole table, so copy the classes you keep.
    symbol_patterns: dict[AssetClassName, str] = Field(
        default_factory=lambda: dict(SYMBOL_PATTERNS)  # type: ignore[arg-type]
    )
    # The asset class of daily bars (the daily sources deliver US equities).
    daily_asset_class: AssetClassName = "us_equity"
    # This many or more consecutive bars of a symbol with zero volume and the same open, high,
    # low and close as the bar before are a placeholder (pre-listing or post-delisting history),
    # not trading: they are quarantined as ``stale_run``.
    stale_run_bars: int = Field(5, ge=2)

    @field_validator("symbol_patterns", mode="after")
    @classmethod
    def _compiles(cls, value: dict[str, str]) -> dict[str, str]:
        import re

        for asset_class in ("us_equity", "crypto"):
            if asset_class not in value:
                raise ValueError(f"symbol_patterns lacks {asset_class!r}; set a pattern for it")
        for asset_class, pattern in value.items():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(
                    f"symbol pattern for {asset_class} does not compile: {exc}"
                ) from exc
        return value

    def symbol_pattern(self, asset_class: AssetClassName) -> str:
        """Return the pattern symbols of ``asset_class`` must match."""
        return self.symbol_patterns[asset_class]
