"""Rich views of an order's provenance and of a reconciliation, for the `quantlake` CLI."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from flows.trade.provenance import BatchEvidence, OrderExplanation, Row
from flows.trade.reconcile import ReconcileReport
from warehouse.schemas import FEATURE_COLUMNS


def _v(value: Any) -> str:
    """Format one stored value for people: floats to 6 significant digits, times in UTC."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return str(value)


def _add(parent: Tree, label: str | Text) -> Tree:
    """Add a child; plain strings are data, never rich markup (``[trade]`` must show)."""
    return parent.add(Text(label) if isinstance(label, str) else label)


def _line(label: str, text: str, *, style: str = "bold cyan") -> Text:
    return Text.assemble((label, style), " ", text)


def render_explanation(expl: OrderExplanation) -> RenderableType:
    """Return the order's provenance as a tree: order, fills, decisions, then the data chain."""
    o = expl.order
    tree = Tree(
        _line(
            f"order {o['client_order_id']}",
            f"{o['side']} {_v(o['qty'])} {o['symbol']}, {o['status']} "
            f"(session {o['session']}, broker {o['broker']} {_v(o['broker_order_id'])})",
        )
    )
    _add(
        tree,
        f"target weight {_v(o['target_weight'])} at reference price {_v(o['reference_price'])}; "
        f"model {_v(o['model_version'])}, predictions snapshot {_v(o['predictions_snapshot'])}; "
        f"submitted {_v(o['submitted_at'])}" + (f"; {o['message']}" if o["message"] else ""),
    )
    fills = _add(tree, _line("fills", str(len(expl.fills))))
    for f in expl.fills:
        _add(
            fills,
            f"{f['side']} {_v(f['qty'])} @ {_v(f['price'])} (commission {_v(f['commission'])}) "
            f"at {_v(f['filled_at'])}",
        )
    decisions = _add(tree, _line("decisions", str(len(expl.gate) + len(expl.decisions))))
    for d in (*expl.gate, *expl.decisions):
        _add(decisions, f"[{d['decision']}] {d['subject']} (run {d['run_id']}): {d['reason']}")
    _chain(tree, expl)
    if expl.gaps:
        gaps = _add(tree, Text("gaps in the chain", style="bold red"))
        for gap in expl.gaps:
            _add(gaps, Text(gap, style="red"))
    return tree


def _chain(tree: Tree, expl: OrderExplanation) -> None:
    """Add prediction -> model and features -> bar -> splits and batches, as far as found."""
    p, f, b = expl.prediction, expl.features, expl.bar
    if p is None:
        return
    node = _add(
        tree,
        _line(
            f"prediction (snapshot {expl.order['predictions_snapshot']})",
            f"score {_v(p['score'])} from {p['model_version']}, scored {_v(p['created_at'])} "
            f"on features snapshot {_v(p['features_snapshot'])}",
        ),
    )
    if expl.model is not None:
        _model(node, expl.model, status_now=expl.model_status_now)
    if f is None:
        return
    values = ", ".join(f"{c} {_v(f[c])}" for c in FEATURE_COLUMNS)
    feats = _add(
        node,
        _line(
            f"features (snapshot {p['features_snapshot']})",
            f"from curated snapshot {_v(f['curated_snapshot'])}: {values}",
        ),
    )
    if b is None:
        return
    bar = _add(
        feats,
        _line(
            f"bar {b['symbol']} {b['session']} (snapshot {f['curated_snapshot']})",
            f"O {_v(b['open'])} H {_v(b['high'])} L {_v(b['low'])} C {_v(b['close'])} "
            f"V {_v(b['volume'])}, split factor {_v(b['split_factor'])}, source {b['source']}, "
            f"batch {b['batch_id']}, known {_v(b['knowledge_time'])}",
        ),
    )
    for s in expl.splits:
        _add(bar, f"split {_v(s['split_ratio'])} ex {s['ex_session']} (batch {s['batch_id']})")
    for evidence in expl.batches:
        _batch(bar, evidence)


def _model(parent: Tree, m: Row, *, status_now: str | None) -> None:
    now = "" if status_now == m["status"] else f" (now {status_now})"
    model = _add(parent, _line(f"model {m['model_version']}", f"{m['status']}{now}"))
    _add(
        model,
        f"{m['algorithm']} {m['params']}, horizon {m['horizon']}; trained "
        f"{m['train_start']} .. {m['train_end']} on data snapshot {m['data_snapshot']}",
    )
    _add(
        model,
        f"out of sample {m['test_start']} .. {m['test_end']} ({_v(m['n_test'])} rows): "
        f"IC {_v(m['oos_ic'])}, rank IC {_v(m['oos_rank_ic'])}, "
        f"hit rate {_v(m['oos_hit_rate'])}",
    )
    _add(model, f"artifact {m['artifact_path']} sha256 {m['artifact_sha256']}")


def _batch(parent: Tree, evidence: BatchEvidence) -> None:
    b = evidence.batch
    style = "green" if b["status"] == "passed" else "bold red"
    node = _add(
        parent,
        Text.assemble(
            (f"batch {b['batch_id']} ", "bold cyan"),
            (str(b["status"]), style),
            f": {b['source']} {b['first_session']} .. {b['last_session']}, "
            f"{_v(b['rows_passed'])} of {_v(b['rows_in'])} rows passed, "
            f"{_v(b['rows_quarantined'])} quarantined, ingested {_v(b['ingested_at'])}",
        ),
    )
    passed = len(evidence.validation) - len(evidence.failed_rules)
    _add(node, f"validation: {passed} of {len(evidence.validation)} rules passed; {b['message']}")
    for r in evidence.failed_rules:
        _add(node, Text(_rule(r), style="yellow" if r["severity"] == "warning" else "red"))
    for q in evidence.quarantined:
        _add(node, Text(f"quarantined row {q['row_number']} of this bar: {_rule(q)}", style="red"))


def _rule(r: Row) -> str:
    count = f", {r['unexpected_count']} unexpected" if "unexpected_count" in r else ""
    severity = f" ({r['severity']}{count})" if "severity" in r else ""
    return f"{r['rule']}{severity}: {r['detail']}"


def render_reconcile(report: ReconcileReport) -> RenderableType:
    """Return the reconciliation as a table of checks under a one-line verdict."""
    n = len(report.differences)
    verdict = (
        Text("clean", style="bold green")
        if report.clean
        else Text(f"{n} difference{'s' if n != 1 else ''}", style="bold red")
    )
    head = Text.assemble(
        ("Reconciliation with ", "bold"),
        (report.broker, "bold"),
        ": ",
        verdict,
        f"  (run {report.run_id}, platform read at snapshot {report.read_snapshot}, "
        + (
            f"unchanged since {report.unchanged_since}: not recorded again)"
            if report.unchanged_since
            else f"report in snapshot {_v(report.snapshot_id)})"
        ),
    )
    table = Table(title_justify="left")
    for col in ("kind", "subject", "platform", "broker", "outcome", "reason"):
        table.add_column(col)
    for c in report.positions:
        cells = (c.symbol, _v(c.platform_qty), _v(c.broker_qty))
        table.add_row("position", *map(Text, cells), *_out(c))
    for o in report.orders:
        cells = (o.client_order_id, _v(o.platform_status), _v(o.broker_status))
        table.add_row("order", *map(Text, cells), *_out(o))
    return Group(head, table)


def _out(check: Any) -> tuple[Text, Text]:
    style = {"match": "green", "updated": "cyan"}.get(check.outcome, "bold red")
    return Text(check.outcome, style=style), Text(check.reason)
