"""Choose the minute-bar source the settings ask for."""

from __future__ import annotations

import datetime as dt
from typing import assert_never

from flows.sources.base import SourceError
from flows.sources.minute_bars import MinuteSource
from quantlake.settings import MinuteSettings, Settings


def minute_settings(settings: Settings) -> MinuteSettings:
    """Return the minute group, or say how to turn minute ingest on."""
    if settings.minute is None:
        raise SourceError(
            "minute ingest is off: set QUANTLAKE_MINUTE__SOURCE (file or alpaca) and, for files, "
            "QUANTLAKE_MINUTE__DIRECTORIES"
        )
    return settings.minute


def build_minute_source(settings: Settings) -> MinuteSource:
    """Return the minute source named by ``settings.minute.source``."""
    minute = minute_settings(settings)
    match minute.source:
        case "file":
            from flows.sources.minute_file_layout import MinuteFileLayout
            from flows.sources.minute_files import MinuteFileSource

            layout = MinuteFileLayout(
                columns=minute.columns,
                naive_timezone=minute.naive_timezone,
                epoch_unit=minute.epoch_unit,
                asset_class=minute.asset_class,
            )
            return MinuteFileSource(minute.directories, layout=layout)
        case "alpaca":
            from flows.sources.alpaca import AlpacaMinuteSource

            return AlpacaMinuteSource(
                settings.alpaca,
                symbols=minute.symbols,
                crypto_symbols=minute.crypto_symbols,
                adjustment=minute.adjustment,
                feed=minute.feed,
                chunk=dt.timedelta(days=minute.chunk_days),
            )
        case unknown:
            assert_never(unknown)
