"""Shared pieces of every settings group: frozen models, the names of sources and brokers."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

SourceName = Literal["simulator", "file", "alpaca"]


BrokerName = Literal["paper", "alpaca"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _zone(name: str) -> None:
    """Raise unless ``name`` is a time zone this machine knows."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}: use an IANA name, e.g. UTC") from exc
