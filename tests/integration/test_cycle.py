"""The whole daily cycle on real components: Prefect flows on a Prefect server, Dagster assets in
a persistent Dagster instance, the DuckLake lakehouse on disk, GX validation, the paper broker.

Run twice on the same day: nothing is loaded twice and no order is sent twice. Then one session
later: exactly one more session is loaded and the new orders carry new ids.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest

from quantlake.cycle import run_cycle
from warehouse import calendar, schemas
from warehouse.lake import Lakehouse

pytestmark = pytest.mark.integration

SUNDAY = dt.datetime(2026, 11, 22, 12, tzinfo=dt.UTC)
MONDAY_EVENING = dt.datetime(2026, 11, 23, 23, tzinfo=dt.UTC)


@pytest.fixture
def settings(simulator_settings):
    return simulator_settings()


def counts(s) -> dict[str, int]:
    with Lakehouse(s.lake_dir) as lake:
        return {d.table: lake.count(d) for d in schemas.ALL}


def test_full_cycle_is_idempotent_and_advances_by_one_session(settings) -> None:
    stages: list[str] = []
    first = run_cycle(settings, now=SUNDAY, on_stage=stages.append)
    assert stages == ["ingest", "assets", "trade"]
    assert first.ingest.status == "loaded"
    assert first.ingest.validation == "passed"
    assert first.ingest.last_session == dt.date(2026, 11, 20)
    assert first.refused is None, first.refused
    assert first.trade.session == dt.date(2026, 11, 20)
    assert first.trade.orders_sent > 0
    assert first.trade.positions
    assert Path(first.ingest.docs_path).is_file()

    after_first = counts(settings)
    n_sessions = len(calendar.sessions(dt.date(2023, 1, 3), dt.date(2026, 11, 20)))
    assert after_first["raw.bars"] == 12 * n_sessions
    assert after_first["curated.bars"] == 12 * n_sessions - first.ingest.rows_quarantined
    assert after_first["predictions.daily"] == 12
    assert after_first["trading.orders"] == first.trade.orders_sent

    second = run_cycle(settings, now=SUNDAY + dt.timedelta(hours=1), on_stage=stages.append)
    assert second.ingest.status == "up_to_date"
    assert second.trade.orders_sent == 0
    after_second = counts(settings)
    for table in (
        "raw.bars",
        "curated.bars",
        "features.daily",
        "predictions.daily",
        "trading.orders",
        "trading.fills",
        "paper.orders",
        "models.registry",
    ):
        assert after_second[table] == after_first[table], table

    third = run_cycle(settings, now=MONDAY_EVENING, on_stage=stages.append)
    assert third.ingest.status == "loaded"
    assert (third.ingest.first_session, third.ingest.last_session) == (
        dt.date(2026, 11, 23),
        dt.date(2026, 11, 23),
    )
    assert third.trade.session == dt.date(2026, 11, 23)
    with Lakehouse(settings.lake_dir) as lake:
        ids = lake.read(schemas.ORDERS).get_column("client_order_id")
        assert ids.n_unique() == len(ids)
        broker_ids = lake.read(schemas.PAPER_ORDERS).get_column("client_order_id")
        assert sorted(broker_ids) == sorted(ids)

    instance = dg.DagsterInstance.from_config(str(settings.dagster_home))
    try:
        for key in (
            ["curated", "bars"],
            ["features", "daily"],
            ["predictions", "daily"],
            ["trading", "orders"],
        ):
            assert instance.get_latest_materialization_event(dg.AssetKey(key)) is not None, key
    finally:
        instance.dispose()
