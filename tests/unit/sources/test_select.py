"""build_source picks the source the settings name and configures it from them."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from flows.sources.alpaca import AlpacaBarSource
from flows.sources.files import FileSource
from flows.sources.select import build_source
from flows.sources.simulator import MarketSimulator
from quantlake.settings import Settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep QUANTLAKE_* variables of the machine out of these settings."""
    for name in list(os.environ):
        if name.startswith("QUANTLAKE_"):
            monkeypatch.delenv(name)


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def test_simulator_is_built_from_its_settings() -> None:
    chosen = build_source(settings(source="simulator", simulator={"n_symbols": 3, "seed": 5}))
    assert isinstance(chosen, MarketSimulator)
    assert chosen.symbols == ("SIM001", "SIM002", "SIM003")
    assert chosen.settings.seed == 5


def test_auto_without_keys_is_the_simulator() -> None:
    assert isinstance(build_source(settings()), MarketSimulator)


def test_file_source_reads_the_configured_path(tmp_path: Path) -> None:
    (tmp_path / "ABC.csv").write_text("date,open,high,low,close,volume\n2021-01-04,1,2,1,2,10\n")
    chosen = build_source(settings(source="file", file_path=tmp_path))
    assert isinstance(chosen, FileSource)
    bars = chosen.fetch(start=dt.date(2021, 1, 1), end=dt.date(2021, 1, 31)).bars
    assert bars.get_column("symbol").to_list() == ["ABC"]


def test_auto_with_keys_is_alpaca_with_the_configured_symbols() -> None:
    alpaca = {"api_key": "PKEXAMPLEKEY000000", "secret_key": "example-secret-000000"}
    chosen = build_source(settings(alpaca=alpaca, symbols=("AAPL", "MSFT")))
    assert isinstance(chosen, AlpacaBarSource)
    assert chosen.symbols == ("AAPL", "MSFT")
