"""Frozen, validated configuration for quantlake, read from QUANTLAKE_* variables and .env.

Nested groups use a double underscore: ``QUANTLAKE_STRATEGY__TOP_K=10``. Secrets (Alpaca keys)
are ``SecretStr``: they never appear in reprs, logs, metadata or the lakehouse.

One module per group (sources, trading, model, freshness); this package gathers them so that
``from quantlake.settings import X`` reads as before.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from pydantic import field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from quantlake.settings.base import BrokerName, SourceName
from quantlake.settings.freshness import FreshnessSettings
from quantlake.settings.model import ModelSettings
from quantlake.settings.sources import (
    AlpacaSettings,
    MacroFrequency,
    MacroSettings,
    MinuteSettings,
    NewsSettings,
    SimulatorSettings,
    ValidationSettings,
)
from quantlake.settings.trading import (
    GateSettings,
    PaperBrokerSettings,
    RiskSettings,
    StrategySettings,
)

__all__ = [
    "AlpacaSettings",
    "BrokerName",
    "FreshnessSettings",
    "GateSettings",
    "MacroFrequency",
    "MacroSettings",
    "MinuteSettings",
    "ModelSettings",
    "NewsSettings",
    "PaperBrokerSettings",
    "RiskSettings",
    "Settings",
    "SimulatorSettings",
    "SourceName",
    "StrategySettings",
    "ValidationSettings",
    "load_settings",
]


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
    macro: MacroSettings = MacroSettings()
    news: NewsSettings = NewsSettings()
    minute: MinuteSettings | None = None
    validation: ValidationSettings = ValidationSettings()
    freshness: FreshnessSettings = FreshnessSettings()  # flows/quality/freshness.py

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
