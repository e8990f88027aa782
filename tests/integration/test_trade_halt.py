"""A rerun of a decided session meets the state of now, and a halt stops what was working.

Orders written by a run that died before sending them are re-checked by the rerun: on a halt
none is sent and each is recorded cancelled; on a REDUCING book the sells go and the buys are
cancelled. A halt cancels working GTC limit orders, so the next settle fills none of them. A
rerun that has nothing new to decide records nothing."""

from __future__ import annotations

import datetime as dt
import uuid

import polars as pl
import pytest

from flows.brokers.select import build_broker
from flows.ingest.daily import ingest_flow
from flows.trade.controls import record_control
from flows.trade.flow import plan, trade_flow
from flows.trade.gate import check_gate
from flows.trade.records import order_rows
from quantlake.cycle import _materialize, run_cycle
from quantlake.settings import Settings
from warehouse import schemas
from warehouse.lake import Lakehouse

pytestmark = pytest.mark.integration

FRIDAY_NIGHT = dt.datetime(2026, 11, 21, 1, tzinfo=dt.UTC)
MONDAY_NIGHT = dt.datetime(2026, 11, 24, 1, tzinfo=dt.UTC)
# Two completed sessions after Monday's bars: the data is stale, the book REDUCING.
WEDNESDAY_NIGHT = dt.datetime(2026, 11, 26, 1, tzinfo=dt.UTC)


def write_unsent(settings: Settings, now: dt.datetime) -> pl.DataFrame:
    """Plan the session and write its orders, as a run killed before sending them would."""
    with Lakehouse(settings.lake_dir) as lake:
        gate = check_gate(lake, settings, now=now, run_id=uuid.uuid4().hex)
        broker = build_broker(settings, lake=lake)
        intents = order_rows(plan(lake, broker, settings, gate).orders, settings, gate, broker, now)
        assert not intents.is_empty()
        with lake.transaction("write-ahead, then the process dies") as txn:
            txn.insert_missing(schemas.ORDERS, intents)
    return intents


def halt(settings: Settings, at: dt.datetime) -> None:
    with Lakehouse(settings.lake_dir) as lake:
        record_control(lake, action="halt", actor="ops", reason="bad fills", now=at)


def statuses(lake: Lakehouse, ids: list[str]) -> dict[str, str]:
    rows = lake.read(schemas.ORDERS, where="list_contains(?, client_order_id)", params=[ids])
    return dict(rows.select("client_order_id", "status").iter_rows())


def facts(settings: Settings) -> pl.DataFrame:
    """Return every recorded risk decision as (session, subject, decision, reason)."""
    with Lakehouse(settings.lake_dir) as lake:
        rows = lake.read(schemas.RISK_DECISIONS)
    return rows.select("session", "subject", "decision", "reason")


def cancel_subjects(lake: Lakehouse) -> set[str]:
    rows = lake.read(schemas.RISK_DECISIONS, where="decision = 'cancel'")
    return set(rows.get_column("subject"))


def test_a_halt_cancels_orders_written_but_never_sent(simulator_settings) -> None:
    settings = simulator_settings(n_symbols=8, QUANTLAKE_STRATEGY__TOP_K="4")
    ingest_flow(now=FRIDAY_NIGHT)
    _materialize(settings, as_of=FRIDAY_NIGHT)
    ids = write_unsent(settings, FRIDAY_NIGHT).get_column("client_order_id").to_list()
    halt(settings, FRIDAY_NIGHT + dt.timedelta(minutes=1))

    halted = trade_flow(now=FRIDAY_NIGHT + dt.timedelta(minutes=2), report_to_dagster=False)
    assert (halted.status, halted.state, halted.orders_sent) == ("halted", "halted", 0)
    assert (halted.orders, halted.planned) == ([], 0)  # nothing planned, nothing to show
    assert sorted(c["client_order_id"] for c in halted.cancelled) == sorted(ids)
    assert {c["status"] for c in halted.cancelled} == {"canceled"}
    assert any(r.startswith("kill switch on") and "bad fills" in r for r in halted.state_reasons)
    with Lakehouse(settings.lake_dir) as lake:
        assert lake.count(schemas.PAPER_ORDERS) == 0
        assert set(statuses(lake, ids).values()) == {"canceled"}
        assert cancel_subjects(lake) == {f"cancel:{c}" for c in ids}


def test_a_rerun_records_nothing_new_and_a_reducing_book_sends_only_the_sells(
    simulator_settings,
) -> None:
    settings = simulator_settings(n_symbols=8, QUANTLAKE_STRATEGY__TOP_K="4")
    first = run_cycle(settings, now=FRIDAY_NIGHT, on_stage=lambda _: None)
    assert first.trade.orders_sent > 0
    before = facts(settings)
    again = trade_flow(now=FRIDAY_NIGHT + dt.timedelta(minutes=5), report_to_dagster=False)
    assert (again.status, again.orders_sent, again.planned) == ("no_orders", 0, first.trade.planned)
    after = facts(settings)
    assert after.is_unique().all(), "a decision was recorded twice"
    # The one new fact: the first reconciliation of the book the first run bought.
    new = after.join(before, on=after.columns, how="anti", nulls_equal=True)
    assert new.get_column("subject").str.starts_with("reconcile").all(), new
    with Lakehouse(settings.lake_dir) as lake:
        snapshot = lake.current_snapshot()
    third = trade_flow(now=FRIDAY_NIGHT + dt.timedelta(minutes=10), report_to_dagster=False)
    assert "unchanged, not recorded again" in third.reconciliation
    with Lakehouse(settings.lake_dir) as lake:
        # Same decisions, reconciliation, account, positions and state: nothing is written.
        assert lake.current_snapshot() == snapshot

    ingest_flow(now=MONDAY_NIGHT)
    _materialize(settings, as_of=MONDAY_NIGHT)
    intents = write_unsent(settings, MONDAY_NIGHT)
    sides = dict(intents.select("client_order_id", "side").iter_rows())
    assert set(sides.values()) == {"buy", "sell"}, "the scenario needs both sides"

    reduced = trade_flow(now=WEDNESDAY_NIGHT, report_to_dagster=False)
    assert reduced.state == "reducing" and "data is stale" in reduced.reason
    sells = sorted(c for c, s in sides.items() if s == "sell")
    buys = sorted(c for c, s in sides.items() if s == "buy")
    assert reduced.orders_sent == len(sells)
    assert sorted(c["client_order_id"] for c in reduced.cancelled) == buys
    with Lakehouse(settings.lake_dir) as lake:
        sent = lake.read(
            schemas.PAPER_ORDERS, where="list_contains(?, client_order_id)", params=[list(sides)]
        )
        assert sorted(sent.get_column("client_order_id")) == sells
        assert statuses(lake, buys) == dict.fromkeys(buys, "canceled")
        assert set(statuses(lake, sells).values()) == {"filled"}
        assert {f"cancel:{c}" for c in buys} <= cancel_subjects(lake)
        rejects = lake.read(schemas.RISK_DECISIONS, where="decision = 'reject'")
        assert {f"risk:{c}" for c in buys} <= set(rejects.get_column("subject"))


def test_a_halt_cancels_working_gtc_orders_so_no_later_session_fills_them(
    simulator_settings,
) -> None:
    settings = simulator_settings(
        n_symbols=8,
        QUANTLAKE_STRATEGY__TOP_K="4",
        QUANTLAKE_PAPER__FILL_AT="next_open",
        QUANTLAKE_STRATEGY__ORDER_TYPE="limit",
        QUANTLAKE_STRATEGY__TIME_IN_FORCE="gtc",
    )
    friday = run_cycle(settings, now=FRIDAY_NIGHT, on_stage=lambda _: None)
    working = sorted(o["client_order_id"] for o in friday.trade.orders)
    assert working and {o["status"] for o in friday.trade.orders} == {"accepted"}
    halt(settings, FRIDAY_NIGHT + dt.timedelta(minutes=1))

    halted = trade_flow(now=FRIDAY_NIGHT + dt.timedelta(minutes=2), report_to_dagster=False)
    assert (halted.status, halted.orders, halted.orders_sent) == ("halted", [], 0)
    assert sorted(c["client_order_id"] for c in halted.cancelled) == working
    ingest_flow(now=MONDAY_NIGHT)  # Monday's bars would have filled the orders at the open
    monday = trade_flow(now=MONDAY_NIGHT, report_to_dagster=False)
    assert (monday.status, monday.positions, monday.cancelled) == ("halted", [], [])
    with Lakehouse(settings.lake_dir) as lake:
        paper = lake.read(schemas.PAPER_ORDERS)
        assert set(paper.get_column("status")) == {"canceled"}
        assert lake.count(schemas.FILLS) == 0 and lake.count(schemas.PAPER_POSITIONS) == 0
        assert set(statuses(lake, working).values()) == {"canceled"}
        assert cancel_subjects(lake) == {f"cancel:{c}" for c in working}
