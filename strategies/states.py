"""Trading states and the pure rule that moves between them.

ACTIVE trades normally. REDUCING lets through only orders that shrink a position (sells of
longs, buys covering shorts, never past flat). HALTED lets through no new order at all.

Conditions, checked on every run, all reported (in this order):

=============  ==============================================  =========  =======
trigger        condition                                       state      sticky
=============  ==============================================  =========  =======
manual_halt    the kill switch is on                           HALTED     yes
drawdown       equity below its peak by more than max_drawdown  HALTED     yes
daily_loss     equity below the previous close by more than     REDUCING   no
               max_daily_loss
data           data-quality gate failed or data is stale        REDUCING   no
model          champion model missing or stale                  REDUCING   no
=============  ==============================================  =========  =======

HALTED is sticky whatever caused it: once halted, trading stays halted, even when the cause
has gone away, until someone resumes it by hand (``manual_resume``). Re-entering the market by
itself after a drawdown halt would re-buy into the move that caused it, with nobody having
looked. A resume resets the equity peak to the current equity (the operator accepts the loss;
otherwise the same drawdown would halt again at once) and is refused while the kill switch is
still on or equity is not positive. A daily loss only reduces: exits stay possible, and it
clears by itself the next day; a loss that keeps growing meets the drawdown halt.
REDUCING is not sticky: it returns to ACTIVE as soon as no condition holds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from strategies.limits import RiskLimits

Trigger = Literal[
    "ok", "resumed", "resume_refused", "manual_halt", "drawdown", "sticky_halt",
    "daily_loss", "data", "model",
]  # fmt: skip


class State(StrEnum):
    """What a trade run may do."""

    ACTIVE = "active"
    REDUCING = "reducing"
    HALTED = "halted"


@dataclass(frozen=True)
class StateDecision:
    """The state for this run, why, and the equity peak to keep for the next run.

    ``triggers[i]`` names the condition that ``reasons[i]`` explains.
    """

    state: State
    reasons: tuple[str, ...]
    triggers: tuple[Trigger, ...]
    equity_peak: float


def next_state(
    *,
    current: State,
    equity_peak: float,
    equity: float,
    equity_prev_close: float,
    data_ok: bool,
    data_reason: str | None,
    model_ok: bool,
    model_reason: str | None,
    manual_halt: bool,
    manual_reason: str | None,
    limits: RiskLimits,
    manual_resume: bool = False,
) -> StateDecision:
    """Return the trading state for this run from the previous state and today's conditions.

    ``manual_resume`` must be true only for a resume recorded *after* trading became HALTED;
    the caller persists the returned ``equity_peak`` (never below equity, reset on a resume).
    """
    current = State(current)  # a misspelt state must fail, not be taken for ACTIVE
    _check_inputs(equity_peak, equity, equity_prev_close)
    _require_reason("data_ok", data_ok, data_reason)
    _require_reason("model_ok", model_ok, model_reason)
    _require_reason("manual_halt", not manual_halt, manual_reason)
    found: list[tuple[Trigger, str]] = []
    peak = float(max(equity_peak, equity))
    resumed = current is State.HALTED and manual_resume
    if resumed:
        resumed, note = _resume(peak, equity, manual_halt)
        found.append(("resumed" if resumed else "resume_refused", note))
        peak = float(equity) if resumed else peak
    halts = _halts(peak, equity, manual_halt, manual_reason, limits)
    reductions = _reductions(
        equity, equity_prev_close, data_ok, data_reason, model_ok, model_reason, limits
    )
    if not halts and current is State.HALTED and not resumed:
        halts = [("sticky_halt", _STICKY)]
    found += halts + reductions
    if halts:
        state = State.HALTED
    elif reductions:
        state = State.REDUCING
    else:
        state = State.ACTIVE
        found.append(("ok", _all_clear(peak, equity, equity_prev_close, limits)))
    return StateDecision(
        state=state,
        reasons=tuple(text for _, text in found),
        triggers=tuple(trigger for trigger, _ in found),
        equity_peak=peak,
    )


_STICKY = (
    "trading was HALTED in an earlier run and a halt is sticky: it stays halted until resumed "
    "by hand (`quantlake resume`) once the cause has been looked at"
)


def _resume(peak: float, equity: float, manual_halt: bool) -> tuple[bool, str]:
    """Return whether a manual resume takes effect, and why (not)."""
    if manual_halt:
        return False, "manual resume refused: the kill switch is still on"
    if equity <= 0:
        return False, f"manual resume refused: equity {equity:,.2f} is not positive"
    return True, (
        f"resumed by hand: equity peak reset from {peak:,.2f} to the current equity "
        f"{equity:,.2f}, so drawdown is measured afresh"
    )


def _halts(
    peak: float, equity: float, manual_halt: bool, manual_reason: str | None, limits: RiskLimits
) -> list[tuple[Trigger, str]]:
    found: list[tuple[Trigger, str]] = []
    if manual_halt:
        found.append(("manual_halt", f"kill switch on: {manual_reason}"))
    drawdown = (peak - equity) / peak
    if drawdown > limits.max_drawdown:
        found.append(
            (
                "drawdown",
                f"drawdown {drawdown:.2%} from the equity peak {peak:,.2f} (equity "
                f"{equity:,.2f}) exceeds max_drawdown {limits.max_drawdown:.2%}",
            )
        )
    return found


def _reductions(
    equity: float,
    prev_close: float,
    data_ok: bool,
    data_reason: str | None,
    model_ok: bool,
    model_reason: str | None,
    limits: RiskLimits,
) -> list[tuple[Trigger, str]]:
    found: list[tuple[Trigger, str]] = []
    loss = (prev_close - equity) / prev_close
    if loss > limits.max_daily_loss:
        found.append(
            (
                "daily_loss",
                f"daily loss {loss:.2%} since the previous close's equity {prev_close:,.2f} "
                f"(now {equity:,.2f}) exceeds max_daily_loss {limits.max_daily_loss:.2%}; "
                "only risk-reducing orders until it recovers",
            )
        )
    if not data_ok:
        found.append(("data", f"data check failed: {data_reason}; only risk-reducing orders"))
    if not model_ok:
        found.append(("model", f"model check failed: {model_reason}; only risk-reducing orders"))
    return found


def _all_clear(peak: float, equity: float, prev_close: float, limits: RiskLimits) -> str:
    return (
        f"all clear: drawdown {(peak - equity) / peak:.2%} (max {limits.max_drawdown:.2%}), "
        f"day change {(equity - prev_close) / prev_close:+.2%} (max loss "
        f"{limits.max_daily_loss:.2%}), data and model checks passed"
    )


def _check_inputs(equity_peak: float, equity: float, equity_prev_close: float) -> None:
    for name, value in (("equity_peak", equity_peak), ("equity_prev_close", equity_prev_close)):
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive finite number, got {value}")
    if not math.isfinite(equity):
        raise ValueError(f"equity must be a finite number, got {equity}")


def _require_reason(flag: str, ok: bool, reason: str | None) -> None:
    if not ok and not (reason and reason.strip()):
        raise ValueError(
            f"{flag} says trading is not safe but gives no reason; pass the reason so the "
            "decision can be explained"
        )
