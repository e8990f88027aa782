"""The gate: stale or failed data and a missing or stale model forbid new risk (the book
reduces); the kill switch halts; only an empty lakehouse or partial bars refuse the run."""

from __future__ import annotations

import datetime as dt
import re

import polars as pl
import pytest

from flows.trade.gate import TradeRefused, check_gate
from quantlake.settings import Settings
from warehouse import schemas
from warehouse.lake import Lakehouse

NOW = dt.datetime(2026, 11, 22, 12, tzinfo=dt.UTC)  # Sunday; last session Fri 2026-11-20
FRIDAY = dt.date(2026, 11, 20)


def _frame(table: schemas.Dataset, **values: object) -> pl.DataFrame:
    row = {c: values.get(c) for c in table.column_names}
    return pl.DataFrame([row], schema=table.polars_schema(), orient="row")


def seed(
    lake: Lakehouse,
    *,
    session: dt.date,
    status: str = "passed",
    champion: bool = True,
    predicted: bool = True,
    source: str = "t",
) -> None:
    with lake.transaction("seed") as txn:
        txn.merge(
            schemas.CURATED_BARS,
            _frame(
                schemas.CURATED_BARS,
                symbol="AAA",
                session=session,
                open=1.0,
                high=1.0,
                low=1.0,
                close=1.0,
                volume=1.0,
                split_factor=1.0,
                source=source,
                batch_id="b",
                knowledge_time=NOW,
            ),
        )
        txn.append(
            schemas.BATCHES,
            _frame(
                schemas.BATCHES,
                batch_id=f"b-{source}",
                source=source,
                dataset="daily_bars",
                ingested_at=NOW,
                status=status,
                message="m",
            ),
        )
        txn.merge(
            schemas.FEATURES, _frame(schemas.FEATURES, symbol="AAA", session=session, ret_1=0.01)
        )
        if champion:
            txn.append(
                schemas.MODELS,
                _frame(schemas.MODELS, model_version="m1", created_at=NOW, status="champion"),
            )
    if predicted:
        with lake.transaction("predict") as txn:
            txn.append(
                schemas.PREDICTIONS,
                _frame(
                    schemas.PREDICTIONS,
                    symbol="AAA",
                    session=session,
                    score=0.1,
                    model_version="m1",
                    features_snapshot=lake.current_snapshot(),
                    created_at=NOW,
                ),
            )


def decisions(lake: Lakehouse) -> list[str]:
    return lake.read(schemas.RISK_DECISIONS).get_column("decision").to_list()


def test_fresh_validated_predicted_data_passes(lake: Lakehouse) -> None:
    seed(lake, session=FRIDAY)
    gate = check_gate(lake, Settings(), now=NOW, run_id="r")
    assert (gate.session, gate.model_version, gate.may_open) == (FRIDAY, "m1", True)


def test_stale_data_forbids_new_risk(lake: Lakehouse) -> None:
    seed(lake, session=dt.date(2026, 11, 17))
    gate = check_gate(lake, Settings(), now=NOW, run_id="r")
    assert not gate.may_open and "stale" in (gate.data_problem or "")
    assert gate.model_version == "m1"  # its predictions may still steer exits


def test_failed_validation_forbids_new_risk(lake: Lakehouse) -> None:
    seed(lake, session=FRIDAY, status="failed")
    gate = check_gate(lake, Settings(), now=NOW, run_id="r")
    assert not gate.may_open and "failed validation" in (gate.data_problem or "")


def test_missing_champion_leaves_nothing_to_plan_from(lake: Lakehouse) -> None:
    seed(lake, session=FRIDAY, champion=False)
    gate = check_gate(lake, Settings(), now=NOW, run_id="r")
    assert gate.model_version is None and "no champion" in (gate.model_problem or "")


def test_predictions_for_an_older_session_are_not_traded(lake: Lakehouse) -> None:
    seed(lake, session=FRIDAY, predicted=False)
    gate = check_gate(lake, Settings(), now=NOW, run_id="r")
    assert gate.model_version is None and "no predictions" in (gate.model_problem or "")


def test_a_model_trained_long_ago_is_stale(lake: Lakehouse) -> None:
    seed(lake, session=FRIDAY)
    with lake.transaction("old champion") as txn:
        txn.merge(
            schemas.MODELS,
            _frame(
                schemas.MODELS,
                model_version="m1",
                created_at=NOW,
                status="champion",
                train_end=dt.date(2026, 6, 1),
                test_end=dt.date(2026, 9, 1),
            ),
        )
    gate = check_gate(lake, Settings(), now=NOW, run_id="r")
    assert "trained on data up to 2026-09-01" in (gate.model_problem or "")
    fresh = check_gate(lake, Settings(gates={"max_model_age_sessions": 100}), now=NOW, run_id="r")
    assert fresh.may_open


def test_empty_lakehouse_is_refused_and_recorded(lake: Lakehouse) -> None:
    with pytest.raises(TradeRefused, match="no curated bars"):
        check_gate(lake, Settings(), now=NOW, run_id="r")
    assert decisions(lake) == ["refuse"]


def test_a_failed_batch_of_another_source_still_blocks(lake: Lakehouse) -> None:
    seed(lake, session=FRIDAY)
    with lake.transaction("bad other source") as txn:
        txn.append(
            schemas.BATCHES,
            _frame(
                schemas.BATCHES,
                batch_id="x",
                source="file",
                dataset="daily_bars",
                ingested_at=NOW - dt.timedelta(hours=1),
                status="failed",
                message="schema",
            ),
        )
    gate = check_gate(lake, Settings(), now=NOW, run_id="r")
    assert "latest file batch x failed" in (gate.data_problem or "")


def test_predictions_scored_on_older_features_are_refused(lake: Lakehouse) -> None:
    seed(lake, session=FRIDAY)
    with lake.transaction("features corrected") as txn:
        txn.merge(
            schemas.FEATURES, _frame(schemas.FEATURES, symbol="AAA", session=FRIDAY, ret_1=0.02)
        )
    gate = check_gate(lake, Settings(), now=NOW, run_id="r")
    assert "re-materialize predictions" in (gate.model_problem or "")


def test_a_session_that_has_not_closed_is_refused(lake: Lakehouse) -> None:
    monday = dt.date(2026, 11, 23)
    seed(lake, session=monday)
    during = dt.datetime(2026, 11, 23, 17, tzinfo=dt.UTC)  # noon in New York
    with pytest.raises(TradeRefused, match="has not closed"):
        check_gate(lake, Settings(), now=during, run_id="r")


def test_a_manual_halt_blocks_until_resumed(lake: Lakehouse) -> None:
    from flows.trade.controls import record_control

    seed(lake, session=FRIDAY)
    record_control(lake, action="halt", actor="ops", reason="broker incident", now=NOW)
    halted = check_gate(lake, Settings(), now=NOW, run_id="r1")
    assert re.search("halted by ops.*broker incident", halted.halt or "")
    assert not halted.may_open
    record_control(
        lake, action="resume", actor="ops", reason="resolved", now=NOW + dt.timedelta(minutes=5)
    )
    assert check_gate(lake, Settings(), now=NOW, run_id="r2").may_open


def test_a_control_needs_who_and_why(lake: Lakehouse) -> None:
    from flows.trade.controls import record_control

    with pytest.raises(ValueError, match="who"):
        record_control(lake, action="halt", actor=" ", reason="x", now=NOW)


def test_a_failed_macro_batch_does_not_reduce_the_daily_book(lake: Lakehouse) -> None:
    seed(lake, session=FRIDAY)
    with lake.transaction("bad macro file") as txn:
        txn.append(
            schemas.BATCHES,
            _frame(
                schemas.BATCHES,
                batch_id="m",
                source="fred",
                dataset="macro",
                ingested_at=NOW,
                status="failed",
                message="not a FRED file",
            ),
        )
    assert check_gate(lake, Settings(), now=NOW, run_id="r").may_open


def test_a_failed_backfill_batch_does_not_judge_todays_data(lake: Lakehouse) -> None:
    seed(lake, session=FRIDAY)
    later = NOW + dt.timedelta(minutes=5)
    with lake.transaction("a backfill chunk of 2019 that failed") as txn:
        txn.append(
            schemas.BATCHES,
            _frame(
                schemas.BATCHES,
                batch_id="old",
                source="t",
                dataset="daily_bars",
                ingested_at=later,
                status="failed",
                message="bad 2019 ticks",
            ),
        )
        txn.append(
            schemas.BACKFILL_WINDOWS,
            _frame(
                schemas.BACKFILL_WINDOWS,
                source="t",
                kind="backfill",
                scope="[]",
                first_session=dt.date(2019, 1, 2),
                last_session=dt.date(2019, 3, 29),
                batch_id="old",
                committed=True,
                status="failed",
                recorded_at=later,
            ),
        )
    assert check_gate(lake, Settings(), now=NOW, run_id="r").may_open
    # The same failed batch from the scheduled ingest is today's problem.
    with lake.transaction("scheduled, failed") as txn:
        txn.append(
            schemas.BATCHES,
            _frame(
                schemas.BATCHES,
                batch_id="new",
                source="t",
                dataset="daily_bars",
                ingested_at=later + dt.timedelta(minutes=1),
                status="failed",
                message="bad ticks",
            ),
        )
    assert not check_gate(lake, Settings(), now=NOW, run_id="r").may_open
