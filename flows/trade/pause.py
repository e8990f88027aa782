"""A test-only pause point, so a kill test can stop a trade run at an exact step.

The promise "a killed run never sends an order twice" is about the moments between writing a
run's orders and sending them, and between sending them and recording the broker's answer; a
kill at a random instant rarely lands there. tests/integration/test_trade_kill.py starts
`quantlake trade` with ``QUANTLAKE_TEST_PAUSE_AT`` naming one of :data:`POINTS` and
``QUANTLAKE_TEST_PAUSE_FILE`` naming a file: when the run reaches that point it writes the
point's name to the file and waits there to be killed.

Inert by default: without ``QUANTLAKE_TEST_PAUSE_AT`` in the environment :func:`pause_point`
returns at once. It is read when the point is reached, never at import. Never set it outside a
test: a run that reaches the point waits (up to ``MAX_WAIT_S``) and then fails.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Literal

PAUSE_AT = "QUANTLAKE_TEST_PAUSE_AT"
PAUSE_FILE = "QUANTLAKE_TEST_PAUSE_FILE"
Point = Literal["orders_written", "orders_sent"]
POINTS: tuple[Point, ...] = ("orders_written", "orders_sent")
MAX_WAIT_S = 600.0


def pause_point(point: Point) -> None:
    """Wait here to be killed when the environment asks for ``point``; else return at once."""
    wanted = os.environ.get(PAUSE_AT)
    if wanted is not None and wanted not in POINTS:
        raise RuntimeError(f"{PAUSE_AT}={wanted!r} names no pause point; use one of {POINTS}")
    if wanted != point:
        return
    marker = os.environ.get(PAUSE_FILE)
    if not marker:
        raise RuntimeError(f"{PAUSE_AT} is set but {PAUSE_FILE} is not; set both, or neither")
    Path(marker).write_text(point)
    time.sleep(MAX_WAIT_S)
    raise RuntimeError(
        f"the trade run waited {MAX_WAIT_S:.0f} s at the test pause point {point!r} and nobody "
        f"killed it; unset {PAUSE_AT} outside the kill test"
    )
