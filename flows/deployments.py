"""The Prefect deployments, in one place: ingest after the close, trade after the open.

`quantlake serve` runs this module against its Prefect server (``python -m flows.deployments``);
the process registers both deployments with their schedules and executes their runs.
Cross-cutting policy (retries, concurrency) is set here once.
"""

from __future__ import annotations

import datetime as dt

from prefect import serve
from prefect.schedules import RRule

from flows.ingest import ingest_flow
from flows.schedules import TIMEZONES, session_rrule
from flows.trade import trade_flow
from quantlake.settings import Settings, load_settings


def build_deployments(settings: Settings, *, today: dt.date) -> list:
    """Return the runner deployments for the ingest and trade flows."""
    tz = TIMEZONES.get(settings.exchange, "UTC")
    ingest = ingest_flow.with_options(retries=2, retry_delay_seconds=300).to_deployment(
        name="daily-ingest",
        description="Load the day's bars after the close, validate them, update curated.",
        schedule=RRule(
            session_rrule(at=settings.ingest_at, start=today, exchange=settings.exchange),
            timezone=tz,
        ),
        tags=["quantlake", "ingest"],
        concurrency_limit=1,
    )
    trade = trade_flow.to_deployment(
        name="daily-trade",
        description="Rebalance to the champion model's latest predictions after the open.",
        schedule=RRule(
            session_rrule(at=settings.trade_at, start=today, exchange=settings.exchange),
            timezone=tz,
        ),
        tags=["quantlake", "trade"],
        concurrency_limit=1,
    )
    return [ingest, trade]


def main() -> None:
    settings = load_settings()
    serve(*build_deployments(settings, today=dt.date.today()), print_starting_message=False)


if __name__ == "__main__":
    main()
