"""A rebalance above the turnover threshold pauses the trade flow until a person answers in
the Prefect UI: approved, its orders go out; rejected, nothing is sent; both are recorded."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
from prefect.client.schemas.objects import StateType
from prefect.flow_runs import resume_flow_run

from flows.ingest.daily import ingest_flow
from flows.trade.flow import trade_flow
from quantlake.cycle import _materialize
from warehouse import schemas
from warehouse.lake import Lakehouse

pytestmark = pytest.mark.integration

FRIDAY_NIGHT = dt.datetime(2026, 11, 21, 1, tzinfo=dt.UTC)


def paused_run_id(timeout_s: float = 300) -> str:
    """Return the id of the (one) paused flow run, waiting for it to pause."""
    paused = FlowRunFilter(
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED]))
    )
    deadline = time.monotonic() + timeout_s  # a guard against a hang, not a speed limit
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            runs = client.read_flow_runs(flow_run_filter=paused)
            if runs:
                return str(runs[0].id)
            time.sleep(0.5)
    raise AssertionError("the trade flow never paused for approval")


def run_in_thread() -> tuple[threading.Thread, dict]:
    out: dict = {}

    def target() -> None:
        try:
            out["summary"] = trade_flow(now=FRIDAY_NIGHT, report_to_dagster=False)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            out["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    return thread, out


@pytest.mark.parametrize("approve", [True, False])
def test_a_large_rebalance_waits_for_a_person(simulator_settings, approve: bool) -> None:
    settings = simulator_settings(QUANTLAKE_STRATEGY__APPROVAL_TURNOVER="0.5")
    ingest_flow(now=FRIDAY_NIGHT)
    _materialize(settings, as_of=FRIDAY_NIGHT)
    thread, out = run_in_thread()
    run_id = paused_run_id()
    with Lakehouse(settings.lake_dir) as lake:
        assert lake.count(schemas.ORDERS) == 0  # nothing recorded or sent while waiting
    resume_flow_run(run_id, run_input={"approve": approve, "approver": "pm", "note": "checked"})
    thread.join()
    assert "error" not in out, out.get("error")
    summary = out["summary"]
    verdict = "approved" if approve else "rejected"
    assert f"approval: {verdict} by pm: checked" in summary.notes
    assert (summary.orders_sent > 0) is approve
    with Lakehouse(settings.lake_dir) as lake:
        answer = lake.read(schemas.RISK_DECISIONS, where="subject = 'approval'")
        assert answer.get_column("decision").to_list() == [verdict]
        assert (lake.count(schemas.ORDERS) > 0) is approve
