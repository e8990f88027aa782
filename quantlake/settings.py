"""Frozen, validated configuration for quantlake, read from QUANTLAKE_* variables and .env.

Nested groups use a double underscore: ``QUANTLAKE_STRATEGY__TOP_K=10``. Secrets (Alpaca keys)
are ``SecretStr``: they never appear in reprs, logs, metadata or the lakehouse.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SourceName = Literal["simulator", "file", "alpaca"]
BrokerName = Literal["paper", "alpaca"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SimulatorSettings(_Frozen):
    """The built-in seeded market simulator (the embedded default source)."""

    n_symbols: int = Field(20, ge=1, le=2000)
    start: dt.date = dt.date(2019, 1, 2)
    seed: int = 7
    # Expected splits per symbol per 2,520 sessions (~10 years); none below a $10 post-split price.
    split_rate: float = Field(0.15, ge=0)
    # Probability that any one bar is a bad tick (inconsistent OHLC, negative or missing price).
    bad_tick_rate: float = Field(0.0005, ge=0, le=0.1)


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


class StrategySettings(_Frozen):
    """Portfolio construction for the daily rebalance."""

    name: str = Field("topk", pattern=r"^[a-z0-9_]{1,16}$")
    top_k: int = Field(5, ge=1)
    weighting: Literal["equal", "inverse_vol"] = "inverse_vol"
    max_position_weight: float = Field(0.25, gt=0, le=1)
    gross_exposure: float = Field(0.95, gt=0, le=1)
    min_notional: float = Field(100.0, ge=0)
    fractional_shares: bool = False


class RiskSettings(_Frozen):
    """Pre-trade limits and the automatic trading-state transitions (strategies/limits.py)."""

    max_position_weight: float = Field(0.30, gt=0, le=1)
    max_gross_exposure: float = Field(1.0, gt=0)
    max_net_exposure: float = Field(1.0, ge=0)
    max_order_notional: float = Field(500_000.0, gt=0)
    max_orders_per_run: int = Field(50, ge=0)
    restricted_symbols: tuple[str, ...] = ()
    # Largest move of the order's reference price from the previous validated close.
    price_collar_bps: float = Field(2_500.0, gt=0)
    max_drawdown: float = Field(0.20, gt=0, lt=1)
    max_daily_loss: float = Field(0.05, gt=0, lt=1)


class PaperBrokerSettings(_Frozen):
    """The in-process paper broker."""

    initial_cash: float = Field(1_000_000.0, gt=0)
    commission_bps: float = Field(1.0, ge=0)
    slippage_bps: float = Field(5.0, ge=0)


class ModelSettings(_Frozen):
    """Walk-forward training of the cross-sectional return model."""

    horizon: int = Field(5, ge=1, le=60)
    train_sessions: int = Field(504, ge=60)
    test_sessions: int = Field(63, ge=5)
    alpha: float = Field(1.0, gt=0)
    seed: int = 0


class GateSettings(_Frozen):
    """When the trade flow refuses to open new risk."""

    # The latest curated session may lag the latest completed exchange session by this many.
    max_data_age_sessions: int = Field(1, ge=0)
    # A batch whose quarantined share exceeds this fails validation.
    max_quarantine_fraction: float = Field(0.05, ge=0, le=1)


class Settings(BaseSettings):
    """All of quantlake's configuration."""

    model_config = SettingsConfigDict(
        env_prefix="QUANTLAKE_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
        frozen=True,
    )

    data_dir: Path = Path("data")
    # Where the DuckLake catalog lives: "sqlite" keeps it in data_dir (several processes may
    # share it); a "postgres:..." string points at a PostgreSQL catalog.
    catalog: str = "sqlite"
    source: SourceName | Literal["auto"] = "auto"
    file_path: Path | None = None
    symbols: tuple[str, ...] = ()
    # First session the ingest flow loads when a source has no history in the lakehouse yet.
    history_start: dt.date = dt.date(2019, 1, 2)
    exchange: str = "XNYS"
    # Exchange-local times of the scheduled runs: ingest after the close, trade after the open.
    # Schedules run on exchange sessions only (holidays excluded from the calendar).
    ingest_at: dt.time = dt.time(17, 30)
    trade_at: dt.time = dt.time(9, 45)
    broker: BrokerName = "paper"

    simulator: SimulatorSettings = SimulatorSettings()
    alpaca: AlpacaSettings = AlpacaSettings()
    strategy: StrategySettings = StrategySettings()
    paper: PaperBrokerSettings = PaperBrokerSettings()
    risk: RiskSettings = RiskSettings()
    model: ModelSettings = ModelSettings()
    gates: GateSettings = GateSettings()

    @field_validator("data_dir", mode="after")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        # One spelling for every process: the lakehouse catalog stores its data path.
        return value.expanduser().resolve()

    @model_validator(mode="after")
    def _check_source(self) -> Settings:
        if self.source == "file" and self.file_path is None:
            raise ValueError(
                "QUANTLAKE_SOURCE=file needs QUANTLAKE_FILE_PATH (a CSV/Parquet file or folder)"
            )
        if self.source == "alpaca" and not self.alpaca.has_keys:
            raise ValueError(
                "QUANTLAKE_SOURCE=alpaca needs QUANTLAKE_ALPACA__API_KEY and "
                "QUANTLAKE_ALPACA__SECRET_KEY in the environment"
            )
        if self.broker == "alpaca" and not self.alpaca.has_keys:
            raise ValueError(
                "QUANTLAKE_BROKER=alpaca needs QUANTLAKE_ALPACA__API_KEY and "
                "QUANTLAKE_ALPACA__SECRET_KEY in the environment"
            )
        return self

    @property
    def resolved_source(self) -> SourceName:
        """Return the source to ingest from; ``auto`` means Alpaca when keys are set."""
        if self.source != "auto":
            return self.source
        return "alpaca" if self.alpaca.has_keys else "simulator"

    @property
    def lake_dir(self) -> Path:
        return self.data_dir / "lake"

    @property
    def docs_dir(self) -> Path:
        # Great Expectations keeps its Data Docs site inside its file context.
        return self.gx_dir / "data_docs"

    @property
    def gx_dir(self) -> Path:
        return self.data_dir / "gx"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def dagster_home(self) -> Path:
        return self.data_dir / "dagster"

    @property
    def prefect_home(self) -> Path:
        return self.data_dir / "prefect"


def load_settings(**overrides: object) -> Settings:
    """Read settings from the environment, with explicit keyword overrides on top."""
    return Settings(**overrides)  # type: ignore[arg-type]
