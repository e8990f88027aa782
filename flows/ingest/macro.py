"""The Prefect macro ingest flow: FRED files -> raw -> validate -> vintages and curated, one commit.

A batch is identified by a hash of what the files held: the same files again find the batch in
meta.batches and write nothing. Only observations not loaded before are stored (the files hold
whole histories); a changed value of a stored observation is a revision, known from now on.
Raw, quarantine, vintages, curated, the validation result and the batch record are written in
one lakehouse transaction; the batch's Data Docs page is rendered after it. The steps every
file-fed dataset shares are in flows/ingest/files.py.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.ingest import batches, macro_rows
from flows.ingest.batches import DatasetIngestSummary
from flows.ingest.files import Committed, Fetched, FileDataset, run_files, run_files_flow
from flows.ingest.macro_knowledge import knowledge_times
from flows.sources.base import SourceError
from flows.sources.fred import FredSource, MacroBatch
from quantlake.settings import Settings
from validations.macro import SUITE, validate_macro
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


@task(name="commit macro", cache_policy=NO_CACHE)
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
    """Write raw, quarantine, vintages, curated, validation result and batch record atomically;
    return the snapshot and the conflicts (revisions) the batch brought."""
    from validations.report import rule_rows

    new = macro_rows.vintage_rows(outcome.passed)
    series = new.get_column("series_id").unique().to_list()
    with lake.transaction(f"ingest {fetched.source} macro", batch_id=batch_id) as txn:
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
        notes = [f"{r.origin}: {r.reason}" for r in fetched.rejections]
        notes += [f"{len(found)} revision(s), e.g. {found[0]}"] if found else []
        record = batches.batch_row(
            batch=batch_id,
            source=fetched.source,
            dataset=DATASET,
            now=now,
            dates=_dates(raw),
            rows_in=len(raw),
            outcome=outcome,
            notes=notes,
        )
        txn.append(schemas.BATCHES, record)
    return Committed(txn.snapshot_id, found)


@flow(
    name="ingest-macro", description="Load macro series: FRED files -> raw -> validate -> curated."
)
def ingest_macro_flow(
    directory: str | None = None,
    now: dt.datetime | None = None,
    report_to_dagster: bool = True,
) -> DatasetIngestSummary:
    """Ingest the configured FRED files; raise DataQualityError when the batch fails."""
    return run_files_flow(MACRO, directory=directory, now=now, report_to_dagster=report_to_dagster)


def run_ingest_macro(
    lake: Lakehouse, settings: Settings, *, now: dt.datetime
) -> DatasetIngestSummary:
    """Fetch, validate and commit one macro batch (the body of the flow)."""
    return run_files(lake, settings, MACRO, now=now)


def _fetched(settings: Settings) -> Fetched:
    batch = fetch(settings)
    return Fetched(batch.source, batch.observations, batch.rejections, batch)


def _new_rows(
    lake: Lakehouse, settings: Settings, fetched: Fetched, batch_id: str, now: dt.datetime
) -> pl.DataFrame:
    """Return the raw rows of the observations (and revisions) no passed batch holds yet."""
    source = fetched.source
    seen = batches.passed_rows(lake, schemas.RAW_MACRO, _STORED_SQL, source=source, dataset=DATASET)
    new, revised = macro_rows.new_observations(fetched.rows, seen)
    timed = knowledge_times(new, settings.macro, revised=revised, ingested_at=now)
    return macro_rows.raw_rows(timed, source=source, batch_id=batch_id, ingested_at=now)


def _dates(raw: pl.DataFrame) -> pl.Series:
    return raw.get_column("observation_date")


# Per observation, the raw rows of passed batches the novelty check compares with: every row
# with a stated vintage, and the latest row received without one.
_STORED_SQL = (
    "r.series_id, r.observation_date, r.realtime_start, r.value_text, "
    "row_number() OVER (PARTITION BY r.series_id, r.observation_date, r.realtime_start IS NULL "
    "ORDER BY r.ingested_at DESC, r.row_number DESC) = 1 AS latest"
)

MACRO = FileDataset(
    dataset=DATASET,
    noun="observation",
    raw=schemas.RAW_MACRO,
    reported=(schemas.RAW_MACRO, schemas.CURATED_MACRO),
    suite=SUITE,
    fetch=_fetched,
    new_rows=_new_rows,
    validator=validate_macro,
    commit=commit,
    dates=_dates,
)
