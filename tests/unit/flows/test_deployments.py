"""The deployments `quantlake serve` registers: daily ingest and trade always; macro, news and
minute-bar ingests only when their sources are configured, each one run at a time."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flows.deployments import build_deployments
from quantlake.settings import Settings

TODAY = dt.date(2026, 11, 23)


def test_the_daily_pair_and_the_on_demand_backfills_by_default() -> None:
    deployments = {d.name: d for d in build_deployments(Settings(), today=TODAY)}
    assert list(deployments) == ["daily-ingest", "daily-trade", "backfill", "fill-gaps"]
    for name in ("backfill", "fill-gaps"):
        assert not deployments[name].schedules  # run from the Prefect UI, with parameters
    # Prefect can describe their parameters for the UI's run form (no callable leaks in).
    from prefect.utilities.callables import parameter_schema

    from flows.backfill.flow import backfill_flow

    assert "start" in parameter_schema(backfill_flow.fn).required


def test_configured_sources_get_their_own_deployments(tmp_path: Path) -> None:
    settings = Settings(
        macro={"directory": tmp_path},
        news={"directory": tmp_path},
        minute={"source": "file", "directories": [tmp_path], "naive_timezone": "UTC"},
    )
    deployments = {d.name: d for d in build_deployments(settings, today=TODAY)}
    assert set(deployments) == {
        "daily-ingest",
        "daily-trade",
        "macro-ingest",
        "news-ingest",
        "minute-ingest",
        "backfill",
        "fill-gaps",
    }
    assert all(d.concurrency_limit == 1 for d in deployments.values())
    minute = deployments["minute-ingest"].schedules[0].schedule
    assert (minute.cron, minute.timezone) == ("*/5 4-19 * * 1-5", "America/New_York")
