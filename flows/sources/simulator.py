"""The built-in seeded market simulator: realistic, unadjusted daily bars on the exchange calendar.

Log returns are a market factor + a sector factor + an idiosyncratic term, each with GARCH(1,1)
volatility and Student-t shocks. Splits happen at random sessions (bars stay unadjusted and the
split is reported); a few bars are bad ticks that break the data contract on purpose.

Every random array is drawn per session, row-major, from its own stream spawned from the seed,
and the path is built causally from ``settings.start``: the bar for (symbol, session) is the
same whatever window is fetched.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from flows.sources.base import BAR_COLUMNS, SPLIT_COLUMNS, SourceBatch, SourceError
from quantlake.settings import SimulatorSettings
from warehouse import calendar

# split_rate is the expected number of splits per symbol per this many sessions (ten years).
SPLIT_RATE_SESSIONS = 2520
SPLIT_RATIOS = np.array([2.0, 3.0, 4.0, 5.0])
SPLIT_WEIGHTS = np.array([0.6, 0.2, 0.15, 0.05])
# A split never takes the unadjusted price below this.
MIN_POST_SPLIT_PRICE = 10.0
N_SECTORS = 11
T_DOF = 6.0
MARKET_VOL = 0.16
SECTOR_VOL = 0.10
# GARCH(1,1) alpha and beta of the market, sector and idiosyncratic terms.
GARCH_ALPHA = (0.09, 0.06, 0.05)
GARCH_BETA = (0.89, 0.92, 0.93)
BAD_TICK_KINDS = ("high_below_low", "negative_close", "null_close", "zero_open", "negative_volume")
_STREAMS = ("params", "shocks", "intraday", "volume", "split_draw", "split_ratio", "bad", "kind")


class MarketSimulator:
    """A deterministic synthetic market of ``n_symbols`` tickers SIM001, SIM002, ..."""

    name = "simulator"

    def __init__(self, settings: SimulatorSettings, *, exchange: str = "XNYS") -> None:
        self.settings = settings
        self.exchange = exchange
        width = max(3, len(str(settings.n_symbols)))
        self.symbols = tuple(f"SIM{i:0{width}d}" for i in range(1, settings.n_symbols + 1))
        self._streams = dict(
            zip(_STREAMS, np.random.SeedSequence(settings.seed).spawn(len(_STREAMS)), strict=True)
        )
        self._params = _symbol_params(self._rng("params"), settings.n_symbols)
        self._path: dict[str, np.ndarray] = {}
        self._days = np.array([], dtype="datetime64[D]")

    def fetch(
        self, *, start: dt.date, end: dt.date, symbols: tuple[str, ...] | None = None
    ) -> SourceBatch:
        """Return the simulated bars and splits for sessions in [start, end]."""
        if start > end:
            raise ValueError(f"start {start} is after end {end}")
        columns = self._symbol_indices(symbols)
        self._extend_to(end)
        first = np.searchsorted(self._days, np.datetime64(start), side="left")
        last = np.searchsorted(self._days, np.datetime64(end), side="right")
        rows = np.arange(first, last)
        if len(rows) == 0:
            return SourceBatch(source=self.name, bars=pl.DataFrame(schema=BAR_COLUMNS))
        return SourceBatch(
            source=self.name, bars=self._bars(rows, columns), splits=self._splits(rows, columns)
        )

    def _rng(self, stream: str) -> np.random.Generator:
        return np.random.default_rng(self._streams[stream])

    def _symbol_indices(self, symbols: tuple[str, ...] | None) -> np.ndarray:
        if symbols is None:
            return np.arange(len(self.symbols))
        position = {s: i for i, s in enumerate(self.symbols)}
        unknown = [s for s in symbols if s not in position]
        if unknown:
            raise SourceError(
                f"the simulator has no symbols {unknown}: it simulates {self.symbols[0]}.."
                f"{self.symbols[-1]} (QUANTLAKE_SIMULATOR__N_SYMBOLS); unset QUANTLAKE_SYMBOLS "
                "or choose from those"
            )
        return np.array([position[s] for s in symbols], dtype=np.int64)

    def _extend_to(self, end: dt.date) -> None:
        """Generate the path from settings.start to ``end`` unless a longer one is cached."""
        if len(self._days) and self._days[-1] >= np.datetime64(end):
            return
        sessions = calendar.sessions(self.settings.start, end, exchange=self.exchange)
        self._days = np.array(sessions, dtype="datetime64[D]")
        if not sessions:
            return
        self._path = simulate_path(
            n_sessions=len(sessions),
            params=self._params,
            rngs={s: self._rng(s) for s in _STREAMS if s != "params"},
            split_rate=self.settings.split_rate,
            bad_tick_rate=self.settings.bad_tick_rate,
            reversal=self.settings.reversal,
        )

    def _bars(self, rows: np.ndarray, columns: np.ndarray) -> pl.DataFrame:
        t = np.repeat(rows, len(columns))
        i = np.tile(columns, len(rows))
        frame = pl.DataFrame(
            {
                "symbol": pl.Series(self.symbols, dtype=pl.String).gather(i),
                "session": pl.Series(self._days, dtype=pl.Date).gather(t),
                **{c: self._path[c][t, i] for c in ("open", "high", "low", "close", "volume")},
            }
        )
        return frame.with_columns(pl.col("close").fill_nan(None)).cast(BAR_COLUMNS)

    def _splits(self, rows: np.ndarray, columns: np.ndarray) -> pl.DataFrame:
        ratio = self._path["split_ratio"][rows][:, columns]
        t, j = np.nonzero(ratio > 1.0)
        return pl.DataFrame(
            {
                "symbol": pl.Series(self.symbols, dtype=pl.String).gather(columns[j]),
                "ex_session": pl.Series(self._days, dtype=pl.Date).gather(rows[t]),
                "split_ratio": ratio[t, j],
            }
        ).cast(SPLIT_COLUMNS)


def _symbol_params(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Draw each symbol's sector, loadings, drift, idiosyncratic vol, first price and volume."""
    return {
        "sector": rng.integers(0, N_SECTORS, n),
        "beta": rng.uniform(0.6, 1.4, n),
        "gamma": rng.uniform(0.5, 1.2, n),
        "drift": rng.normal(0.06, 0.04, n) / 252,
        "idio_vol": rng.uniform(0.12, 0.35, n),
        "price0": np.clip(np.exp(rng.normal(np.log(60.0), 0.8, n)), 12.0, 600.0),
        "volume0": np.exp(rng.normal(np.log(2e6), 1.0, n)),
    }


def simulate_path(
    *,
    n_sessions: int,
    params: dict[str, np.ndarray],
    rngs: dict[str, np.random.Generator],
    split_rate: float,
    bad_tick_rate: float,
    reversal: float = 0.0,
) -> dict[str, np.ndarray]:
    """Return unadjusted OHLCV arrays of shape (sessions, symbols) plus the split ratios.

    ``reversal`` is a short-term cross-sectional reversal: each session gives back that share
    of the previous session's idiosyncratic return (its cross-sectional deviation), a
    documented equity anomaly that gives the demo model something real to learn. It depends
    only on the past, so the path stays prefix-stable.
    """
    n = len(params["beta"])
    ret, sigma = _log_returns(n_sessions, params, rngs["shocks"])
    if reversal:
        deviation = ret - ret.mean(axis=1, keepdims=True)
        ret = ret.copy()
        ret[1:] -= reversal * deviation[:-1]
    log_close = np.log(params["price0"]) + np.cumsum(ret, axis=0)
    prev_close = np.vstack([np.log(params["price0"])[None, :], log_close[:-1]])
    z = rngs["intraday"].standard_normal((n_sessions, n, 3))
    log_open = prev_close + 0.35 * ret + 0.25 * sigma * z[:, :, 0]
    log_high = np.maximum(log_open, log_close) + 0.5 * sigma * np.abs(z[:, :, 1])
    log_low = np.minimum(log_open, log_close) - 0.5 * sigma * np.abs(z[:, :, 2])
    surprise = np.abs(ret - params["drift"]) / sigma
    noise = rngs["volume"].standard_normal((n_sessions, n))
    shares = params["volume0"] * np.exp(0.6 * (surprise - 0.8) + 0.35 * noise)
    ratio = _split_ratios(np.exp(prev_close), rngs, split_rate=split_rate)
    factor = np.cumprod(ratio, axis=0)
    path = {
        name: np.maximum(np.round(np.exp(log) / factor, 2), 0.01)
        for name, log in (("open", log_open), ("high", log_high), ("low", log_low))
    }
    path["close"] = np.maximum(np.round(np.exp(log_close) / factor, 2), 0.01)
    path["volume"] = np.maximum(np.round(shares * factor), 100.0)
    path["split_ratio"] = ratio
    _inject_bad_ticks(path, rngs["bad"], rngs["kind"], rate=bad_tick_rate)
    return path


def _log_returns(
    n_sessions: int, params: dict[str, np.ndarray], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Return daily log returns and their conditional vol, both (sessions, symbols)."""
    n = len(params["beta"])
    k = 1 + N_SECTORS + n
    shocks = rng.standard_t(T_DOF, (n_sessions, k)) * np.sqrt((T_DOF - 2) / T_DOF)
    annual = np.concatenate([[MARKET_VOL], np.full(N_SECTORS, SECTOR_VOL), params["idio_vol"]])
    counts = [1, N_SECTORS, n]
    alpha, beta = np.repeat(GARCH_ALPHA, counts), np.repeat(GARCH_BETA, counts)
    eps, var = _garch(shocks, unconditional=annual**2 / 252, alpha=alpha, beta=beta)
    sector = 1 + params["sector"]
    load = np.stack([params["beta"], params["gamma"], np.ones(n)])
    ret = load[0] * eps[:, :1] + load[1] * eps[:, sector] + eps[:, 1 + N_SECTORS :]
    total_var = load[0] ** 2 * var[:, :1] + load[1] ** 2 * var[:, sector] + var[:, 1 + N_SECTORS :]
    return params["drift"] - 0.5 * total_var + ret, np.sqrt(total_var)


def _garch(
    shocks: np.ndarray, *, unconditional: np.ndarray, alpha: np.ndarray, beta: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Run GARCH(1,1) per column over the unit-variance shocks: return innovations and variances."""
    omega = unconditional * (1 - alpha - beta)
    eps = np.empty_like(shocks)
    var = np.empty_like(shocks)
    h = unconditional.copy()
    for t in range(shocks.shape[0]):
        var[t] = h
        eps[t] = np.sqrt(h) * shocks[t]
        h = omega + alpha * eps[t] ** 2 + beta * h
    return eps, var


def _split_ratios(
    prev_close: np.ndarray, rngs: dict[str, np.random.Generator], *, split_rate: float
) -> np.ndarray:
    """Return new-shares-per-old-share at each (session, symbol): 1.0 where there is no split."""
    shape = prev_close.shape
    draw = rngs["split_draw"].random(shape)
    pick = rngs["split_ratio"].choice(SPLIT_RATIOS, size=shape, p=SPLIT_WEIGHTS)
    ratio = np.ones(shape)
    factor = np.ones(shape[1])
    for t in range(1, shape[0]):
        unadjusted = prev_close[t] / factor
        split = (draw[t] < split_rate / SPLIT_RATE_SESSIONS) & (
            unadjusted / pick[t] >= MIN_POST_SPLIT_PRICE
        )
        ratio[t] = np.where(split, pick[t], 1.0)
        factor = factor * ratio[t]
    return ratio


def _inject_bad_ticks(
    path: dict[str, np.ndarray],
    draw: np.random.Generator,
    kind: np.random.Generator,
    *,
    rate: float,
) -> None:
    """Corrupt a ``rate`` share of bars, each in one way that breaks the data contract."""
    shape = path["close"].shape
    bad = draw.random(shape) < rate
    kinds = kind.integers(0, len(BAD_TICK_KINDS), shape)
    for code, name in enumerate(BAD_TICK_KINDS):
        hit = bad & (kinds == code)
        if name == "high_below_low":
            path["high"][hit] = path["low"][hit] * 0.98 - 0.01
        elif name == "negative_close":
            path["close"][hit] = -path["close"][hit]
        elif name == "null_close":
            path["close"][hit] = np.nan
        elif name == "zero_open":
            path["open"][hit] = 0.0
        else:
            path["volume"][hit] = -path["volume"][hit]
