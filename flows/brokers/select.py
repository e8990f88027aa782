"""Choose the broker the settings name."""

from __future__ import annotations

from flows.brokers.base import Broker
from flows.brokers.paper import PaperBroker
from quantlake.settings import Settings
from warehouse.lake import Lakehouse


def build_broker(settings: Settings, *, lake: Lakehouse) -> Broker:
    """Return the paper broker (books in ``lake``) or Alpaca, as ``settings.broker`` says."""
    if settings.broker == "paper":
        return PaperBroker(lake, settings=settings.paper, exchange=settings.exchange)
    if settings.broker == "alpaca":
        # Imported here: alpaca-py takes over a second to import and the paper path never needs it.
        from flows.brokers.alpaca import AlpacaBroker

        return AlpacaBroker(settings.alpaca)
    raise ValueError(f"unknown broker {settings.broker!r}: use 'paper' or 'alpaca'")
