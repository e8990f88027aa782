"""What the macro, news and minute ingest flows share: the flow's shell and its Data Docs step.

The shell (:func:`run_flow`): one run on the lakehouse, the run's quality report, Dagster told of
a passed batch, and a raised error for a failed one. Each run renders its batch's Data Docs page
after the commit (:func:`publish_docs`), rebuilding the site's index, so the site lists the
latest runs of every suite. The macro and news flows share the rest too: flows/ingest/files.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Protocol, TypeVar

from prefect import task
from prefect.cache_policies import NO_CACHE

from flows.quality.report import report_batch
from quantlake.settings import Settings
from warehouse.lake import Lakehouse


class RunSummary(Protocol):
    """What :func:`run_flow` reads and sets on a run's summary."""

    status: str
    batch_id: str | None
    validation: str | None
    quality_report: str | None


Summary = TypeVar("Summary", bound=RunSummary)


def run_flow(
    settings: Settings,
    *,
    now: dt.datetime,
    run: Callable[[Lakehouse], Summary],
    failure: Callable[[Summary], Exception],
    on_passed: Callable[[Summary], None] | None = None,
) -> Summary:
    """Run one ingest on the lakehouse, write its quality report (also for a failed batch),
    call ``on_passed`` for a loaded batch that passed, and raise ``failure`` for a failed one."""
    with Lakehouse(settings.lake_dir, catalog=settings.catalog) as lake:
        summary = run(lake)
        summary.quality_report = report_batch(lake, settings, summary=summary, now=now)
    if on_passed and summary.status == "loaded" and summary.validation == "passed":
        on_passed(summary)
    if summary.validation == "failed":
        raise failure(summary)
    return summary


@task(name="publish docs", cache_policy=NO_CACHE)
def publish_docs(settings: Settings, *, suite: str, batch_id: str) -> str:
    """Render the batch's Data Docs page and the site index (after the commit: it is
    presentation, not verdict); return the page's path."""
    from validations.docs import publish_suite_docs

    return publish_suite_docs(settings.gx_dir, suite=suite, batch_id=batch_id)
