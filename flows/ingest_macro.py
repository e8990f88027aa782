"""The Prefect macro ingest flow: FRED files -> raw -> validate -> vintages and curated, one commit.

A batch is identified by a hash of what the files held: the same files again find the batch in
meta.batches and write nothing. Only observations not loaded before are stored (the files hold
whole histories); a changed value of a stored observation is a revision, known from now on.
Raw, quarantine, vintages, curated, the validation result and the batch record are written in
one lakehouse transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import polars as pl
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows import batches, macro_rows
from flows.batches import DatasetIngestSummary
from flows.ingest import DataQualityError
from flows.macro_knowledge import knowledge_times
from flows.quality_report import report_batch
from flows.sources.base import SourceError
from flows.sources.fred import FredSource, MacroBatch
from quantlake.settings import Settings, load_settings
from validations.result import ValidationOutcome
from warehouse import schemas
from warehouse.lake import Lakehouse

DATASET = "macro"


@task(name="fetch macro", cache_policy=NO_CACHE)
def fetch(settings: Settings) -> MacroBatch:
    """Read the configured FRED files (local files: a failure is not worth retrying)."""
    if not settings.macro.paths:
        raise SourceError(
            "macro ingest needs QUANTLAKE_MACRO__DIRECTORY (a folder of FRED CSVs) or "
            "QUANTLAKE_MACRO__FILES"
        )
    return FredSource(settings.macro.paths, series=settings.macro.series).fetch()


@task(name="validate macro", cache_policy=NO_CACHE)
def validate(
    settings: Settings, raw: pl.DataFrame, *, batch_id: str, now: dt.datetime
) -> ValidationOutcome:
    """Run the macro-series Great Expectations suite and update Data Docs."""
    from validations.macro import validate_macro

    return validate_macro(
        raw,
        today=now.date(),
        max_quarantine_fraction=settings.gates.max_quarantine_fraction,
        context_dir=settings.gx_dir,
        batch_id=batch_id,
    )


@task(name="commit macro", cache_policy=NO_CACHE)
def commit(
    lake: Lakehouse,
    raw: pl.DataFrame,
    outcome: ValidationOutcome,
    *,
    batch: MacroBatch,
    batch_id: str,
    now: dt.datetime,
) -> tuple[int | None, list[str]]:
    """Write raw, quarantine, vintages, curated, validation result and batch record atomically;
    return the snapshot and the conflicts (revisions) the batch brought."""
    from validations.report import rule_rows

    new = macro_rows.vintage_rows(outcome.passed)
    series = new.get_column("series_id").unique().to_list()
    with lake.transaction(f"ingest {batch.source} macro", batch_id=batch_id) as txn:
        txn.append(schemas.RAW_MACRO, raw)
        txn.append(schemas.QUARANTINE_MACRO, outcome.quarantined)
        # Every stored vintage of the observations this batch touches, read before it writes.
        stored = (
            txn.query(
                "SELECT * FROM curated.macro_vintages WHERE list_contains(?, series_id)", [series]
            )
            .join(new.select(macro_rows.KEY).unique(), on=macro_rows.KEY, how="semi")
            .select(new.columns)
        )
        found = macro_rows.conflicts(stored, new)
        txn.merge(schemas.CURATED_MACRO_VINTAGES, new)
        txn.merge(schemas.CURATED_MACRO, macro_rows.curated_rows(macro_rows.chain(stored, new)))
        txn.append(
            schemas.VALIDATION_RESULTS, rule_rows(outcome, batch_id=batch_id, validated_at=now)
        )
        notes = [f"{r.origin}: {r.reason}" for r in batch.rejections]
        notes += [f"{len(found)} revision(s), e.g. {found[0]}"] if found else []
        record = batches.batch_row(
            batch=batch_id,
            source=batch.source,
            dataset=DATASET,
            now=now,
            dates=raw.get_column("observation_date"),
            rows_in=len(raw),
            outcome=outcome,
            notes=notes,
        )
        txn.append(schemas.BATCHES, record)
    return txn.snapshot_id, found


@flow(
    name="ingest-macro", description="Load macro series: FRED files -> raw -> validate -> curated."
)
def ingest_macro_flow(
    directory: str | None = None,
    now: dt.datetime | None = None,
    report_to_dagster: bool = True,
) -> DatasetIngestSummary:
    """Ingest the configured FRED files; raise DataQualityError when the batch fails."""
    settings = load_settings()
    if directory:
        macro = settings.macro.model_copy(update={"directory": Path(directory)})
        settings = settings.model_copy(update={"macro": macro})
    now = now or dt.datetime.now(dt.UTC)
    with Lakehouse(settings.lake_dir, catalog=settings.catalog) as lake:
        summary = run_ingest_macro(lake, settings, now=now)
        summary.quality_report = report_batch(lake, settings, summary=summary, now=now)
    if report_to_dagster and summary.status == "loaded" and summary.validation == "passed":
        batches.report(settings, summary, tables=(schemas.RAW_MACRO, schemas.CURATED_MACRO))
    if summary.validation == "failed":
        raise DataQualityError(
            f"macro batch {summary.batch_id} failed validation: {summary.message}; see "
            f"{summary.docs_path}"
        )
    return summary


def run_ingest_macro(
    lake: Lakehouse, settings: Settings, *, now: dt.datetime
) -> DatasetIngestSummary:
    """Fetch, validate and commit one macro batch (the body of the flow)."""
    logger = get_run_logger()
    batch = fetch(settings)
    source, obs = batch.source, batch.observations
    bid = batches.batch_id(source, obs, batch.rejections)
    summary = DatasetIngestSummary(
        source=source,
        dataset=DATASET,
        status="loaded",
        batch_id=bid,
        rows_in=len(obs),
        rejections=[f"{r.origin}: {r.reason}" for r in batch.rejections],
        watermark=batches.watermark(lake, schemas.RAW_MACRO, source=source, dataset=DATASET),
    )
    if (stored := batches.stored_batch(lake, bid)) is not None:
        logger.info("macro batch %s is already in the lakehouse (%s)", bid, stored[0])
        # A batch that failed before fails again: the same data cannot have become valid.
        return replace(summary, status="already_loaded", validation=stored[0], message=stored[1])
    if obs.is_empty() and not batch.rejections:
        return replace(summary, status="up_to_date", message="the files hold no observations")
    seen = batches.passed_rows(lake, schemas.RAW_MACRO, _STORED_SQL, source=source, dataset=DATASET)
    new, revised = macro_rows.new_observations(obs, seen)
    if new.is_empty() and not obs.is_empty():
        return replace(summary, status="up_to_date", message="every observation is loaded already")
    timed = knowledge_times(new, settings.macro, revised=revised, ingested_at=now)
    raw = macro_rows.raw_rows(timed, source=source, batch_id=bid, ingested_at=now)
    outcome = validate(settings, raw, batch_id=bid, now=now)
    if raw.is_empty():
        # Every input was rejected: there is no data, and that must not look like a quiet day.
        notes = "; ".join(summary.rejections)
        outcome = replace(outcome, status="failed", message=f"no usable rows: {notes}")
    snapshot, found = commit(lake, raw, outcome, batch=batch, batch_id=bid, now=now)
    logger.info("macro batch %s: %s (snapshot %s)", bid, outcome.message, snapshot)
    return _loaded(summary, raw, outcome, conflicts=found, snapshot=snapshot)


# Per observation, the raw rows of passed batches the novelty check compares with: every row
# with a stated vintage, and the latest row received without one.
_STORED_SQL = (
    "r.series_id, r.observation_date, r.realtime_start, r.value_text, "
    "row_number() OVER (PARTITION BY r.series_id, r.observation_date, r.realtime_start IS NULL "
    "ORDER BY r.ingested_at DESC, r.row_number DESC) = 1 AS latest"
)


def _loaded(
    summary: DatasetIngestSummary,
    raw: pl.DataFrame,
    outcome: ValidationOutcome,
    *,
    conflicts: list[str],
    snapshot: int | None,
) -> DatasetIngestSummary:
    dates = raw.get_column("observation_date").drop_nulls()
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
        conflicts=conflicts,
        first_date=dates.min() if len(dates) else None,
        last_date=dates.max() if len(dates) else None,
        snapshot_id=snapshot,
        docs_path=outcome.docs_path,
        message=outcome.message,
    )
