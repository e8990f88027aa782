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

from flows.quality_reads import ALL_SYMBOLS
from validations.gaps import GapReport
from validations.splits import DetectedSplit
from warehouse import calendar, schemas

STATUS_ORDER = {"failed": 0, "warning": 1, "ok": 2}
MAX_LISTED = 100  # gap sessions kept in a row's details (the gaps column has the full count)
BAR_DATASETS = ("daily_bars", "minute_bars")


@dataclass(frozen=True)
class Findings:
    """Everything read or detected for one dataset of a run (frames as quality_reads returns)."""

    dataset: str
    batches: pl.DataFrame  # meta.batches rows
    counts: pl.DataFrame  # source, symbol, rows_in
    rules: pl.DataFrame  # source, symbol, rule, rows, example
    quarantined: pl.DataFrame  # source, symbol, rows_quarantined
    conflicts: pl.DataFrame  # source, symbol, conflicts
    freshness: pl.DataFrame  # symbol, last_session, latest_knowledge_time, crypto
    failed_rules: pl.DataFrame  # meta.validation_results rows that did not succeed
    gaps: GapReport | None = None
    splits: tuple[DetectedSplit, ...] = field(default=())


def report_rows(
    findings: Findings, *, run_id: str, created_at: dt.datetime, exchange: str
) -> pl.DataFrame:
    """Return the meta.quality_reports rows of one dataset: per symbol, then per source."""
    rows: list[dict[str, Any]] = []
    indexes = {
        "rows_in": _index(findings.counts, "rows_in"),
        "rows_quarantined": _index(findings.quarantined, "rows_quarantined"),
        "conflicts": _index(findings.conflicts, "conflicts"),
        "rules": findings.rules.partition_by("source", "symbol", as_dict=True),
    }
    for source in sorted(findings.batches.get_column("source").unique()):
        batches = findings.batches.filter(pl.col("source") == source)
        base = {
            "run_id": run_id,
            "source": source,
            "dataset": findings.dataset,
            "created_at": created_at,
            "batch_ids": json.dumps(batches.get_column("batch_id").to_list()),
        }
        symbols = [
            _symbol_row(findings, indexes, (source, s), base, exchange)
            for s in _symbols(findings, source)
        ]
        rows.append(_total_row(findings, source, symbols, batches, base, exchange))
        rows.extend(symbols)
    return schemas.QUALITY_REPORTS.frame(rows)


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
    exchange: str,
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
        **_fresh(findings, symbol, now=base["created_at"], exchange=exchange),
        "details": json.dumps(details, sort_keys=True),
    }
    row["rows_passed"] = rows_in - row["rows_quarantined"]
    failed = rows_in > 0 and row["rows_passed"] == 0
    return {**row, "status": "failed" if failed else _problems(row)}


def _total_row(
    findings: Findings,
    source: str,
    symbols: list[dict[str, Any]],
    batches: pl.DataFrame,
    base: dict[str, Any],
    exchange: str,
) -> dict[str, Any]:
    def total(column: str) -> int | None:
        values = [r[column] for r in symbols if r[column] is not None]
        return sum(values) if values else None

    rules = findings.rules.filter(pl.col("source") == source)
    by_rule = rules.group_by("rule").agg(pl.col("rows").sum(), pl.col("example").first())
    row = {
        **base,
        "symbol": ALL_SYMBOLS,
        "rows_in": int(batches.get_column("rows_in").sum()),
        "rows_passed": int(batches.get_column("rows_passed").sum()),
        "rows_quarantined": int(batches.get_column("rows_quarantined").sum()),
        "quarantined_by_rule": _by_rule(by_rule),
        **{c: total(c) for c in ("conflicts", "gaps", "splits_found")},
        **_fresh(findings, _all(findings), now=base["created_at"], exchange=exchange),
        "details": json.dumps(_total_details(findings, batches, by_rule), sort_keys=True),
    }
    # A symbol with nothing usable is a warning for the source; only a failed batch fails it.
    if "failed" in batches.get_column("status").to_list():
        return {**row, "status": "failed"}
    closures = findings.gaps is not None and bool(findings.gaps.closures)
    uneasy = closures or any(r["status"] != "ok" for r in symbols)
    return {**row, "status": "warning" if uneasy else _problems(row)}


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


def _all(findings: Findings) -> str | None:
    return ALL_SYMBOLS if findings.dataset == "news" else None


def _fresh(
    findings: Findings, symbol: str | None, *, now: dt.datetime, exchange: str
) -> dict[str, Any]:
    """Return last_session, sessions_behind and latest_knowledge_time of a symbol (None: all)."""
    fresh = findings.freshness
    if symbol is not None:
        fresh = fresh.filter(pl.col("symbol") == symbol)
    if fresh.is_empty() or fresh.get_column("last_session").null_count() == fresh.height:
        return {"last_session": None, "sessions_behind": None, "latest_knowledge_time": None}
    last = fresh.get_column("last_session").max()
    behind = None
    exchange_traded = fresh.filter(~pl.col("crypto"))
    if findings.dataset in BAR_DATASETS and not exchange_traded.is_empty():
        latest = exchange_traded.get_column("last_session").max()
        behind = calendar.sessions_behind(latest, now, exchange=exchange)
    return {
        "last_session": last,
        "sessions_behind": behind,
        "latest_knowledge_time": fresh.get_column("latest_knowledge_time").max(),
    }


def _by_rule(rules: pl.DataFrame) -> str:
    return json.dumps(dict(rules.select("rule", "rows").sort("rule").iter_rows()))


def _problems(row: dict[str, Any]) -> str:
    counted = ("rows_quarantined", "conflicts", "gaps", "splits_found", "sessions_behind")
    return "warning" if any(row[c] for c in counted) else "ok"


def _split(split: DetectedSplit) -> dict[str, Any]:
    return {
        "session": split.session.isoformat(),
        "ratio": split.ratio,
        "label": split.label,
        "evidence": split.evidence.describe(),
    }
