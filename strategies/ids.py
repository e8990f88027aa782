"""Deterministic client order ids, so a repeated trade run never places the same order twice."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re

MAX_LENGTH = 48
_UNSAFE = re.compile(r"[^A-Za-z0-9.]")


def client_order_id(*, strategy: str, session: dt.date, symbol: str, intent: str) -> str:
    """Return ``ql-<strategy>-<yyyymmdd>-<symbol>-<intent>-<hash>`` (at most 48 characters).

    Only ``[A-Za-z0-9._-]`` appear. Readable parts have other characters replaced by ``_``
    and are shortened to fit; the 6-hex suffix is a SHA-256 of the exact, unmodified tuple,
    so ``BRK/B`` and ``BRK_B`` (or two long symbols sharing a prefix) still get distinct ids.
    """
    if type(session) is not dt.date:
        raise TypeError(f"session must be a datetime.date, got {type(session).__name__}")
    for name, value in (("strategy", strategy), ("symbol", symbol), ("intent", intent)):
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    payload = json.dumps([strategy, session.isoformat(), symbol, intent])
    digest = hashlib.sha256(payload.encode("utf-8")).hexdigest()[:6]
    head = f"ql-{_safe(strategy, 10)}-{session:%Y%m%d}"
    tail = f"{_safe(intent, 10)}-{digest}"
    room = MAX_LENGTH - len(head) - len(tail) - 2
    return f"{head}-{_safe(symbol, room)}-{tail}"


def _safe(part: str, limit: int) -> str:
    return _UNSAFE.sub("_", part)[:limit]
