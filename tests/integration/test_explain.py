"""After a real cycle, an order explains itself end to end and the books reconcile; a tampered
position record is then reported as a mismatch."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from flows.brokers.select import build_broker
from flows.trade.provenance import explain_order
from flows.trade.reconcile import reconcile
from flows.trade.views import render_explanation, render_reconcile
from quantlake.cli import app
from quantlake.cycle import run_cycle
from warehouse import schemas
from warehouse.lake import Lakehouse

pytestmark = pytest.mark.integration

SUNDAY = dt.datetime(2026, 11, 22, 12, tzinfo=dt.UTC)


@pytest.fixture
def settings(simulator_settings):
    return simulator_settings(n_symbols=10)


def test_an_order_explains_itself_and_the_books_reconcile_until_tampered(settings) -> None:
    cycle = run_cycle(settings, now=SUNDAY, on_stage=lambda _: None)
    assert cycle.refused is None, cycle.refused
    assert cycle.trade.orders_sent > 0
    cid = cycle.trade.orders[0]["client_order_id"]

    with Lakehouse(settings.lake_dir) as lake:
        expl = explain_order(lake, cid)
        assert expl.gaps == ()
        order = expl.order
        assert (order["session"], order["status"]) == (cycle.trade.session, "filled")
        assert sum(f["qty"] for f in expl.fills) == pytest.approx(order["qty"])
        assert [g["decision"] for g in expl.gate] == ["trade"]
        assert {d["run_id"] for d in expl.decisions} == {expl.gate[0]["run_id"]}

        prediction, model = expl.prediction, expl.model
        assert prediction is not None and model is not None
        assert prediction["model_version"] == order["model_version"] == model["model_version"]
        assert (prediction["symbol"], prediction["session"]) == (order["symbol"], order["session"])
        assert model["status"] == "champion" == expl.model_status_now
        artifact = Path(model["artifact_path"]).read_bytes()
        assert hashlib.sha256(artifact).hexdigest() == model["artifact_sha256"]
        assert model["data_snapshot"] <= order["predictions_snapshot"]

        features, bar = expl.features, expl.bar
        assert features is not None and bar is not None
        assert features["curated_snapshot"] <= prediction["features_snapshot"]
        assert prediction["features_snapshot"] <= order["predictions_snapshot"]
        assert (bar["symbol"], bar["session"]) == (order["symbol"], order["session"])
        assert bar["close"] == pytest.approx(order["reference_price"])

        [evidence] = expl.batches
        assert evidence.batch["batch_id"] == bar["batch_id"] == cycle.ingest.batch_id
        assert evidence.batch["status"] == "passed"
        assert evidence.validation
        assert all(r["batch_id"] == bar["batch_id"] for r in evidence.validation)
        # A passed batch may have failed error rules: their rows were quarantined, not curated.
        quarantined = lake.read(
            schemas.QUARANTINE_BARS, where="batch_id = ?", params=[bar["batch_id"]]
        )
        assert {r["rule"] for r in evidence.failed_rules if r["severity"] == "error"} == set(
            quarantined.get_column("rule")
        )
        rows = quarantined.get_column("row_number").n_unique()
        assert rows == evidence.batch["rows_quarantined"]

        console = Console(record=True, width=400)
        console.print(render_explanation(expl))
        assert f"order {cid}" in console.export_text()

        broker = build_broker(settings, lake=lake)
        clean = reconcile(lake, broker, now=SUNDAY, exchange=settings.exchange)
        assert clean.clean, clean.differences
        held = sorted(p["symbol"] for p in cycle.trade.positions)
        assert [c.symbol for c in clean.positions] == held

        dropped = held[0]
        with lake.transaction("tamper: lose a position record") as txn:
            txn.delete(schemas.POSITIONS, "broker = ? AND symbol = ?", [broker.name, dropped])
        dirty = reconcile(lake, broker, now=SUNDAY, exchange=settings.exchange)
        assert not dirty.clean
        assert [(c.symbol, c.outcome) for c in dirty.differences] == [
            (dropped, "missing_in_platform")
        ]
        stored = lake.read(
            schemas.RISK_DECISIONS, where="run_id = ?", params=[dirty.run_id]
        ).select("subject", "decision")
        assert dict(stored.iter_rows())[f"reconcile:position:{dropped}"] == "mismatch"
        assert dict(stored.iter_rows())["reconcile"] == "mismatch"
        console.print(render_reconcile(dirty))
        assert "missing_in_platform" in console.export_text()

    a_person_lists_explains_halts_trades_and_resumes(cid)


def cli(*args: str, width: int) -> str:
    """Run a command as a person would at ``width`` columns; return what it printed."""
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": str(width), "USER": "ops"})
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.output.splitlines()) <= width, result.output
    return result.output


def a_person_lists_explains_halts_trades_and_resumes(cid: str) -> None:
    for width in (80, 160):
        listed = cli("explain", width=width)
        assert sum(cid in line for line in listed.splitlines()) == 1  # whole, once
        assert f"order {cid}" in cli("explain", cid, width=width)
    cli("halt", "--reason", "[/x] risk review", width=80)
    for width in (80, 160):  # the second run finds the book still halted
        said = " ".join(cli("trade", "--now", "2026-11-22T13:00:00", width=width).split())
        assert "HALTED: nothing planned, nothing sent" in said
        assert "planned for this session" not in said and "Orders" not in said
        assert "kill switch ON: halted by ops at" in said and "[/x] risk review" in said
    assert "resume recorded: by ops: reviewed" in cli("resume", "--reason", "reviewed", width=80)
    again = " ".join(cli("resume", "--reason", "again", width=80).split())
    assert "nothing is halted; nothing recorded" in again
