"""The Prefect news ingest flow: files -> raw -> validate -> curated items and tags, one commit.

A batch is identified by a hash of what the files held: the same files again find the batch in
meta.batches and write nothing. Only items (content id and symbol) not loaded before are stored.
Raw, quarantine, curated news, symbol tags, the validation result and the batch record are
written in one lakehouse transaction; the batch's Data Docs page is rendered after it. The
steps every file-fed dataset shares are in flows/ingest/files.py.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.ingest import batches, news_rows
from flows.ingest.batches import DatasetIngestSummary
from flows.ingest.files import Committed, Fetched, FileDataset, run_files, run_files_flow
from flows.sources.base import SourceError
from flows.sources.news import NewsBatch, NewsSource
from quantlake.settings import Settings
from validations.news import SUITE, validate_news
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


@task(name="commit news", cache_policy=NO_CACHE)
def commit(
    lake: Lakehouse,
    raw: pl.DataFrame,
    outcome: ValidationOutcome,
    *,
    settings: Settings,
    fetched: Fetched,
    batch_id: str,
    now: dt.datetime,
) -> Committed:
    """Write raw, quarantine, curated items and tags, validation result and batch record
    atomically; return the snapshot (None when nothing changed)."""
    from validations.report import rule_rows

    aliases = settings.news.symbol_aliases
    with lake.transaction(f"ingest {fetched.source} news", batch_id=batch_id) as txn:
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
            source=fetched.source,
            dataset=DATASET,
            now=now,
            dates=_dates(raw),
            rows_in=len(raw),
            outcome=outcome,
            notes=[f"{r.origin}: {r.reason}" for r in fetched.rejections],
        )
        txn.append(schemas.BATCHES, record)
    return Committed(txn.snapshot_id)


@flow(name="ingest-news", description="Load news and posts: files -> raw -> validate -> curated.")
def ingest_news_flow(
    directory: str | None = None,
    now: dt.datetime | None = None,
    report_to_dagster: bool = True,
) -> DatasetIngestSummary:
    """Ingest the configured news files; raise DataQualityError when the batch fails."""
    return run_files_flow(NEWS, directory=directory, now=now, report_to_dagster=report_to_dagster)


def run_ingest_news(
    lake: Lakehouse, settings: Settings, *, now: dt.datetime
) -> DatasetIngestSummary:
    """Fetch, validate and commit one news batch (the body of the flow)."""
    return run_files(lake, settings, NEWS, now=now)


def _fetched(settings: Settings) -> Fetched:
    batch = fetch(settings)
    get_run_logger().info("news files decoded as %s", batch.encodings)
    return Fetched(batch.source, batch.items, batch.rejections, batch)


def _new_rows(
    lake: Lakehouse, settings: Settings, fetched: Fetched, batch_id: str, now: dt.datetime
) -> pl.DataFrame:
    """Return the raw rows of the items (content id and symbol) no passed batch holds yet."""
    source = fetched.source
    derived = news_rows.with_derived(fetched.rows, ingested_at=now)
    seen = batches.passed_rows(
        lake, schemas.RAW_NEWS, "r.content_id, r.symbol", source=source, dataset=DATASET
    )
    new = news_rows.new_items(derived, seen)
    return news_rows.raw_rows(new, source=source, batch_id=batch_id, ingested_at=now)


def _dates(raw: pl.DataFrame) -> pl.Series:
    return raw.get_column("published_at").dt.date()


NEWS = FileDataset(
    dataset=DATASET,
    noun="item",
    raw=schemas.RAW_NEWS,
    reported=(schemas.RAW_NEWS, schemas.CURATED_NEWS),
    suite=SUITE,
    fetch=_fetched,
    new_rows=_new_rows,
    validator=validate_news,
    commit=commit,
    dates=_dates,
)
