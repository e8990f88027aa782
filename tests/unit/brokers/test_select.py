"""build_broker picks the implementation the settings name."""

from __future__ import annotations

from pydantic import SecretStr

from flows.brokers.alpaca import AlpacaBroker
from flows.brokers.paper import PaperBroker
from flows.brokers.select import build_broker
from quantlake.settings import AlpacaSettings, PaperBrokerSettings, Settings
from warehouse.lake import Lakehouse


def test_paper_is_built_on_the_lakehouse_with_its_settings(lake: Lakehouse) -> None:
    settings = Settings(broker="paper", paper=PaperBrokerSettings(initial_cash=1234.0))
    broker = build_broker(settings, lake=lake)
    assert isinstance(broker, PaperBroker)
    assert broker.account().cash == 1234.0


def test_alpaca_is_built_from_its_settings(lake: Lakehouse) -> None:
    keys = AlpacaSettings(
        api_key=SecretStr("k"), secret_key=SecretStr("s"), trading_url="http://127.0.0.1:9"
    )
    broker = build_broker(Settings(broker="alpaca", alpaca=keys), lake=lake)
    assert isinstance(broker, AlpacaBroker)
    assert broker.name == "alpaca"
    assert "http://127.0.0.1:9" in repr(broker)
