"""Pure assembly of meta.quality_reports rows from what the report read and detected.

One row per (source, dataset, symbol) of the run, and a total row (symbol ``*``) per
(source, dataset). Status: ``failed`` when a batch failed (total) or none of a symbol's rows
passed; ``warning`` for quarantined rows, conflicts, gaps, detected splits, stale data or (total)
sessions every symbol lacks; ``ok`` otherwise.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from flows.quality.freshness import Freshness, FreshnessRules, summarize
from flows.quality.freshness_report import report_columns, row_freshness, source_rows
from flows.quality.reads import ALL_SYMBOLS
from validations.gaps import GapReport
from validations.splits import DetectedSplit
from warehouse import schemas

STATUS_ORDER = {"failed": 0, "warning": 1, "ok": 2}
MAX_LISTED = 100  # gap sessions kept in a row's details (the gaps column has the full count)


@dataclass(frozen=True)
class Findings:
    """Everything read or detected for one dataset of a run (frames as quality_reads returns)."""

    dataset: str
    batches: pl.DataFrame  # meta.batches rows
    counts: pl.DataFrame  # source, symbol, rows_in
    rules: pl.DataFrame  # source, symbol, rule, rows, example
    quarantined: pl.DataFrame  # source, symbol, rows_quarantined
    conflicts: pl.DataFrame  # source, symbol, conflicts
    freshness: pl.DataFrame  # source, symbol, last_session, latest, latest_knowledge_time, crypto
    failed_rules: pl.DataFrame  # meta.validation_results rows that did not succeed
    gaps: GapReport | None = None
    splits: tuple[DetectedSplit, ...] = field(default=())
    frequencies: dict[str, str] = field(default_factory=dict)  # macro: series -> cadence


def report_rows(
    findings: Findings, *, run_id: str, created_at: dt.datetime, rules: FreshnessRules
) -> pl.DataFrame:
    """Return the meta.quality_reports rows of one dataset: per symbol, then per source."""
    indexes = {
        "rows_in": _index(findings.counts, "rows_in"),
        "rows_quarantined": _index(findings.quarantined, "rows_quarantined"),
        "conflicts": _index(findings.conflicts, "conflicts"),
        "rules": findings.rules.partition_by("source", "symbol", as_dict=True),
    }
    rows: list[dict[str, Any]] = []
    for source in sorted(findings.batches.get_column("source").unique()):
        batches = findings.batches.filter(pl.col("source") == source)
        base = {
            "run_id": run_id,
            "source": source,
            "dataset": findings.dataset,
            "created_at": created_at,
            "batch_ids": json.dumps(batches.get_column("batch_id").to_list()),
        }
        rows.extend(_source_rows(findings, indexes, batches, base, rules))
    return schemas.QUALITY_REPORTS.frame(rows)


def _source_rows(
    findings: Findings,
    indexes: dict[str, Any],
    batches: pl.DataFrame,
    base: dict[str, Any],
    rules: FreshnessRules,
) -> list[dict[str, Any]]:
    """Return a source's total row, then its symbol rows."""
    dataset, source, now = findings.dataset, base["source"], base["created_at"]
    mine = source_rows(findings.freshness, findings.frequencies, source)

    def columns(symbol: str | None) -> dict[str, Any]:
        return report_columns(dataset, mine, symbol, now=now, exchange=rules.exchange)

    fresh = {
        s: row_freshness(dataset, mine, s, now=now, rules=rules) for s in _symbols(findings, source)
    }
    symbols = [
        _symbol_row(findings, indexes, (source, s), base, fresh[s], columns(s)) for s in fresh
    ]
    if fresh:
        whole = summarize(list(fresh.values()))
    else:  # news: one row per source
        whole = row_freshness(dataset, mine, ALL_SYMBOLS, now=now, rules=rules)
    return [_total_row(findings, symbols, batches, base, whole, columns(None)), *symbols]


def _symbols(findings: Findings, source: str) -> list[str]:
    mine = findings.counts.filter(pl.col("source") == source).get_column("symbol")
    return sorted(s for s in mine.unique() if s != ALL_SYMBOLS)


def _index(frame: pl.DataFrame, column: str) -> dict[tuple[str, str], int]:
    """Return ``column`` summed per (source, symbol)."""
    summed = frame.group_by("source", "symbol").agg(pl.col(column).sum())
    return {(src, sym): int(n) for src, sym, n in summed.iter_rows()}


def _symbol_row(
    findings: Findings,
    indexes: dict[str, Any],
    key: tuple[str, str],
    base: dict[str, Any],
    fresh: Freshness,
    columns: dict[str, Any],
) -> dict[str, Any]:
    symbol = key[1]
    rows_in = indexes["rows_in"].get(key, 0)
    rules = indexes["rules"].get(key, findings.rules.clear())
    gaps = findings.gaps.sessions_of(symbol) if findings.gaps is not None else None
    splits = [s for s in findings.splits if s.symbol == symbol]
    details = {
        "examples": dict(zip(rules.get_column("rule"), rules.get_column("example"), strict=True)),
        "gap_sessions": [d.isoformat() for d in (gaps or [])[:MAX_LISTED]],
        "splits": [_split(s) for s in splits],
        "freshness": fresh.as_json(),
    }
    row = {
        **base,
        "symbol": symbol,
        "rows_in": rows_in,
        "rows_quarantined": indexes["rows_quarantined"].get(key, 0),
        "quarantined_by_rule": _by_rule(rules),
        "conflicts": indexes["conflicts"].get(key, 0),
        "gaps": None if gaps is None else len(gaps),
        "splits_found": len(splits) if findings.dataset == "daily_bars" else None,
        **columns,
        "details": json.dumps(details, sort_keys=True),
    }
    row["rows_passed"] = rows_in - row["rows_quarantined"]
    failed = rows_in > 0 and row["rows_passed"] == 0
    return {**row, "status": "failed" if failed else _problems(row, fresh)}


def _total_row(
    findings: Findings,
    symbols: list[dict[str, Any]],
    batches: pl.DataFrame,
    base: dict[str, Any],
    fresh: Freshness,
    columns: dict[str, Any],
) -> dict[str, Any]:
    def total(column: str) -> int | None:
        values = [r[column] for r in symbols if r[column] is not None]
        return sum(values) if values else None

    source = base["source"]
    rules = findings.rules.filter(pl.col("source") == source)
    by_rule = rules.group_by("rule").agg(pl.col("rows").sum(), pl.col("example").first())
    details = {**_total_details(findings, batches, by_rule), "freshness": fresh.as_json()}
    row = {
        **base,
        "symbol": ALL_SYMBOLS,
        "rows_in": int(batches.get_column("rows_in").sum()),
        "rows_passed": int(batches.get_column("rows_passed").sum()),
        "rows_quarantined": int(batches.get_column("rows_quarantined").sum()),
        "quarantined_by_rule": _by_rule(by_rule),
        **{c: total(c) for c in ("conflicts", "gaps", "splits_found")},
        **columns,
        "details": json.dumps(details, sort_keys=True),
    }
    # A symbol with nothing usable is a warning for the source; only a failed batch fails it.
    if "failed" in batches.get_column("status").to_list():
        return {**row, "status": "failed"}
    closures = findings.gaps is not None and bool(findings.gaps.closures)
    uneasy = closures or any(r["status"] != "ok" for r in symbols)
    return {**row, "status": "warning" if uneasy else _problems(row, fresh)}


def _total_details(
    findings: Findings, batches: pl.DataFrame, by_rule: pl.DataFrame
) -> dict[str, Any]:
    mine = findings.failed_rules.filter(pl.col("batch_id").is_in(batches.get_column("batch_id")))
    return {
        "batches": [
            {k: _text(v) for k, v in b.items()}
            for b in batches.select(
                "batch_id", "status", "ingested_at", "rows_in", "first_session", "last_session",
                "message",
            ).iter_rows(named=True)
        ],
        "closures": [d.isoformat() for d in (findings.gaps.closures if findings.gaps else ())],
        "examples": dict(by_rule.select("rule", "example").iter_rows()),
        "rules": mine.select(
            "batch_id", "rule", "severity", "unexpected_count", "detail"
        ).to_dicts(),
    }  # fmt: skip


def _text(value: object) -> object:
    if isinstance(value, dt.datetime):
        return f"{value.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC"
    return value.isoformat() if isinstance(value, dt.date) else value


def _by_rule(rules: pl.DataFrame) -> str:
    return json.dumps(dict(rules.select("rule", "rows").sort("rule").iter_rows()))


def _problems(row: dict[str, Any], fresh: Freshness) -> str:
    counted = ("rows_quarantined", "conflicts", "gaps", "splits_found")
    return "warning" if fresh.verdict != "fresh" or any(row[c] for c in counted) else "ok"


def _split(split: DetectedSplit) -> dict[str, Any]:
    return {
        "session": split.session.isoformat(),
        "ratio": split.ratio,
        "label": split.label,
        "evidence": split.evidence.describe(),
    }
