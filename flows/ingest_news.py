"""The Prefect news ingest flow: files -> raw -> validate -> curated items and tags, one commit.

A batch is identified by a hash of what the files held: the same files again find the batch in
meta.batches and write nothing. Only items (content id and symbol) not loaded before are stored.
Raw, quarantine, curated news, symbol tags, the validation result and the batch record are
written in one lakehouse transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import polars as pl
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows import batches, news_rows
from flows.batches import DatasetIngestSummary
from flows.ingest import DataQualityError
from flows.quality_report import report_batch
from flows.sources.base import SourceError
from flows.sources.news import NewsBatch, NewsSource
from quantlake.settings import Settings, load_settings
from validations.result import ValidationOutcome
from warehouse import schemas
from warehouse.lake import Lakehouse

DATASET = "news"


@task(name="fetch news", cache_policy=NO_CACHE)
def fetch(settings: Settings) -> NewsBatch:
    """Read the configured news files (local files: a failure is not worth retrying)."""
    news = settings.news
    if not news.paths:
        raise SourceError(
            "news ingest needs QUANTLAKE_NEWS__DIRECTORY (a folder of news CSVs) or "
            "QUANTLAKE_NEWS__FILES"
        )
    return NewsSource(news.paths, encoding=news.encoding, zone_of=news.timezone).fetch()


@task(name="validate news", cache_policy=NO_CACHE)
def validate(
    settings: Settings, raw: pl.DataFrame, *, batch_id: str, now: dt.datetime
) -> ValidationOutcome:
    """Run the news Great Expectations suite and update Data Docs."""
    from validations.news import validate_news

    return validate_news(
        raw,
        today=now.date(),
        max_quarantine_fraction=settings.gates.max_quarantine_fraction,
        context_dir=settings.gx_dir,
        batch_id=batch_id,
    )


@task(name="commit news", cache_policy=NO_CACHE)
def commit(
    lake: Lakehouse,
    raw: pl.DataFrame,
    outcome: ValidationOutcome,
    *,
    settings: Settings,
    batch: NewsBatch,
    batch_id: str,
    now: dt.datetime,
) -> int | None:
    """Write raw, quarantine, curated items and tags, validation result and batch record
    atomically; return the snapshot (None when nothing changed)."""
    from validations.report import rule_rows

    aliases = settings.news.symbol_aliases
    with lake.transaction(f"ingest {batch.source} news", batch_id=batch_id) as txn:
        txn.append(schemas.RAW_NEWS, raw)
        txn.append(schemas.QUARANTINE_NEWS, outcome.quarantined)
        txn.insert_missing(schemas.CURATED_NEWS, news_rows.curated_rows(outcome.passed))
        tags = news_rows.symbol_rows(outcome.passed, aliases=aliases)
        txn.insert_missing(schemas.CURATED_NEWS_SYMBOLS, tags)
        txn.append(
            schemas.VALIDATION_RESULTS, rule_rows(outcome, batch_id=batch_id, validated_at=now)
        )
        record = batches.batch_row(
            batch=batch_id,
            source=batch.source,
            dataset=DATASET,
            now=now,
            dates=raw.get_column("published_at").dt.date(),
            rows_in=len(raw),
            outcome=outcome,
            notes=[f"{r.origin}: {r.reason}" for r in batch.rejections],
        )
        txn.append(schemas.BATCHES, record)
    return txn.snapshot_id


@flow(name="ingest-news", description="Load news and posts: files -> raw -> validate -> curated.")
def ingest_news_flow(
    directory: str | None = None,
    now: dt.datetime | None = None,
    report_to_dagster: bool = True,
) -> DatasetIngestSummary:
    """Ingest the configured news files; raise DataQualityError when the batch fails."""
    settings = load_settings()
    if directory:
        news = settings.news.model_copy(update={"directory": Path(directory)})
        settings = settings.model_copy(update={"news": news})
    now = now or dt.datetime.now(dt.UTC)
    with Lakehouse(settings.lake_dir, catalog=settings.catalog) as lake:
        summary = run_ingest_news(lake, settings, now=now)
        summary.quality_report = report_batch(lake, settings, summary=summary, now=now)
    if report_to_dagster and summary.status == "loaded" and summary.validation == "passed":
        batches.report(settings, summary, tables=(schemas.RAW_NEWS, schemas.CURATED_NEWS))
    if summary.validation == "failed":
        raise DataQualityError(
            f"news batch {summary.batch_id} failed validation: {summary.message}; see "
            f"{summary.docs_path}"
        )
    return summary


def run_ingest_news(
    lake: Lakehouse, settings: Settings, *, now: dt.datetime
) -> DatasetIngestSummary:
    """Fetch, validate and commit one news batch (the body of the flow)."""
    logger = get_run_logger()
    batch = fetch(settings)
    source, items = batch.source, batch.items
    logger.info("news files decoded as %s", batch.encodings)
    bid = batches.batch_id(source, items, batch.rejections)
    summary = DatasetIngestSummary(
        source=source,
        dataset=DATASET,
        status="loaded",
        batch_id=bid,
        rows_in=len(items),
        rejections=[f"{r.origin}: {r.reason}" for r in batch.rejections],
        watermark=batches.watermark(lake, schemas.RAW_NEWS, source=source, dataset=DATASET),
    )
    if (stored := batches.stored_batch(lake, bid)) is not None:
        logger.info("news batch %s is already in the lakehouse (%s)", bid, stored[0])
        # A batch that failed before fails again: the same data cannot have become valid.
        return replace(summary, status="already_loaded", validation=stored[0], message=stored[1])
    if items.is_empty() and not batch.rejections:
        return replace(summary, status="up_to_date", message="the files hold no items")
    derived = news_rows.with_derived(items, ingested_at=now)
    seen = batches.passed_rows(
        lake, schemas.RAW_NEWS, "r.content_id, r.symbol", source=source, dataset=DATASET
    )
    new = news_rows.new_items(derived, seen)
    if new.is_empty() and not items.is_empty():
        return replace(summary, status="up_to_date", message="every item is loaded already")
    raw = news_rows.raw_rows(new, source=source, batch_id=bid, ingested_at=now)
    outcome = validate(settings, raw, batch_id=bid, now=now)
    if raw.is_empty():
        # Every input was rejected: there is no data, and that must not look like a quiet day.
        notes = "; ".join(summary.rejections)
        outcome = replace(outcome, status="failed", message=f"no usable rows: {notes}")
    snapshot = commit(lake, raw, outcome, settings=settings, batch=batch, batch_id=bid, now=now)
    logger.info("news batch %s: %s (snapshot %s)", bid, outcome.message, snapshot)
    return _loaded(summary, raw, outcome, snapshot=snapshot)


def _loaded(
    summary: DatasetIngestSummary,
    raw: pl.DataFrame,
    outcome: ValidationOutcome,
    *,
    snapshot: int | None,
) -> DatasetIngestSummary:
    dates = raw.get_column("published_at").drop_nulls().dt.date()
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
        first_date=dates.min() if len(dates) else None,
        last_date=dates.max() if len(dates) else None,
        snapshot_id=snapshot,
        docs_path=outcome.docs_path,
        message=outcome.message,
    )
