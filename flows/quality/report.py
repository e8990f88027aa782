"""The per-run data quality report: build it from the lakehouse, store it, render it, load it.

A run is a set of batches (given by id, or every batch committed after a snapshot). The report
has one row per (source, dataset, symbol) of the run and a total row per (source, dataset):
rows in, passed and quarantined (by rule, with an example), conflicting values, calendar gaps
and unadjusted splits in curated daily bars, and freshness (a verdict per source and symbol in
the rows' details, flows/quality/freshness.py). It is written to meta.quality_reports and as a
self-contained HTML page under ``<data_dir>/reports``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl

from flows.quality import reads
from flows.quality.freshness import FreshnessRules, rules_from
from flows.quality.html import render_quality_html
from flows.quality.report_data import NoQualityReport, QualityReport
from flows.quality.rows import Findings, report_rows
from quantlake.settings import Settings
from validations.gaps import calendar_gaps
from validations.splits import detect_splits
from warehouse import schemas
from warehouse.lake import Lakehouse


def build_quality_report(
    lake: Lakehouse,
    *,
    batch_ids: Sequence[str] | None = None,
    since_snapshot: int | None = None,
    now: dt.datetime,
    exchange: str = "XNYS",
    run_id: str | None = None,
    freshness: FreshnessRules | None = None,
) -> QualityReport:
    """Assemble the quality report of the given batches, or of those committed after a snapshot.

    ``run_id`` defaults to one derived from ``now`` and the batch ids, so building the same
    report twice gives the same rows. ``freshness`` (default: the settings' defaults on
    ``exchange``) says when data counts as stale.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (UTC)")
    rules = freshness or FreshnessRules(exchange=exchange)
    if rules.exchange != exchange:
        raise ValueError(f"freshness rules are for {rules.exchange}, the report for {exchange}")
    now = now.astimezone(dt.UTC)
    batches = reads.run_batches(lake, batch_ids=batch_ids, since_snapshot=since_snapshot)
    ids = batches.get_column("batch_id").to_list()
    run_id = run_id or default_run_id(ids, now=now)
    frames, detected = [], []
    for dataset in sorted(batches.get_column("dataset").unique()):
        if dataset not in reads.SPECS:
            raise ValueError(
                f"meta.batches has dataset {dataset!r}, which the quality report does not know; "
                f"add it to flows/quality/reads.py SPECS (known: {sorted(reads.SPECS)})"
            )
        mine = batches.filter(pl.col("dataset") == dataset)
        findings = _findings(lake, reads.SPECS[dataset], mine, exchange=exchange)
        detected.extend(findings.splits)
        frames.append(report_rows(findings, run_id=run_id, created_at=now, rules=rules))
    rows = pl.concat(frames) if frames else schemas.QUALITY_REPORTS.frame([])
    return QualityReport(run_id, now, rows, tuple(detected))


def _findings(
    lake: Lakehouse, spec: reads.DatasetSpec, batches: pl.DataFrame, *, exchange: str
) -> Findings:
    ids = batches.get_column("batch_id").to_list()
    counts = reads.row_counts(lake, spec, ids)
    symbols = sorted(set(counts.get_column("symbol")) - {reads.NO_SYMBOL})
    gaps, splits, cadences = None, (), {}
    if spec.dataset == "macro":
        cadences = reads.macro_frequencies(lake, symbols)
    if spec.dataset == "daily_bars":
        everyone = reads.daily_sessions(lake)
        gaps = calendar_gaps(everyone, exchange=exchange)
        splits = tuple(detect_splits(reads.daily_bars(lake, ids)))
    return Findings(
        dataset=spec.dataset,
        batches=batches,
        counts=counts,
        rules=reads.quarantined(lake, spec, ids),
        quarantined=reads.quarantined_rows(lake, spec, ids),
        conflicts=reads.conflicts(lake, spec, ids),
        freshness=reads.freshness(lake, spec, symbols),
        failed_rules=reads.failed_rules(lake, ids),
        gaps=gaps,
        splits=splits,
        frequencies=cadences,
    )


def default_run_id(batch_ids: Sequence[str], *, now: dt.datetime) -> str:
    """Return a run id from the time and the batches: ``20240105T223000-1a2b3c4d``."""
    digest = hashlib.sha256("\0".join(sorted(batch_ids)).encode()).hexdigest()[:8]
    return f"{now.astimezone(dt.UTC):%Y%m%dT%H%M%S}-{digest}"


def report_path(reports_dir: Path, run_id: str) -> Path:
    """Return where the HTML page of ``run_id`` lives: ``<reports_dir>/quality-<run>.html``."""
    return Path(reports_dir) / f"quality-{re.sub(r'[^A-Za-z0-9._-]', '_', run_id)}.html"


def write_quality_report(lake: Lakehouse, report: QualityReport, *, reports_dir: Path) -> Path:
    """Store the report's rows (idempotent) and write its HTML page; return the page's path."""

    with lake.transaction("quality report", run_id=report.run_id) as txn:
        txn.merge(schemas.QUALITY_REPORTS, report.rows)
    path = report_path(reports_dir, report.run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_quality_html(report), encoding="utf-8")
    return path


def load_quality_report(lake: Lakehouse, *, run_id: str | None = None) -> QualityReport:
    """Return a stored report: ``run_id``'s, or the latest one."""
    if run_id is None:
        latest = lake.query(
            "SELECT run_id FROM meta.quality_reports ORDER BY created_at DESC, run_id DESC LIMIT 1"
        )
        if latest.is_empty():
            raise NoQualityReport(
                "no quality report in the lakehouse yet: run an ingest (quantlake ingest) first"
            )
        run_id = latest.item()
    rows = lake.read(
        schemas.QUALITY_REPORTS,
        where="run_id = ?",
        params=[run_id],
        order_by="source, dataset, symbol",
    )
    if rows.is_empty():
        raise NoQualityReport(
            f"no quality report with run id {run_id!r}; `quantlake quality --help` shows how "
            "to list the latest one"
        )
    return QualityReport(run_id, rows.get_column("created_at").max(), rows)


def recent_runs(lake: Lakehouse, *, limit: int = 10) -> pl.DataFrame:
    """Return the latest report runs, newest first: run_id, created_at, sources, symbols, status."""
    return lake.query(
        "SELECT run_id, max(created_at) AS created_at, count(*) FILTER (symbol = ?) AS sources, "
        "count(*) FILTER (symbol <> ?) AS symbols, "
        "['failed', 'warning', 'ok'][min(list_position(['failed', 'warning', 'ok'], status))] "
        "AS status FROM meta.quality_reports GROUP BY run_id "
        "ORDER BY created_at DESC, run_id DESC LIMIT ?",
        [reads.ALL_SYMBOLS, reads.ALL_SYMBOLS, limit],
    )


def report_batch(
    lake: Lakehouse, settings: Settings, *, summary: Any, now: dt.datetime
) -> str | None:
    """Build and store the quality report of an ingest run's batch; return its HTML page.

    Every ingest flow calls this after its commit, also for a failed batch (that is when people
    need the report most). A run that loaded nothing new gets no report, except when it found
    its batch already loaded but never reported: a run killed between the batch's commit and
    its report leaves that, and the rerun writes the missing report.
    """
    if summary.batch_id is None or summary.status not in ("loaded", "already_loaded"):
        return None
    if summary.status == "already_loaded" and _reported(lake, summary.batch_id):
        return None
    report = build_quality_report(
        lake,
        batch_ids=[summary.batch_id],
        now=now,
        exchange=settings.exchange,
        freshness=rules_from(settings),
    )
    return str(write_quality_report(lake, report, reports_dir=settings.data_dir / "reports"))


def _reported(lake: Lakehouse, batch_id: str) -> bool:
    """Return whether a stored quality report covers ``batch_id``."""
    found = lake.query(
        "SELECT count(*) FROM meta.quality_reports "
        "WHERE list_contains(CAST(json_extract_string(batch_ids, '$[*]') AS VARCHAR[]), ?)",
        [batch_id],
    ).item()
    return found > 0
