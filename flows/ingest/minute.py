"""The Prefect minute-bar ingest flow: source -> raw -> validate -> curated, one atomic commit.

Each (source, symbol) has a watermark, the last ts of it loaded in a passed batch; a run fetches
up to the last whole minute before ``now`` and keeps only bars after their symbol's watermark.
A batch is identified by a hash of its content, so a rerun with nothing new writes nothing (no
snapshot). Raw, quarantine, curated, the validation rows and the batch record are written in
one lakehouse transaction. Where two bars share (symbol, ts) with different values, both stay
in raw, curated keeps the one known later, and the summary counts them as conflicts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, replace

import polars as pl
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.states import State

from flows.ingest import batches, minute_rows
from flows.ingest.daily import DataQualityError
from flows.ingest.dataset import publish_docs, run_flow
from flows.ingest.minute_commit import WrittenBatch, commit_minute_batch
from flows.sources.base import SourceError
from flows.sources.minute_bars import MinuteBatch
from flows.sources.minute_select import build_minute_source, minute_settings
from quantlake.settings import Settings, load_settings
from validations.minute_bars import SUITE
from validations.result import ValidationOutcome
from warehouse.lake import Lakehouse

EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# The ``name`` of each minute source (AlpacaMinuteSource, MinuteFileSource): raw.minute_bars and
# meta.batches record it, and watermarks are kept per source.
SOURCE_NAMES = {"alpaca": "alpaca_minute", "file": "minute_files"}


class MinuteDataQualityError(DataQualityError):
    """A minute batch failed its data contract; its good rows landed in curated."""


@dataclass
class MinuteIngestSummary:
    """What one minute-ingest run did."""

    source: str
    status: str  # loaded | already_loaded | up_to_date
    batch_id: str | None = None
    validation: str | None = None  # passed | failed
    rows_fetched: int = 0
    rows_in: int = 0
    rows_passed: int = 0
    rows_quarantined: int = 0
    conflicts: int = 0
    quarantined_by_rule: dict[str, int] = field(default_factory=dict)
    warnings: dict[str, int] = field(default_factory=dict)
    rejections: list[str] = field(default_factory=list)
    first_ts: dt.datetime | None = None
    last_ts: dt.datetime | None = None
    snapshot_id: int | None = None
    docs_path: str | None = None
    quality_report: str | None = None
    message: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def watermarks(lake: Lakehouse, source: str) -> pl.DataFrame:
    """Return (symbol, watermark): the last ts per symbol of the source's passed batches."""
    return lake.query(
        "SELECT r.symbol, max(r.ts) AS watermark FROM raw.minute_bars r "
        "JOIN meta.batches b ON b.batch_id = r.batch_id "
        "WHERE r.source = ? AND b.status = 'passed' AND r.symbol IS NOT NULL GROUP BY r.symbol",
        [source],
    )


def plan_start(marks: pl.DataFrame, wanted: tuple[str, ...], first: dt.datetime) -> dt.datetime:
    """Return the earliest instant any wanted symbol still needs (``first`` for a new one)."""
    known = dict(marks.iter_rows())
    starts = [known[s] + dt.timedelta(minutes=1) if s in known else first for s in wanted]
    return min(starts, default=first)


def _transient(task: object, task_run: object, state: State) -> bool:
    """Retry only failures that may pass: not missing folders, refused keys or bad requests."""
    try:
        state.result()
    except SourceError as exc:
        return exc.transient
    except Exception:  # noqa: BLE001 - anything unexpected from a remote source: retry it
        return True
    return False


@task(
    name="fetch minute bars",
    retries=2,
    retry_delay_seconds=[10, 60],
    retry_condition_fn=_transient,
    cache_policy=NO_CACHE,
)
def fetch_minutes(
    settings: Settings, *, start: dt.datetime, end: dt.datetime, symbols: tuple[str, ...] | None
) -> MinuteBatch:
    """Fetch the window's minute bars from the configured source."""
    return build_minute_source(settings).fetch(start=start, end=end, symbols=symbols)


@task(name="validate minute bars", cache_policy=NO_CACHE)
def validate_minutes(
    settings: Settings, raw: pl.DataFrame, *, batch_id: str, now: dt.datetime
) -> ValidationOutcome:
    """Run the minute-bars suite (GX over the batch profile); GX stores the result."""
    from validations.minute_bars_validate import validate_minute_bars

    return validate_minute_bars(
        raw,
        now=now,
        symbol_patterns=settings.validation.symbol_patterns,
        max_jump=minute_settings(settings).max_jump,
        exchange=settings.exchange,
        max_quarantine_fraction=settings.gates.max_quarantine_fraction,
        context_dir=settings.gx_dir,
        batch_id=batch_id,
    )


commit_minutes = task(commit_minute_batch, name="commit minute batch", cache_policy=NO_CACHE)


@flow(name="ingest-minute", description="Load minute bars: source -> raw -> validate -> curated.")
def ingest_minute_flow(now: dt.datetime | None = None) -> MinuteIngestSummary:
    """Ingest minute bars after each symbol's watermark; fail the run when the batch fails."""
    settings = load_settings()
    at = now or dt.datetime.now(dt.UTC)
    return run_flow(
        settings,
        now=at,
        run=lambda lake: run_minute_ingest(lake, settings, now=at),
        failure=_failure,
    )


def _failure(summary: MinuteIngestSummary) -> MinuteDataQualityError:
    stored = (
        f"its {summary.rows_passed:,} good rows are in curated.minute_bars"
        if summary.rows_passed
        else "none of its rows passed: nothing reached curated.minute_bars"
    )
    return MinuteDataQualityError(
        f"minute batch {summary.batch_id} failed validation: {summary.message}; {stored}, "
        f"see {summary.docs_path}"
    )


def run_minute_ingest(
    lake: Lakehouse, settings: Settings, *, now: dt.datetime
) -> MinuteIngestSummary:
    """Fetch, validate and commit one minute batch (the body of the flow)."""
    logger = get_run_logger()
    minute = minute_settings(settings)
    end = now.astimezone(dt.UTC).replace(second=0, microsecond=0)  # whole minutes only
    wanted = minute.symbols + minute.crypto_symbols
    source_name = SOURCE_NAMES[minute.source]
    marks = watermarks(lake, source_name)
    first = minute.history_start or EARLIEST
    start = plan_start(marks, wanted, first) if minute.source == "alpaca" else EARLIEST
    if start >= end:
        return MinuteIngestSummary(source_name, "up_to_date", message=f"nothing before {end}")
    fetched = fetch_minutes(settings, start=start, end=end, symbols=wanted or None)
    batch = replace(fetched, bars=minute_rows.after_watermarks(fetched.bars, marks))
    if batch.bars.is_empty() and not batch.rejections:
        return MinuteIngestSummary(
            batch.source, "up_to_date", rows_fetched=fetched.bars.height, message="no new bars"
        )
    bid = minute_rows.minute_batch_id(batch)
    if (stored := batches.stored_batch(lake, bid)) is not None:
        status, message = stored
        logger.info("minute batch %s is already in the lakehouse (%s)", bid, status)
        return MinuteIngestSummary(batch.source, "already_loaded", bid, status, message=message)
    raw = minute_rows.raw_minute_rows(
        batch, batch_id=bid, ingested_at=now, exchange=settings.exchange
    )
    outcome = validate_minutes(settings, raw, batch_id=bid, now=now)
    if raw.is_empty():
        notes = "; ".join(f"{r.origin}: {r.reason}" for r in batch.rejections)
        outcome = replace(outcome, status="failed", message=f"no usable rows: {notes}")
    written = commit_minutes(lake, batch, raw, outcome, batch_id=bid, now=now)
    outcome = replace(outcome, docs_path=publish_docs(settings, suite=SUITE, batch_id=bid))
    logger.info("minute batch %s: %s (snapshot %s)", bid, outcome.message, written.snapshot_id)
    return _summary(batch, raw, outcome, fetched=fetched.bars.height, written=written)


def _summary(
    batch: MinuteBatch,
    raw: pl.DataFrame,
    outcome: ValidationOutcome,
    *,
    fetched: int,
    written: WrittenBatch,
) -> MinuteIngestSummary:
    quarantined = outcome.quarantined
    by_rule = dict(quarantined.group_by("rule").len().sort("rule").iter_rows())
    stamps = raw.get_column("ts").drop_nulls()
    return MinuteIngestSummary(
        source=batch.source,
        status="loaded",
        batch_id=written.batch_id,
        validation=outcome.status,
        rows_fetched=fetched,
        rows_in=raw.height,
        rows_passed=outcome.passed.height,
        rows_quarantined=outcome.rows_quarantined,
        conflicts=written.conflicts,
        quarantined_by_rule=by_rule,
        warnings={r.rule: r.unexpected_count for r in outcome.rules if r.severity == "warning"},
        rejections=[f"{r.origin}: {r.reason}" for r in batch.rejections],
        first_ts=stamps.min() if len(stamps) else None,
        last_ts=stamps.max() if len(stamps) else None,
        snapshot_id=written.snapshot_id,
        docs_path=outcome.docs_path,
        message=outcome.message,
    )
