"""Why an order was placed: order -> prediction -> model -> features -> bar -> batches.

Each link is read as of the snapshot the link before it recorded: the order's
``predictions_snapshot`` (which is also the snapshot the trade gate checked), the prediction's
``features_snapshot`` and the features' ``curated_snapshot``. The explanation therefore shows
what each decision saw, not what the lakehouse holds today. A link that cannot be found is
named in ``gaps`` and the chain stops there; nothing is filled in by guessing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from flows.trade.reconcile import ORDER_SUBJECT
from warehouse import schemas
from warehouse.lake import Lakehouse, LakehouseError
from warehouse.schemas import Dataset

Row = Mapping[str, Any]


class UnknownOrder(LookupError):
    """No order with this client_order_id; the message lists where to find order ids."""


@dataclass(frozen=True)
class BatchEvidence:
    """One data batch behind a bar: its record, its validation results and rejected rows."""

    batch: Row
    validation: tuple[Row, ...]
    quarantined: tuple[Row, ...]  # rows of the explained symbol and session that were rejected

    @property
    def failed_rules(self) -> tuple[Row, ...]:
        """Return the validation rules that did not pass (errors and warnings)."""
        return tuple(r for r in self.validation if not r["success"])


@dataclass(frozen=True)
class OrderExplanation:
    """An order and every record it was based on, each as the decision saw it."""

    order: Row
    fills: tuple[Row, ...]
    decisions: tuple[Row, ...]  # risk decisions about the order (trade runs and reconciliations)
    gate: tuple[Row, ...]  # the gate decision of each trade run that decided the order
    prediction: Row | None
    model: Row | None  # the registry row as of the order's predictions snapshot
    model_status_now: str | None
    features: Row | None
    bar: Row | None
    splits: tuple[Row, ...]  # splits after the session that adjusted the bar's prices
    batches: tuple[BatchEvidence, ...]  # the bar's batch first, then the splits' batches
    gaps: tuple[str, ...]

    @property
    def client_order_id(self) -> str:
        return str(self.order["client_order_id"])


def recent_orders(lake: Lakehouse, *, limit: int) -> pl.DataFrame:
    """Return the latest ``limit`` orders (id, session, symbol, side, qty, status), newest first."""
    return lake.query(
        "SELECT client_order_id, session, symbol, side, qty, status FROM trading.orders "
        "ORDER BY submitted_at DESC, client_order_id LIMIT ?",
        [limit],
    )


def explain_order(lake: Lakehouse, client_order_id: str) -> OrderExplanation:
    """Return the provenance chain of one order; raise UnknownOrder for an unknown id."""
    order = _order(lake, client_order_id)
    gaps: list[str] = []
    fills = _rows(
        lake.read(
            schemas.FILLS,
            where="client_order_id = ?",
            params=[client_order_id],
            order_by="filled_at",
        )
    )
    if order["status"] in ("filled", "partially_filled") and not fills:
        gaps.append(f"the order is {order['status']} but trading.fills holds no fill for it")
    decisions, gate = _decisions(lake, client_order_id, gaps)
    prediction = _prediction(lake, order, gaps)
    model = _model(lake, order, gaps) if prediction is not None else None
    status_now = _model_status_now(lake, order["model_version"]) if model is not None else None
    features = _features(lake, order, prediction, gaps) if prediction is not None else None
    bar = _bar(lake, order, features, gaps) if features is not None else None
    splits, batches = _evidence(lake, order, bar, features, gaps) if bar and features else ((), ())
    return OrderExplanation(
        order=order,
        fills=fills,
        decisions=decisions,
        gate=gate,
        prediction=prediction,
        model=model,
        model_status_now=status_now,
        features=features,
        bar=bar,
        splits=splits,
        batches=batches,
        gaps=tuple(gaps),
    )


def _rows(frame: pl.DataFrame) -> tuple[Row, ...]:
    return tuple(frame.iter_rows(named=True))


def _one(
    lake: Lakehouse,
    dataset: Dataset,
    where: str,
    params: Sequence[Any],
    *,
    as_of: int | None,
    gaps: list[str],
    missing: str,
) -> Row | None:
    """Return the one row matching a key, or None after recording ``missing`` as a gap."""
    found = lake.read(dataset, where=where, params=params, as_of=as_of)
    if len(found) > 1:
        raise LakehouseError(
            f"{dataset.table} holds {len(found)} rows for key {list(params)} at snapshot "
            f"{as_of}; its key {dataset.key} must be unique (warehouse/schemas.py)"
        )
    if found.is_empty():
        gaps.append(missing)
        return None
    return found.row(0, named=True)


def _order(lake: Lakehouse, client_order_id: str) -> Row:
    found = lake.read(schemas.ORDERS, where="client_order_id = ?", params=[client_order_id])
    if not found.is_empty():
        return found.row(0, named=True)
    latest = recent_orders(lake, limit=5).get_column("client_order_id").to_list()
    if not latest:
        hint = "trading.orders is empty: run a trade first (`quantlake run` or `quantlake trade`)"
    else:
        hint = (
            f"the latest orders are {', '.join(latest)}; every order id is in trading.orders "
            "(SELECT client_order_id FROM trading.orders ORDER BY submitted_at DESC)"
        )
    raise UnknownOrder(f"no order {client_order_id!r} in trading.orders; {hint}")


def _decisions(
    lake: Lakehouse, client_order_id: str, gaps: list[str]
) -> tuple[tuple[Row, ...], tuple[Row, ...]]:
    """Return (decisions about the order, gate decisions of the runs that made them)."""
    decisions = lake.read(
        schemas.RISK_DECISIONS,
        where="subject = ? OR subject = ?",
        params=[client_order_id, ORDER_SUBJECT + client_order_id],
        order_by="decided_at, run_id",
    )
    runs = decisions.filter(pl.col("subject") == client_order_id).get_column("run_id")
    gate = lake.read(
        schemas.RISK_DECISIONS,
        where="subject = 'gate' AND list_contains(?::VARCHAR[], run_id)",
        params=[runs.unique().sort().to_list()],
        order_by="decided_at, run_id",
    )
    if gate.is_empty():
        gaps.append(
            "no trade run has recorded a gate decision for this order yet (a run stopped "
            "between writing and recording it; the next trade run records it)"
        )
    return _rows(decisions), _rows(gate)


def _prediction(lake: Lakehouse, order: Row, gaps: list[str]) -> Row | None:
    snapshot = order["predictions_snapshot"]
    if snapshot is None or order["model_version"] is None:
        gaps.append("the order records no predictions snapshot or model version")
        return None
    return _one(
        lake,
        schemas.PREDICTIONS,
        "symbol = ? AND session = ? AND model_version = ?",
        [order["symbol"], order["session"], order["model_version"]],
        as_of=snapshot,
        gaps=gaps,
        missing=(
            f"predictions.daily held no score for {order['symbol']} on {order['session']} from "
            f"{order['model_version']} at snapshot {snapshot}"
        ),
    )


def _model(lake: Lakehouse, order: Row, gaps: list[str]) -> Row | None:
    return _one(
        lake,
        schemas.MODELS,
        "model_version = ?",
        [order["model_version"]],
        as_of=order["predictions_snapshot"],
        gaps=gaps,
        missing=(
            f"models.registry held no model {order['model_version']} at snapshot "
            f"{order['predictions_snapshot']}"
        ),
    )


def _model_status_now(lake: Lakehouse, model_version: str) -> str | None:
    now = lake.read(schemas.MODELS, where="model_version = ?", params=[model_version])
    return None if now.is_empty() else str(now.item(0, "status"))


def _features(lake: Lakehouse, order: Row, prediction: Row, gaps: list[str]) -> Row | None:
    return _link(
        lake,
        schemas.FEATURES,
        order,
        prediction["features_snapshot"],
        gaps,
        source="the prediction",
        what="row",
    )


def _bar(lake: Lakehouse, order: Row, features: Row, gaps: list[str]) -> Row | None:
    return _link(
        lake,
        schemas.CURATED_BARS,
        order,
        features["curated_snapshot"],
        gaps,
        source="the features row",
        what="bar",
    )


def _link(
    lake: Lakehouse,
    dataset: schemas.Dataset,
    order: Row,
    snapshot: int | None,
    gaps: list[str],
    *,
    source: str,
    what: str,
) -> Row | None:
    """Return the order's symbol and session in ``dataset`` as of the snapshot ``source``
    recorded, or note the gap."""
    if snapshot is None:
        gaps.append(f"{source} records no {dataset.zone} snapshot")
        return None
    return _one(
        lake,
        dataset,
        "symbol = ? AND session = ?",
        [order["symbol"], order["session"]],
        as_of=snapshot,
        gaps=gaps,
        missing=(
            f"{dataset.table} held no {what} for {order['symbol']} on {order['session']} at "
            f"snapshot {snapshot}"
        ),
    )


def _evidence(
    lake: Lakehouse, order: Row, bar: Row, features: Row, gaps: list[str]
) -> tuple[tuple[Row, ...], tuple[BatchEvidence, ...]]:
    """Return the splits that adjusted the bar and the batches behind it, as the features saw."""
    at = features["curated_snapshot"]
    splits = _rows(
        lake.read(
            schemas.RAW_CORPORATE_ACTIONS,
            where="symbol = ? AND ex_session > ?",
            params=[order["symbol"], order["session"]],
            as_of=at,
            order_by="ex_session",
        )
    )
    batch_ids = dict.fromkeys([bar["batch_id"], *(s["batch_id"] for s in splits)])
    found = (_batch(lake, b, order, as_of=at, gaps=gaps) for b in batch_ids)
    return splits, tuple(b for b in found if b is not None)


def _batch(
    lake: Lakehouse, batch_id: str, order: Row, *, as_of: int, gaps: list[str]
) -> BatchEvidence | None:
    batch = _one(
        lake,
        schemas.BATCHES,
        "batch_id = ?",
        [batch_id],
        as_of=as_of,
        gaps=gaps,
        missing=f"meta.batches held no batch {batch_id} at snapshot {as_of}",
    )
    if batch is None:
        return None
    validation = lake.read(
        schemas.VALIDATION_RESULTS,
        where="batch_id = ?",
        params=[batch_id],
        as_of=as_of,
        order_by="rule",
    )
    if validation.is_empty():
        gaps.append(f"meta.validation_results held no result for batch {batch_id}")
    quarantined = lake.read(
        schemas.QUARANTINE_BARS,
        where="batch_id = ? AND symbol = ? AND session = ?",
        params=[batch_id, order["symbol"], order["session"]],
        as_of=as_of,
        order_by="row_number, rule",
    )
    return BatchEvidence(batch, _rows(validation), _rows(quarantined))
