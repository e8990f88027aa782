"""The Prefect ingest flow: source -> raw -> validate -> curated (+ quarantine), one atomic commit.

A batch is identified by a hash of its content: loading the same data twice finds the batch
already in ``meta.batches`` and writes nothing. Raw, quarantine, curated, the validation result
and the batch record are written in one lakehouse transaction, so a crash at any point leaves
the lakehouse as it was before the batch.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import polars as pl
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.states import State

from flows.backfill import records as backfill_records
from flows.backfill.plan import resume_point
from flows.dagster_events import report_materializations
from flows.ingest import curate
from flows.ingest.daily_summary import IngestSummary, notes, skipped_by_reason
from flows.ingest.daily_summary import batch_row as _batch_row
from flows.ingest.daily_summary import ingest_summary as _summary
from flows.sources.base import SourceBatch, SourceError
from flows.sources.select import build_source
from quantlake.settings import Settings, load_settings
from validations.result import ValidationOutcome
from warehouse import calendar, schemas
from warehouse.lake import Lakehouse, Transaction
from warehouse.schemas import Dataset

# Rows to write in a batch's own transaction, given its batch id and validation outcome.
ExtraRows = Callable[[str, ValidationOutcome], Sequence[tuple[Dataset, pl.DataFrame]]]


class DataQualityError(RuntimeError):
    """A batch failed its data contract; its good rows landed but trading is gated."""


class EmptyWindow(SourceError):
    """The source returned no bars at all for a window that holds exchange sessions."""


def plan_window(
    lake: Lakehouse, settings: Settings, *, now: dt.datetime
) -> tuple[dt.date, dt.date]:
    """Return the sessions to fetch: after the source's watermark up to the last completed one."""
    # Only closed sessions: a bar for a session still trading is partial, whatever the source.
    end = calendar.last_completed_session(now, exchange=settings.exchange)
    source = settings.resolved_source
    if source == "file":
        # All of the files: a bar dated after ``end`` is delivered for validation to quarantine
        # (session_not_future), not dropped unseen.
        return dt.date(1900, 1, 1), dt.date.max
    # A failed batch does not move the watermark: its sessions are fetched again next time.
    # Batches of backfills and gap re-requests do not either (they may lie anywhere in time);
    # the passed windows they recorded are skipped only where they continue the watermark.
    watermark = lake.query(
        "SELECT max(last_session) AS w FROM meta.batches WHERE source = ? "
        "AND dataset = 'daily_bars' AND status = 'passed' "
        f"AND batch_id NOT IN ({backfill_records.COMMITTED_HERE})",
        [source],
    ).item()
    start = settings.history_start if watermark is None else watermark + dt.timedelta(days=1)
    recorded = backfill_records.recorded_windows(lake, source=source)
    if not recorded:
        return start, end
    last = max(r.last for r in recorded)
    days = calendar.sessions(start, last, exchange=settings.exchange)
    return resume_point(start, recorded, scope=settings.symbols, sessions=days), end


def _transient(task: object, task_run: object, state: State) -> bool:
    """Retry only failures that may pass: not refused keys, missing files or bad requests."""
    try:
        state.result()
    except SourceError as exc:
        return exc.transient
    except Exception:  # noqa: BLE001 - anything unexpected from a remote source: retry it
        return True
    return False


@task(
    name="fetch",
    retries=3,
    retry_delay_seconds=[2, 10, 30],
    retry_condition_fn=_transient,
    cache_policy=NO_CACHE,
)
def fetch(
    settings: Settings,
    *,
    start: dt.date,
    end: dt.date,
    symbols: tuple[str, ...] | None = None,
) -> SourceBatch:
    """Fetch the window's bars from the configured source (retried: sources are remote).

    ``symbols`` None means the configured ones (QUANTLAKE_SYMBOLS; none: all the source has).
    """
    wanted = symbols if symbols is not None else settings.symbols or None
    return build_source(settings).fetch(start=start, end=end, symbols=wanted)


@task(name="validate", cache_policy=NO_CACHE)
def validate(
    settings: Settings, raw: pl.DataFrame, *, batch_id: str, now: dt.datetime
) -> ValidationOutcome:
    """Run the daily-bars Great Expectations suite (its Data Docs page is rendered after the
    commit, by publish_docs).

    A bar may be for a session up to the last one closed at ``now``: one still trading is
    partial, one to come cannot be real.
    """
    from validations.validate import validate_bars

    contract = settings.validation
    return validate_bars(
        raw,
        today=calendar.last_completed_session(now, exchange=settings.exchange),
        symbol_pattern=contract.symbol_pattern(contract.daily_asset_class),
        stale_run_bars=contract.stale_run_bars,
        exchange=settings.exchange,
        max_quarantine_fraction=settings.gates.max_quarantine_fraction,
        context_dir=settings.gx_dir,
        batch_id=batch_id,
        render_docs=False,
    )


@task(name="commit", cache_policy=NO_CACHE)
def commit(
    lake: Lakehouse,
    batch: SourceBatch,
    raw: pl.DataFrame,
    outcome: ValidationOutcome,
    *,
    batch_id: str,
    now: dt.datetime,
    extra: Sequence[tuple[Dataset, pl.DataFrame]] = (),
) -> int | None:
    """Write raw, quarantine, curated, splits, validation result and batch record atomically,
    with ``extra`` rows merged in the same transaction."""
    from validations.validate import rule_rows

    splits = curate.split_rows(batch, batch_id=batch_id, ingested_at=now)
    with lake.transaction(f"ingest {batch.source}", batch_id=batch_id) as txn:
        txn.append(schemas.RAW_BARS, raw)
        new_splits = _new_splits(txn, splits)
        txn.insert_missing(schemas.RAW_CORPORATE_ACTIONS, splits)
        all_splits = txn.query("SELECT symbol, ex_session, split_ratio FROM raw.corporate_actions")
        if not new_splits.is_empty():
            stored = txn.query(
                "SELECT * FROM curated.bars WHERE list_contains(?, symbol)",
                [new_splits.get_column("symbol").unique().to_list()],
            )
            txn.merge(
                schemas.CURATED_BARS,
                curate.readjusted_rows(stored, new_splits=new_splits, knowledge_time=now),
            )
        txn.append(schemas.QUARANTINE_BARS, outcome.quarantined)
        txn.merge(
            schemas.CURATED_BARS,
            curate.curated_rows(outcome.passed, splits=all_splits, knowledge_time=now),
        )
        _adjust_detected_splits(txn, outcome.passed, batch_id=batch_id, now=now)
        txn.append(
            schemas.VALIDATION_RESULTS, rule_rows(outcome, batch_id=batch_id, validated_at=now)
        )
        txn.append(schemas.BATCHES, _batch_row(batch, raw, outcome, batch_id=batch_id, now=now))
        for dataset, rows in extra:
            txn.merge(dataset, rows)
    return txn.snapshot_id


def _adjust_detected_splits(
    txn: Transaction, passed: pl.DataFrame, *, batch_id: str, now: dt.datetime
) -> None:
    """Find splits no source reported (a price jump at a common ratio with the inverse volume
    jump) in the touched symbols' curated history; record them (source 'detected') and adjust
    the history before them. Curated bars are already adjusted for known splits, so only new
    ones are found and a rerun finds nothing."""
    from validations.splits import corporate_action_rows, detect_splits

    if passed.is_empty():
        return
    touched = passed.get_column("symbol").unique().to_list()
    stored = txn.query("SELECT * FROM curated.bars WHERE list_contains(?, symbol)", [touched])
    found = _new_splits(
        txn, corporate_action_rows(detect_splits(stored), batch_id=batch_id, ingested_at=now)
    )
    if found.is_empty():
        return
    txn.insert_missing(schemas.RAW_CORPORATE_ACTIONS, found)
    txn.merge(
        schemas.CURATED_BARS,
        curate.readjusted_rows(stored, new_splits=found, knowledge_time=now),
    )


def _new_splits(txn: Transaction, splits: pl.DataFrame) -> pl.DataFrame:
    """Return the splits in ``splits`` that raw.corporate_actions does not hold yet."""
    if splits.is_empty():
        return splits
    known = txn.query("SELECT symbol, ex_session FROM raw.corporate_actions")
    return splits.join(known, on=["symbol", "ex_session"], how="anti")


@flow(name="ingest", description="Load daily bars: source -> raw -> validate -> curated.")
def ingest_flow(
    source: str | None = None,
    file_path: str | None = None,
    now: dt.datetime | None = None,
    report_to_dagster: bool = True,
) -> IngestSummary:
    """Ingest the next window of daily bars; raise DataQualityError when the batch fails."""
    overrides: dict[str, object] = {}
    if source:
        overrides["source"] = source
    if file_path:
        overrides["file_path"] = Path(file_path)
    settings = load_settings(**overrides)
    now = now or dt.datetime.now(dt.UTC)
    with Lakehouse(settings.lake_dir, catalog=settings.catalog) as lake:
        summary = run_ingest(lake, settings, now=now)
        summary.quality_report = _quality_report(lake, settings, summary, now)
    if report_to_dagster and summary.status == "loaded" and summary.validation == "passed":
        _report(settings, summary)
    if summary.validation == "failed":
        stored = (
            f"Its {summary.rows_passed:,} good rows are in curated, but"
            if summary.rows_passed
            else "None of its rows passed, nothing reached curated, and"
        )
        raise DataQualityError(
            f"batch {summary.batch_id} failed validation: {summary.message}. {stored} trading "
            f"is gated until a passing batch lands; see {summary.docs_path}"
        )
    return summary


@task(name="publish docs", cache_policy=NO_CACHE)
def publish_docs(settings: Settings, *, batch_id: str) -> str:
    """Render the batch's Data Docs page from its stored Great Expectations result."""
    from validations.docs import publish_bar_docs

    return publish_bar_docs(settings.gx_dir, batch_id=batch_id)


@task(name="quality report", cache_policy=NO_CACHE)
def _quality_report(
    lake: Lakehouse, settings: Settings, summary: IngestSummary, now: dt.datetime
) -> str | None:
    """Write the batch's data quality report (lakehouse rows and an HTML page)."""
    from flows.quality.report import report_batch

    return report_batch(lake, settings, summary=summary, now=now)


def run_ingest(lake: Lakehouse, settings: Settings, *, now: dt.datetime) -> IngestSummary:
    """Fetch, validate and commit one batch (the body of the ingest flow)."""
    source = settings.resolved_source
    start, end = plan_window(lake, settings, now=now)
    if start > end:
        return IngestSummary(source=source, status="up_to_date", message=f"no session after {end}")
    return ingest_window(lake, settings, start=start, end=end, now=now)


def ingest_window(
    lake: Lakehouse,
    settings: Settings,
    *,
    start: dt.date,
    end: dt.date,
    now: dt.datetime,
    symbols: tuple[str, ...] | None = None,
    extra_rows: ExtraRows | None = None,
) -> IngestSummary:
    """Fetch the sessions [start, end] (for ``symbols``; None: the configured ones), validate
    them and commit them as one batch, then render its Data Docs page.

    ``extra_rows`` gives rows to write in the batch's own transaction. A batch already in the
    lakehouse is not written again (status ``already_loaded``). Raises EmptyWindow when the
    source returns nothing for a window holding sessions (the file source excepted).
    """
    logger = get_run_logger()
    source = settings.resolved_source
    batch = fetch(settings, start=start, end=end, symbols=symbols)
    bid = curate.batch_id(batch)
    if (loaded := _already_loaded(lake, source, bid)) is not None:
        logger.info(
            "batch %s is already in the lakehouse (%s); nothing to do", bid, loaded.validation
        )
        return loaded
    raw = curate.raw_rows(batch, batch_id=bid, ingested_at=now)
    if raw.is_empty() and not batch.rejections:
        expected = (
            [] if source == "file" else calendar.sessions(start, end, exchange=settings.exchange)
        )
        if expected:
            asked = f" for {', '.join(symbols)}" if symbols else ""
            raise EmptyWindow(
                f"{source} returned no bars{asked} for {len(expected)} session(s) {start} .. "
                f"{end}; check the source (symbols, subscription, data delay) and rerun"
            )
        return _nothing_new(batch)
    outcome = validate(settings, raw, batch_id=bid, now=now)
    if raw.is_empty():
        # Every input was rejected: there is no data, and that must not look like a quiet day.
        notes = "; ".join(f"{r.origin}: {r.reason}" for r in batch.rejections)
        outcome = replace(outcome, status="failed", message=f"no usable rows: {notes}")
    extra = extra_rows(bid, outcome) if extra_rows else ()
    snapshot = commit(lake, batch, raw, outcome, batch_id=bid, now=now, extra=extra)
    # The Data Docs page is presentation, not verdict: rendered after the commit.
    outcome = replace(outcome, docs_path=publish_docs(settings, batch_id=bid))
    logger.info("batch %s: %s (snapshot %s)", bid, outcome.message, snapshot)
    return _summary(batch, raw, outcome, batch_id=bid, snapshot_id=snapshot)


def _nothing_new(batch: SourceBatch) -> IngestSummary:
    """Return the summary of a fetch that delivered no bars (its skipped rows counted)."""
    skipped = skipped_by_reason(batch)
    words = "; ".join(notes(batch))
    return IngestSummary(
        source=batch.source,
        status="up_to_date",
        rows_received=sum(skipped.values()),
        rows_skipped=sum(skipped.values()),
        skipped_by_reason=skipped,
        rejections=notes(batch),
        message="no new bars" + (f"; {words}" if words else ""),
    )


def _already_loaded(lake: Lakehouse, source: str, bid: str) -> IngestSummary | None:
    """Return the summary of a batch already in meta.batches, or None."""
    stored = lake.query("SELECT status, message FROM meta.batches WHERE batch_id = ?", [bid])
    if stored.is_empty():
        return None
    status, message = stored.row(0)
    # A batch that failed before fails again: the same data cannot have become valid.
    return IngestSummary(
        source=source, status="already_loaded", batch_id=bid, validation=status, message=message
    )


def _report(settings: Settings, summary: IngestSummary) -> None:
    meta = {
        "batch_id": summary.batch_id,
        "source": summary.source,
        "rows": summary.rows_passed,
        "quarantined": summary.rows_quarantined,
        "snapshot_id": summary.snapshot_id,
        "last_session": str(summary.last_session),
    }
    report_materializations(
        settings.dagster_home, [(["raw", "bars"], meta), (["curated", "bars"], meta)]
    )
