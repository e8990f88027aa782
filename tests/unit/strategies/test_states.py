"""next_state: the transition table, sticky halts and resumes, and invariants under hypothesis."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strategies.limits import RiskLimits
from strategies.states import State, StateDecision, next_state

LIMITS = RiskLimits(
    max_position_weight=0.2,
    max_gross_exposure=1.0,
    max_net_exposure=1.0,
    max_order_notional=1e6,
    max_orders_per_run=10,
    price_collar_bps=500.0,
    max_drawdown=0.10,
    max_daily_loss=0.03,
)

CLEAR = {
    "current": State.ACTIVE,
    "equity_peak": 100.0,
    "equity": 100.0,
    "equity_prev_close": 100.0,
    "data_ok": True,
    "data_reason": None,
    "model_ok": True,
    "model_reason": None,
    "manual_halt": False,
    "manual_reason": None,
}
HALT = {"manual_halt": True, "manual_reason": "fat-finger review"}
BAD_DATA = {"data_ok": False, "data_reason": "latest batch failed validation"}
BAD_MODEL = {"model_ok": False, "model_reason": "no champion model"}


def _next(**changes: object) -> StateDecision:
    return next_state(**(CLEAR | changes), limits=LIMITS)  # type: ignore[arg-type]


ACTIVE, REDUCING, HALTED = State.ACTIVE, State.REDUCING, State.HALTED

# (changes to CLEAR, expected state, expected triggers in order)
TABLE = [
    ({}, ACTIVE, ("ok",)),
    (HALT, HALTED, ("manual_halt",)),
    ({"equity": 89.0, "equity_prev_close": 89.0}, HALTED, ("drawdown",)),
    ({"equity": 90.0, "equity_prev_close": 90.0}, ACTIVE, ("ok",)),  # exactly at the limit
    ({"equity": 89.99, "equity_prev_close": 89.99}, HALTED, ("drawdown",)),  # just beyond it
    ({"equity": 96.0}, REDUCING, ("daily_loss",)),
    ({"equity": 97.0}, ACTIVE, ("ok",)),  # a 3% loss is at the limit, not beyond it
    ({"equity": 96.99}, REDUCING, ("daily_loss",)),
    (BAD_DATA, REDUCING, ("data",)),
    (BAD_MODEL, REDUCING, ("model",)),
    (BAD_DATA | BAD_MODEL | {"equity": 96.0}, REDUCING, ("daily_loss", "data", "model")),
    (HALT | BAD_DATA | {"equity": 80.0}, HALTED, ("manual_halt", "drawdown", "daily_loss", "data")),
    ({"current": REDUCING}, ACTIVE, ("ok",)),  # REDUCING recovers by itself
    ({"current": REDUCING, **BAD_MODEL}, REDUCING, ("model",)),
    ({"current": HALTED}, HALTED, ("sticky_halt",)),  # cause gone, no resume: still halted
    ({"current": HALTED, **BAD_DATA}, HALTED, ("sticky_halt", "data")),
    ({"current": HALTED, "manual_resume": True}, ACTIVE, ("resumed", "ok")),
    ({"current": HALTED, "manual_resume": True, **BAD_DATA}, REDUCING, ("resumed", "data")),
    ({"current": HALTED, "manual_resume": True, **HALT}, HALTED, ("resume_refused", "manual_halt")),
    ({"current": ACTIVE, "manual_resume": True}, ACTIVE, ("ok",)),  # nothing to resume
]


@pytest.mark.parametrize(("changes", "state", "triggers"), TABLE)
def test_transition_table(changes: dict, state: State, triggers: tuple[str, ...]) -> None:
    decision = _next(**changes)
    assert decision.state is state
    assert decision.triggers == triggers
    assert len(decision.reasons) == len(triggers)
    assert all(reason.strip() for reason in decision.reasons)


def test_a_drawdown_halt_stays_until_resumed_and_the_resume_resets_the_peak() -> None:
    # Peak 100, equity 85: 15% drawdown -> HALTED, peak kept at 100.
    first = _next(equity=85.0, equity_prev_close=86.0)
    assert (first.state, first.equity_peak) == (HALTED, 100.0)
    # Equity recovers to 95 (5% drawdown): still halted, the halt is sticky.
    second = _next(
        current=first.state, equity_peak=first.equity_peak, equity=95.0, equity_prev_close=94.0
    )
    assert (second.state, second.triggers) == (HALTED, ("sticky_halt",))
    # Resumed at 85 (still 15% below the old peak): the peak restarts at 85, trading resumes.
    third = _next(
        current=second.state, equity_peak=100.0, equity=85.0, equity_prev_close=85.0,
        manual_resume=True,
    )  # fmt: skip
    assert (third.state, third.equity_peak) == (ACTIVE, 85.0)
    # A further 11% fall from the new peak halts again.
    fourth = _next(equity_peak=85.0, equity=75.0, equity_prev_close=75.0)
    assert fourth.state is HALTED


def test_the_peak_follows_equity_up() -> None:
    assert _next(equity_peak=90.0, equity=100.0).equity_peak == 100.0
    assert _next(equity_peak=120.0, equity=110.0, equity_prev_close=110.0).equity_peak == 120.0


def test_a_resume_with_no_equity_left_is_refused() -> None:
    decision = _next(current=HALTED, manual_resume=True, equity=-5.0)
    assert decision.state is HALTED
    assert decision.triggers[:2] == ("resume_refused", "drawdown")
    assert decision.equity_peak == 100.0


@pytest.mark.parametrize(
    "changes",
    [
        {"data_ok": False},
        {"model_ok": False, "model_reason": "  "},
        {"manual_halt": True},
        {"equity": float("nan")},
        {"equity_peak": 0.0},
        {"equity_prev_close": float("inf")},
    ],
)
def test_unexplained_or_unmeasurable_inputs_raise(changes: dict) -> None:
    with pytest.raises(ValueError, match="reason|must be"):
        _next(**changes)


@given(
    current=st.sampled_from(list(State)),
    peak=st.floats(1.0, 1e6),
    equity=st.floats(-1e6, 2e6),
    prev=st.floats(1.0, 2e6),
    data_ok=st.booleans(),
    model_ok=st.booleans(),
    manual_halt=st.booleans(),
    manual_resume=st.booleans(),
)
def test_state_invariants(
    current: State,
    peak: float,
    equity: float,
    prev: float,
    data_ok: bool,
    model_ok: bool,
    manual_halt: bool,
    manual_resume: bool,
) -> None:
    decision = _next(
        current=current, equity_peak=peak, equity=equity, equity_prev_close=prev,
        data_ok=data_ok, data_reason=None if data_ok else "stale",
        model_ok=model_ok, model_reason=None if model_ok else "stale",
        manual_halt=manual_halt, manual_reason="halt" if manual_halt else None,
        manual_resume=manual_resume,
    )  # fmt: skip
    resumed = "resumed" in decision.triggers
    # Leaving HALTED takes a manual resume, and the kill switch always halts.
    if current is HALTED and not manual_resume or manual_halt:
        assert decision.state is HALTED
    if decision.state is not HALTED:
        dd = (decision.equity_peak - equity) / decision.equity_peak
        assert dd <= LIMITS.max_drawdown
    # ACTIVE exactly when nothing is wrong; every decision explains itself.
    all_fine = data_ok and model_ok and (prev - equity) / prev <= LIMITS.max_daily_loss
    if decision.state is ACTIVE:
        assert all_fine and decision.triggers[-1] == "ok"
    if decision.state is REDUCING:
        assert not all_fine
    assert decision.equity_peak == (equity if resumed else max(peak, equity))
    assert len(decision.reasons) == len(decision.triggers) >= 1


def test_an_unknown_current_state_raises() -> None:
    assert _next(current="halted").state is HALTED
    with pytest.raises(ValueError, match="paused"):
        _next(current="paused")
