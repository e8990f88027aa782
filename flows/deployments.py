"""The Prefect deployments, in one place: ingest after the close, trade after the open; macro,
news and minute-bar ingests when their settings name a source.

`quantlake serve` runs this module against its Prefect server (``python -m flows.deployments``);
the process registers both deployments with their schedules and executes their runs.
Cross-cutting policy is set here once: one run of each at a time, and no flow-level retries.
A retried ingest finds its batch already loaded and ends "Completed", which would hide a failed
validation; transient source errors are retried by the fetch task itself.
"""

from __future__ import annotations

import datetime as dt

from prefect import serve
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron, RRule

from flows.ingest.daily import ingest_flow
from flows.schedules import TIMEZONES, session_rrule
from flows.trade.flow import trade_flow
from quantlake.settings import Settings, load_settings
from warehouse import calendar


def build_deployments(settings: Settings, *, today: dt.date) -> list[RunnerDeployment]:
    """Return the runner deployments for the ingest and trade flows.

    ``today`` is the exchange's date: the first scheduled run may fall on it.
    """
    if settings.exchange not in TIMEZONES:
        raise ValueError(
            f"no schedule time zone for exchange {settings.exchange!r}: add it to "
            "flows.schedules.TIMEZONES, or set QUANTLAKE_EXCHANGE to one of "
            f"{sorted(TIMEZONES)}"
        )
    tz = TIMEZONES[settings.exchange]
    ingest = ingest_flow.to_deployment(
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
    return [
        ingest,
        trade,
        *_optional_ingests(settings, today=today, tz=tz),
        *_on_demand(),
    ]


def _on_demand() -> list[RunnerDeployment]:
    """Return the unscheduled deployments people run from the Prefect UI with parameters."""
    from flows.backfill.flow import backfill_flow
    from flows.backfill.gaps import gap_fill_flow

    return [
        backfill_flow.to_deployment(
            name="backfill",
            description="Fill daily-bar history from start to end in chunks (resumable: a "
            "rerun skips the chunks already loaded). Same as `quantlake backfill`.",
            tags=["quantlake", "ingest", "on-demand"],
            concurrency_limit=1,
        ),
        gap_fill_flow.to_deployment(
            name="fill-gaps",
            description="Re-request the sessions missing from curated daily bars once; report "
            "what the source still lacks. Same as `quantlake backfill --gaps`.",
            tags=["quantlake", "ingest", "on-demand"],
            concurrency_limit=1,
        ),
    ]


def _optional_ingests(settings: Settings, *, today: dt.date, tz: str) -> list[RunnerDeployment]:
    """Return deployments for the other datasets whose sources are configured.

    Macro and news load after the close on sessions; minute bars every 5 minutes from 04:00 to
    20:00 exchange time on weekdays (a run on a holiday finds nothing new and writes nothing).
    Each is one run at a time, like the daily ingest.
    """
    from flows.ingest.macro import ingest_macro_flow
    from flows.ingest.minute import ingest_minute_flow
    from flows.ingest.news import ingest_news_flow

    after_close = RRule(
        session_rrule(at=settings.ingest_at, start=today, exchange=settings.exchange),
        timezone=tz,
    )
    found = []
    if settings.macro.directory or settings.macro.files:
        found.append(("macro-ingest", ingest_macro_flow, after_close, "FRED series, as of release"))
    if settings.news.directory or settings.news.files:
        found.append(("news-ingest", ingest_news_flow, after_close, "news and posts, scored"))
    if settings.minute is not None:
        every_5 = Cron("*/5 4-19 * * 1-5", timezone=tz)
        found.append(("minute-ingest", ingest_minute_flow, every_5, "minute bars, pre to post"))
    return [
        flow.to_deployment(
            name=name,
            description=f"Load {what} into the lakehouse, validated.",
            schedule=schedule,
            tags=["quantlake", "ingest"],
            concurrency_limit=1,
        )
        for name, flow, schedule, what in found
    ]


def main() -> None:
    settings = load_settings()
    # The exchange's date, not this machine's: east of New York the local date runs a day ahead.
    today = calendar.exchange_date(dt.datetime.now(dt.UTC), exchange=settings.exchange)
    serve(*build_deployments(settings, today=today), print_starting_message=False)


if __name__ == "__main__":
    main()
