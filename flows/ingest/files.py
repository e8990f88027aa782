"""What the macro and news ingest flows share: everything but their files' own steps.

Each fetches files, keeps what no passed batch holds yet, validates it, commits it in one
transaction and renders its Data Docs page; a :class:`FileDataset` holds what they do their
own way (fetch, what is new, which suite, what the commit writes).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import polars as pl
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.ingest import batches
from flows.ingest.batches import DatasetIngestSummary
from flows.ingest.daily import DataQualityError
from flows.ingest.dataset import publish_docs, run_flow
from flows.sources.base import Rejection
from quantlake.settings import Settings, load_settings
from validations.result import ValidationOutcome
from warehouse.lake import Lakehouse
from warehouse.schemas import Dataset


def with_folder(
    settings: Settings, group: Literal["macro", "news"], folder: str | None
) -> Settings:
    """Return ``settings`` with the group's files read from ``folder`` (None: as configured)."""
    if not folder:
        return settings
    changed = getattr(settings, group).model_copy(update={"directory": Path(folder)})
    return settings.model_copy(update={group: changed})


@task(name="validate", cache_policy=NO_CACHE)
def validate(
    settings: Settings,
    raw: pl.DataFrame,
    *,
    validator: Callable[..., ValidationOutcome],
    batch_id: str,
    now: dt.datetime,
) -> ValidationOutcome:
    """Run the dataset's Great Expectations suite on ``raw`` (GX stores the result)."""
    return validator(
        raw,
        today=now.date(),
        max_quarantine_fraction=settings.gates.max_quarantine_fraction,
        context_dir=settings.gx_dir,
        batch_id=batch_id,
    )


@dataclass(frozen=True)
class Fetched:
    """What a file source returned: its rows, the inputs that were not data, its own batch."""

    source: str
    rows: pl.DataFrame
    rejections: tuple[Rejection, ...]
    batch: Any  # MacroBatch or NewsBatch, for the dataset's commit


@dataclass(frozen=True)
class Committed:
    """What a commit wrote: its snapshot (None: nothing changed), and the revisions it found."""

    snapshot_id: int | None
    conflicts: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class FileDataset:
    """What one file-fed dataset does its own way; :func:`run_files` does the rest."""

    dataset: Literal["macro", "news"]  # as meta.batches and the settings group name it
    noun: str  # what one row is, for messages
    raw: Dataset
    reported: tuple[Dataset, ...]  # what a passed batch tells Dagster it wrote
    suite: str  # its Great Expectations suite
    fetch: Callable[[Settings], Fetched]
    # The raw rows of what no passed batch holds yet: (lake, settings, fetched, batch_id, now).
    new_rows: Callable[[Lakehouse, Settings, Fetched, str, dt.datetime], pl.DataFrame]
    # validations' validate_macro or validate_news: (raw, *, today, max_quarantine_fraction,
    # context_dir, batch_id).
    validator: Callable[..., ValidationOutcome]
    commit: Callable[..., Committed]  # (lake, raw, outcome, *, settings, fetched, batch_id, now)
    dates: Callable[[pl.DataFrame], pl.Series]  # the raw rows' event dates


def run_files_flow(
    spec: FileDataset, *, directory: str | None, now: dt.datetime | None, report_to_dagster: bool
) -> DatasetIngestSummary:
    """Run a file-fed dataset's flow: its files (or ``directory``'s) as one batch; raise
    DataQualityError when the batch fails."""
    settings = with_folder(load_settings(), spec.dataset, directory)
    at = now or dt.datetime.now(dt.UTC)

    def tell_dagster(summary: DatasetIngestSummary) -> None:
        batches.report(settings, summary, tables=spec.reported)

    return run_flow(
        settings,
        now=at,
        run=lambda lake: run_files(lake, settings, spec, now=at),
        failure=_failure,
        on_passed=tell_dagster if report_to_dagster else None,
    )


def _failure(summary: DatasetIngestSummary) -> DataQualityError:
    return DataQualityError(
        f"{summary.dataset} batch {summary.batch_id} failed validation: {summary.message}; "
        f"see {summary.docs_path}"
    )


def run_files(
    lake: Lakehouse, settings: Settings, spec: FileDataset, *, now: dt.datetime
) -> DatasetIngestSummary:
    """Fetch the dataset's files; validate and commit what they hold that is new, as one batch."""
    logger = get_run_logger()
    fetched = spec.fetch(settings)
    source, name = fetched.source, spec.dataset
    bid = batches.batch_id(source, fetched.rows, fetched.rejections)
    summary = DatasetIngestSummary(
        source=source,
        dataset=name,
        status="loaded",
        batch_id=bid,
        rows_in=len(fetched.rows),
        rejections=[f"{r.origin}: {r.reason}" for r in fetched.rejections],
        watermark=batches.watermark(lake, spec.raw, source=source, dataset=name),
    )
    if (stored := batches.stored_batch(lake, bid)) is not None:
        logger.info("%s batch %s is already in the lakehouse (%s)", name, bid, stored[0])
        # A batch that failed before fails again: the same data cannot have become valid.
        return replace(summary, status="already_loaded", validation=stored[0], message=stored[1])
    if fetched.rows.is_empty() and not fetched.rejections:
        return replace(summary, status="up_to_date", message=f"the files hold no {spec.noun}s")
    raw = spec.new_rows(lake, settings, fetched, bid, now)
    if raw.is_empty() and not fetched.rows.is_empty():
        return replace(summary, status="up_to_date", message=f"every {spec.noun} is loaded already")
    checks = validate.with_options(name=f"validate {name}")
    outcome = checks(settings, raw, validator=spec.validator, batch_id=bid, now=now)
    if raw.is_empty():
        # Every input was rejected: there is no data, and that must not look like a quiet day.
        notes = "; ".join(summary.rejections)
        outcome = replace(outcome, status="failed", message=f"no usable rows: {notes}")
    done = spec.commit(
        lake, raw, outcome, settings=settings, fetched=fetched, batch_id=bid, now=now
    )
    outcome = replace(outcome, docs_path=publish_docs(settings, suite=spec.suite, batch_id=bid))
    logger.info("%s batch %s: %s (snapshot %s)", name, bid, outcome.message, done.snapshot_id)
    return _loaded(summary, raw, outcome, dates=spec.dates(raw), done=done)


def _loaded(
    summary: DatasetIngestSummary,
    raw: pl.DataFrame,
    outcome: ValidationOutcome,
    *,
    dates: pl.Series,
    done: Committed,
) -> DatasetIngestSummary:
    dates = dates.drop_nulls()
    mark = summary.watermark
    late = raw.filter(pl.col("knowledge_time") <= mark).height if mark is not None else 0
    return replace(
        summary,
        validation=outcome.status,
        rows_new=len(raw),
        rows_passed=len(outcome.passed),
        rows_quarantined=outcome.rows_quarantined,
        rows_late=late,
        quarantined_by_rule=batches.quarantined_by_rule(outcome),
        conflicts=done.conflicts,
        first_date=dates.min() if len(dates) else None,
        last_date=dates.max() if len(dates) else None,
        snapshot_id=done.snapshot_id,
        docs_path=outcome.docs_path,
        message=outcome.message,
    )
