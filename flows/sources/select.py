"""Choose the daily-bar source the settings ask for."""

from __future__ import annotations

from typing import assert_never

from flows.sources.base import BarSource, SourceError
from quantlake.settings import Settings


def build_source(settings: Settings) -> BarSource:
    """Return the source named by ``settings.resolved_source``, configured from the settings."""
    # Each source imports only when chosen: alpaca-py alone takes about a second to import.
    match settings.resolved_source:
        case "simulator":
            from flows.sources.simulator import MarketSimulator

            return MarketSimulator(settings.simulator, exchange=settings.exchange)
        case "file":
            from flows.sources.files import FileSource

            if settings.file_path is None:
                raise SourceError(
                    "the file source needs QUANTLAKE_FILE_PATH (a CSV/Parquet file or folder)"
                )
            return FileSource(settings.file_path)
        case "alpaca":
            from flows.sources.alpaca import AlpacaBarSource

            return AlpacaBarSource(settings.alpaca, symbols=settings.symbols)
        case unknown:
            assert_never(unknown)
