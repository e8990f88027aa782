"""A drawdown beyond the limit halts the book: the run opens nothing, the halt stays until a
person resumes it (recorded with who and why), and then trading goes on."""

from __future__ import annotations

import datetime as dt

import pytest

from flows.ingest.daily import ingest_flow
from flows.trade.controls import record_control
from flows.trade.flow import trade_flow
from quantlake.cycle import _materialize, run_cycle
from warehouse import schemas
from warehouse.lake import Lakehouse

pytestmark = pytest.mark.integration

FRIDAY_NIGHT = dt.datetime(2026, 11, 21, 1, tzinfo=dt.UTC)
MONDAY_NIGHT = dt.datetime(2026, 11, 24, 1, tzinfo=dt.UTC)


@pytest.fixture
def settings(simulator_settings):
    return simulator_settings()


def latest_state(lake: Lakehouse) -> dict:
    return lake.read(schemas.TRADING_STATE, order_by="decided_at DESC").row(0, named=True)


def test_drawdown_halts_until_a_person_resumes(settings) -> None:
    first = run_cycle(settings, now=FRIDAY_NIGHT, on_stage=lambda _: None)
    assert first.trade.orders_sent > 0 and first.trade.state == "active"

    with Lakehouse(settings.lake_dir) as lake:
        friday = latest_state(lake)
        # The book once stood 40% higher: today's equity is a 29% drawdown (limit 20%).
        peak = {
            **friday,
            "run_id": "earlier",
            "equity_peak": friday["equity"] / 0.71,
            "decided_at": friday["decided_at"] + dt.timedelta(seconds=1),
        }
        with lake.transaction("a higher peak") as txn:
            txn.append(schemas.TRADING_STATE, schemas.TRADING_STATE.frame([peak]))
        positions_before = lake.read(schemas.PAPER_POSITIONS).sort("symbol")

    ingest_flow(now=MONDAY_NIGHT)
    _materialize(settings, as_of=MONDAY_NIGHT)
    halted = trade_flow(now=MONDAY_NIGHT, report_to_dagster=False)
    assert (halted.state, halted.orders_sent) == ("halted", 0)
    with Lakehouse(settings.lake_dir) as lake:
        state = latest_state(lake)
        assert state["state"] == "halted" and "drawdown" in state["triggers"]
        assert lake.read(schemas.PAPER_POSITIONS).sort("symbol").equals(positions_before)
        risk = lake.read(
            schemas.RISK_DECISIONS,
            where="session = ? AND subject LIKE 'risk:%'",
            params=[dt.date(2026, 11, 23)],
        )
        assert not risk.is_empty() and set(risk.get_column("decision")) == {"reject"}

    again = trade_flow(now=MONDAY_NIGHT + dt.timedelta(minutes=5), report_to_dagster=False)
    assert (again.state, again.orders_sent) == ("halted", 0)  # sticky: no automatic re-entry

    with Lakehouse(settings.lake_dir) as lake:
        record_control(
            lake,
            action="resume",
            actor="risk-officer",
            reason="peak reviewed",
            now=MONDAY_NIGHT + dt.timedelta(minutes=10),
        )
    resumed = trade_flow(now=MONDAY_NIGHT + dt.timedelta(minutes=15), report_to_dagster=False)
    assert resumed.state == "active"
    with Lakehouse(settings.lake_dir) as lake:
        state = latest_state(lake)
        assert state["equity_peak"] == pytest.approx(state["equity"])  # a resume resets the peak


def test_a_failed_validation_reduces_the_book_and_opens_nothing(settings, monkeypatch) -> None:
    from flows.ingest.daily import DataQualityError

    first = run_cycle(settings, now=FRIDAY_NIGHT, on_stage=lambda _: None)
    assert first.trade.orders_sent > 0 and first.trade.state == "active"
    held_before = {p["symbol"]: p["qty"] for p in first.trade.positions}

    # Monday's feed is full of bad ticks: more than 5% of its rows are quarantined, so the
    # batch fails validation (its good rows still land in curated).
    monkeypatch.setenv("QUANTLAKE_SIMULATOR__BAD_TICK_RATE", "0.1")
    with pytest.raises(DataQualityError):
        ingest_flow(now=MONDAY_NIGHT)
    _materialize(settings, as_of=MONDAY_NIGHT)
    reduced = trade_flow(now=MONDAY_NIGHT, report_to_dagster=False)
    assert reduced.state == "reducing" and "failed validation" in reduced.reason

    with Lakehouse(settings.lake_dir) as lake:
        state = latest_state(lake)
        assert state["state"] == "reducing" and "data" in state["triggers"].split(",")
        risk = lake.read(
            schemas.RISK_DECISIONS,
            where="session = ? AND subject LIKE 'risk:%'",
            params=[dt.date(2026, 11, 23)],
        )
        assert not risk.is_empty(), "the plan must want trades for this test to mean anything"
        orders = lake.read(schemas.ORDERS, where="session = ?", params=[dt.date(2026, 11, 23)])
        assert set(orders.get_column("side")) <= {"sell"}
    held_after = {p["symbol"]: p["qty"] for p in reduced.positions}
    assert set(held_after) <= set(held_before)  # no new position
    assert all(held_after[s] <= held_before[s] for s in held_after)  # none grew
