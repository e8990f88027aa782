"""explain_order follows an order to its data through the snapshots each step recorded."""

from __future__ import annotations

import datetime as dt

import pytest
from rich.console import Console

from flows.trade.provenance import UnknownOrder, explain_order, recent_orders
from flows.trade.views import render_explanation
from warehouse import schemas
from warehouse.lake import Lakehouse

T = dt.datetime(2026, 11, 20, 22, tzinfo=dt.UTC)
FRIDAY = dt.date(2026, 11, 20)
CID = "ql-test-20261120-AAA-enter-abc123"


def _put(lake: Lakehouse, message: str, **tables: list[dict[str, object]]) -> int:
    """Merge rows into datasets named by table (``curated__bars``) in one snapshot."""
    with lake.transaction(message) as txn:
        for name, rows in tables.items():
            dataset = schemas.BY_TABLE[name.replace("__", ".")]
            txn.merge(dataset, dataset.frame(rows))
    assert txn.snapshot_id is not None
    return txn.snapshot_id


def _bar(close: float, batch_id: str) -> dict[str, object]:
    return {
        "symbol": "AAA",
        "session": FRIDAY,
        **dict(open=close, high=close, low=close, close=close, volume=1e6),
        "split_factor": 2.0,
        "source": "sim",
        "batch_id": batch_id,
        "knowledge_time": T,
    }


def _rule(batch_id: str, rule: str, *, success: bool, severity: str = "error") -> dict:
    return {
        "batch_id": batch_id,
        "suite": "daily_bars",
        "rule": rule,
        "severity": severity,
        "success": success,
        "element_count": 10,
        "unexpected_count": 0 if success else 1,
        "detail": "ok" if success else f"{rule} failed on 1 row",
        "validated_at": T,
    }


def _batch(batch_id: str) -> dict[str, object]:
    return {
        "batch_id": batch_id,
        "source": "sim",
        "ingested_at": T,
        "dataset": "daily_bars",
        "status": "passed",
        "rows_in": 11,
        "rows_passed": 10,
        "rows_quarantined": 1,
        "message": "1 row quarantined",
    }


def seed_chain(lake: Lakehouse) -> dict[str, int]:
    """Write a bar, features, model, prediction and order, each in its own snapshot."""
    s: dict[str, int] = {}
    s["curated"] = _put(
        lake,
        "ingest",
        curated__bars=[_bar(50.0, "b1")],
        raw__corporate_actions=[
            {"batch_id": "b2", "source": "sim", "ingested_at": T, "symbol": "AAA"}
            | {"ex_session": dt.date(2026, 11, 23), "split_ratio": 2.0}
        ],
        meta__batches=[_batch("b1"), _batch("b2")],
        meta__validation_results=[
            _rule("b1", "ohlc_consistent", success=False),
            _rule("b1", "volume_spike", success=False, severity="warning"),
            _rule("b1", "not_null", success=True),
            _rule("b2", "not_null", success=True),
        ],
        quarantine__bars=[
            {"batch_id": "b1", "source": "sim", "ingested_at": T, "row_number": 7}
            | {"symbol": "AAA", "session": FRIDAY, "close": -1.0}
            | {"rule": "ohlc_consistent", "detail": "high < low"}
        ],
    )
    feature = {"symbol": "AAA", "session": FRIDAY, "ret_1": 0.01, "curated_snapshot": s["curated"]}
    s["features"] = _put(lake, "features", features__daily=[feature])
    model = {"model_version": "m1", "created_at": T, "algorithm": "ridge", "status": "champion"}
    s["model"] = _put(lake, "model", models__registry=[model | {"data_snapshot": s["features"]}])
    pred = {"symbol": "AAA", "session": FRIDAY, "score": 0.5, "model_version": "m1"}
    s["predictions"] = _put(
        lake, "predict", predictions__daily=[pred | {"features_snapshot": s["features"]}]
    )
    order = {"client_order_id": CID, "broker": "paper", "session": FRIDAY, "symbol": "AAA"}
    order |= {"side": "buy", "qty": 10.0, "status": "filled", "model_version": "m1"}
    order |= {"predictions_snapshot": s["predictions"], "reference_price": 50.0}
    fill = {"fill_id": f"{CID}-fill", "client_order_id": CID, "qty": 10.0, "price": 50.1}
    decision = {"run_id": "r1", "session": FRIDAY, "decided_at": T}
    s["order"] = _put(
        lake,
        "trade",
        trading__orders=[order | {"submitted_at": T}],
        trading__fills=[fill | {"filled_at": T}],
        trading__risk_decisions=[
            decision | {"subject": "gate", "decision": "trade", "reason": "fresh"},
            decision | {"subject": CID, "decision": "submitted", "reason": "filled"},
            decision | {"run_id": "r0", "subject": "gate", "decision": "trade", "reason": "x"},
        ],
    )
    return s


def rewrite_history(lake: Lakehouse) -> None:
    """Change every upstream record after the order, as later runs would."""
    later = _put(lake, "correction", curated__bars=[_bar(60.0, "b3")])
    _put(
        lake,
        "features",
        features__daily=[
            {"symbol": "AAA", "session": FRIDAY, "ret_1": 0.99} | {"curated_snapshot": later}
        ],
    )
    pred = {"symbol": "AAA", "session": FRIDAY, "score": 0.9, "model_version": "m1"}
    _put(lake, "predict", predictions__daily=[pred | {"features_snapshot": later}])
    m1 = {"model_version": "m1", "created_at": T, "algorithm": "ridge", "status": "retired"}
    _put(lake, "model", models__registry=[m1])


def test_the_chain_shows_what_the_order_saw_not_todays_records(lake: Lakehouse) -> None:
    snaps = seed_chain(lake)
    rewrite_history(lake)
    expl = explain_order(lake, CID)
    assert expl.gaps == ()
    assert expl.client_order_id == CID
    assert [f["qty"] for f in expl.fills] == [10.0]
    assert [(d["subject"], d["decision"]) for d in expl.decisions] == [(CID, "submitted")]
    assert [(g["run_id"], g["reason"]) for g in expl.gate] == [("r1", "fresh")]  # not run r0
    assert expl.prediction is not None and expl.prediction["score"] == 0.5
    assert expl.prediction["features_snapshot"] == snaps["features"]
    assert expl.model is not None and expl.model["status"] == "champion"
    assert expl.model["data_snapshot"] == snaps["features"]
    assert expl.model_status_now == "retired"
    assert expl.features is not None and expl.features["ret_1"] == 0.01
    assert expl.features["curated_snapshot"] == snaps["curated"]
    assert expl.bar is not None
    assert (expl.bar["close"], expl.bar["batch_id"]) == (50.0, "b1")
    assert [s["split_ratio"] for s in expl.splits] == [expl.bar["split_factor"]]
    assert [b.batch["batch_id"] for b in expl.batches] == ["b1", "b2"]
    b1 = expl.batches[0]
    assert [r["rule"] for r in b1.failed_rules] == ["ohlc_consistent", "volume_spike"]
    assert len(b1.validation) == 3
    assert [q["row_number"] for q in b1.quarantined] == [7]
    assert expl.batches[1].failed_rules == ()


def test_missing_links_are_named_and_stop_the_chain(lake: Lakehouse) -> None:
    before = _put(lake, "nothing yet", models__registry=[{"model_version": "m0", "status": "x"}])
    order = {"client_order_id": "o-1", "session": FRIDAY, "symbol": "AAA", "status": "filled"}
    order |= {"model_version": "m1", "predictions_snapshot": before, "submitted_at": T}
    _put(lake, "order", trading__orders=[order])
    expl = explain_order(lake, "o-1")
    assert expl.prediction is None and expl.model is None and expl.bar is None
    assert expl.batches == ()
    assert len(expl.gaps) == 3
    fills, gate, prediction = expl.gaps
    assert "trading.fills holds no fill" in fills
    assert "gate decision" in gate
    assert f"at snapshot {before}" in prediction and "predictions.daily" in prediction


def test_an_unknown_order_id_says_where_order_ids_are(lake: Lakehouse) -> None:
    with pytest.raises(UnknownOrder, match="trading.orders is empty: run a trade first"):
        explain_order(lake, "nope")
    seed_chain(lake)
    with pytest.raises(UnknownOrder, match=f"the latest orders are {CID};"):
        explain_order(lake, "nope")
    assert recent_orders(lake, limit=5).get_column("client_order_id").to_list() == [CID]


def test_the_rendered_tree_names_every_link(lake: Lakehouse) -> None:
    seed_chain(lake)
    rewrite_history(lake)
    console = Console(record=True, width=400)
    console.print(render_explanation(explain_order(lake, CID)))
    text = console.export_text()
    for expected in (
        f"order {CID}",
        "buy 10 AAA, filled",
        "[trade] gate (run r1): fresh",
        f"[submitted] {CID} (run r1): filled",
        "score 0.5 from m1",
        "model m1 champion (now retired)",
        "ret_1 0.01",
        "batch b1",
        "batch b2 passed",
        "split 2 ex 2026-11-23",
        "validation: 1 of 3 rules passed",
        "volume_spike (warning, 1 unexpected)",
        "quarantined row 7 of this bar: ohlc_consistent",
    ):
        assert expected in text, expected
    assert "gaps in the chain" not in text
