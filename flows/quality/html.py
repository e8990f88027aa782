"""The quality report as one self-contained HTML page: plain HTML and CSS, every value escaped."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from html import escape
from string import Template
from typing import Any

from flows.quality.freshness import age_text
from flows.quality.report_data import QualityReport

_PAGE = Template(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Data quality report $run_id</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f3f3f3} td.n{text-align:right;font-variant-numeric:tabular-nums}
.ok,.fresh{color:#17702c}.warning,.stale,.unknown{color:#9a6200}
.failed{color:#b00020;font-weight:bold}
.muted{color:#777}
</style></head><body>
<h1>Data quality report <code>$run_id</code></h1>
<p>Built $created_at &middot; status <span class="$status">$status</span></p>
$body
</body></html>
"""
)

_SOURCE_COLUMNS = (
    "source", "dataset", "status", "rows_in", "rows_passed", "rows_quarantined", "conflicts",
    "gaps", "splits_found", "last_session", "sessions_behind", "latest_knowledge_time",
)  # fmt: skip
_SYMBOL_COLUMNS = (
    "symbol", "status", "rows_in", "rows_quarantined", "quarantined_by_rule", "conflicts", "gaps",
    "splits_found", "last_session", "sessions_behind", "freshness",
)  # fmt: skip
_FRESHNESS_COLUMNS = (
    "source", "dataset", "freshness", "latest", "latest_knowledge", "expected", "behind", "age",
    "reason",
)  # fmt: skip
_NUMBERS = {"rows_in", "rows_passed", "rows_quarantined", "conflicts", "gaps", "splits_found"}


def render_quality_html(report: QualityReport) -> str:
    """Return the report as a complete HTML page."""
    sources = list(report.sources.iter_rows(named=True))
    parts = [_h(2, "Sources"), _table(_SOURCE_COLUMNS, sources)]
    parts += [_h(2, f"Freshness at {report.created_at:%Y-%m-%d %H:%M} UTC")]
    parts += [_table(_FRESHNESS_COLUMNS, [_fresh(report, r) for r in sources])]
    if report.rows.is_empty():
        parts = ["<p class='muted'>No batches in this run.</p>"]
    for source in report.sources.iter_rows(named=True):
        parts.append(_source_section(report, source))
    return _PAGE.substitute(
        run_id=escape(report.run_id),
        created_at=escape(f"{report.created_at:%Y-%m-%d %H:%M} UTC"),
        status=escape(report.status),
        body="\n".join(parts),
    )


def _source_section(report: QualityReport, source: dict[str, Any]) -> str:
    details = report.details(source)
    name = f"{source['source']} / {source['dataset']}"
    parts = [_h(2, name)]
    batches = details.get("batches", [])
    parts.append(_table(("batch_id", "status", "ingested_at", "rows_in", "message"), batches))
    by_rule = json.loads(source["quarantined_by_rule"] or "{}")
    examples = details.get("examples", {})
    if by_rule:
        parts.append(_h(3, "Quarantined rows by rule"))
        rules = [{"rule": r, "rows": n, "example": examples.get(r, "")} for r, n in by_rule.items()]
        parts.append(_table(("rule", "rows", "example"), rules))
    if details.get("rules"):
        parts.append(_h(3, "Failed expectations"))
        columns = ("batch_id", "rule", "severity", "unexpected_count", "detail")
        parts.append(_table(columns, details["rules"]))
    if details.get("closures"):
        closed = ", ".join(details["closures"])
        parts.append(
            f"<p>Sessions every symbol lacks: a market-wide closure the exchange calendar does "
            f"not know, or an outage of the whole feed (listed once, not as gaps): "
            f"{escape(closed)}</p>"
        )
    symbols = report.symbols.filter(
        (report.symbols["source"] == source["source"])
        & (report.symbols["dataset"] == source["dataset"])
    )
    if not symbols.is_empty():
        parts.append(_h(3, "Symbols (problems first)"))
        rows = [_fresh(report, r) for r in symbols.iter_rows(named=True)]
        parts.append(_table(_SYMBOL_COLUMNS, rows))
        parts.append(_findings(report, symbols.iter_rows(named=True)))
    return "\n".join(parts)


def _findings(report: QualityReport, symbols: Iterable[dict[str, Any]]) -> str:
    """Return the gaps and splits of the symbols as lists."""
    gaps, splits = [], []
    for row in symbols:
        details = report.details(row)
        if row["gaps"]:
            listed = ", ".join(details.get("gap_sessions", []))
            more = row["gaps"] - len(details.get("gap_sessions", []))
            tail = f" and {more} more" if more > 0 else ""
            gaps.append(f"<li><b>{escape(row['symbol'])}</b>: {escape(listed)}{tail}</li>")
        for split in details.get("splits", []):
            splits.append(
                f"<li><b>{escape(row['symbol'])}</b> {escape(split['session'])} "
                f"{escape(split['label'])}: {escape(split['evidence'])}</li>"
            )
    out = []
    if gaps:
        out += [_h(3, "Missing sessions"), "<ul>", *gaps, "</ul>"]
    if splits:
        out += [_h(3, "Unadjusted splits detected"), "<ul>", *splits, "</ul>"]
    return "\n".join(out)


def _fresh(report: QualityReport, row: dict[str, Any]) -> dict[str, Any]:
    """Return the row with its freshness verdict's fields (details) beside its columns."""
    found = report.details(row).get("freshness")
    if found is None:  # a report stored before freshness verdicts existed
        return {**row, "freshness": None}
    behind = found["behind"]
    return {
        **row,
        **{k: found[k] for k in ("latest", "latest_knowledge", "expected", "reason")},
        "freshness": found["verdict"],
        "behind": None if behind is None else f"{behind} {found['unit']}".strip(),
        "age": age_text(found["age_seconds"]),
    }


def _h(level: int, text: str) -> str:
    return f"<h{level}>{escape(text)}</h{level}>"


def _table(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> str:
    head = "".join(f"<th>{escape(c.replace('_', ' '))}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(_cell(c, row.get(c)) for c in columns) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(column: str, value: Any) -> str:
    if value is None:
        return "<td class='muted'>-</td>"
    if isinstance(value, dt.datetime):
        return f"<td>{escape(f'{value.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC')}</td>"
    if column in ("status", "freshness"):
        return f"<td class='{escape(str(value))}'>{escape(str(value))}</td>"
    if column == "quarantined_by_rule":
        rules = json.loads(value or "{}")
        return f"<td>{escape(', '.join(f'{r} {n}' for r, n in rules.items()) or '-')}</td>"
    if column in _NUMBERS or isinstance(value, int):
        return (
            f"<td class='n'>{escape(f'{value:,}' if isinstance(value, int) else str(value))}</td>"
        )
    return f"<td>{escape(str(value))}</td>"
