"""The model registry (models.registry) and its champion history (models.promotions).

At every snapshot at most one model is ``champion``; a model the gate did not promote is a
``challenger``; a replaced champion is ``retired``. Each change of champion, by the model asset
(``gate``) or a person (``promote``, ``rollback``), replaces the old champion and records who,
why, from and to in the same commit. ``status_reason`` says why each model holds its status.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import polars as pl

from assets.models.artifact import load_artifact
from assets.models.promotion import Verdict
from assets.models.train import CONTEXT_COLUMNS, feature_names
from warehouse.lake import Lakehouse, Transaction
from warehouse.schemas import MODELS, PROMOTIONS

CHAMPION = "champion"
CHALLENGER = "challenger"
RETIRED = "retired"
GATE_ACTOR = "models/registry asset"

Action = Literal["gate", "promote", "rollback"]


class RegistryError(RuntimeError):
    """A registry change was refused; the message says why and what to do."""


def current_champion(lake: Lakehouse | Transaction) -> dict[str, Any] | None:
    """Return the champion's registry row, or None when there is none."""
    rows = lake.query(f"SELECT * FROM {MODELS.table} WHERE status = ?", [CHAMPION])
    if rows.height > 1:
        raise RegistryError(
            f"models.registry holds {rows.height} champions: "
            "`quantlake models promote VERSION` makes one the only champion"
        )
    return rows.row(0, named=True) if rows.height else None


def register(
    lake: Lakehouse,
    rows: list[dict[str, Any]],
    verdict: Verdict,
    *,
    champion_before: str | None,
    now: dt.datetime,
) -> int:
    """Write this run's new models with the gate's statuses in one commit; return rows written.

    ``champion_before`` is the champion the gate judged against: if a person changed the
    champion meanwhile, nothing is written and the asset fails (a rerun judges afresh).
    """
    with lake.transaction("model", asset="models/registry", champion=verdict.champion) as txn:
        before = current_champion(txn)
        was = before["model_version"] if before else None
        if was != champion_before:
            raise RegistryError(
                f"the champion changed from {champion_before} to {was} while the model asset "
                "trained; nothing was registered: materialize models/registry again"
            )
        staged = [
            {
                **row,
                "status": CHAMPION if row["model_version"] == verdict.promoted else CHALLENGER,
                "status_reason": verdict.reasons[row["model_version"]],
                "status_changed_at": now,
            }
            for row in rows
        ]
        if verdict.promoted is not None:
            _record(
                txn,
                before,
                verdict.promoted,
                action="gate",
                actor=GATE_ACTOR,
                reason=verdict.reasons[verdict.promoted],
                now=now,
            )
        return txn.merge(MODELS, MODELS.frame(staged))


def change_champion(
    lake: Lakehouse, version: str, *, action: Action, actor: str, reason: str, now: dt.datetime
) -> dict[str, Any]:
    """Make a registered model the champion for a person; return the promotion record.

    The artifact must exist with its recorded sha256 and score today's feature set.
    """
    if not actor.strip() or not reason.strip():
        raise RegistryError("say who (--by) and why (--reason): both are recorded")
    found = lake.read(MODELS, where="model_version = ?", params=[version])
    if found.is_empty():
        raise RegistryError(f"no model {version} in models.registry: `quantlake models` lists them")
    row = found.row(0, named=True)
    if row["status"] == CHAMPION:
        raise RegistryError(f"{version} is already the champion")
    names = json.loads(row["feature_names"])
    extra = tuple(n for n, cols in CONTEXT_COLUMNS.items() if set(cols) <= set(names))
    if names != list(feature_names(extra)):
        raise RegistryError(
            f"{version} was trained on another feature set than features.daily holds now; "
            "it cannot score today's features: promote a newer model"
        )
    load_artifact(Path(row["artifact_path"]), sha256=row["artifact_sha256"])
    with lake.transaction(action, actor=actor, model_version=version) as txn:
        before = current_champion(txn)
        record = _record(txn, before, version, action=action, actor=actor, reason=reason, now=now)
        promoted = {
            **row,
            "status": CHAMPION,
            "status_changed_at": now,
            "status_reason": f"{action} by {actor}: {reason}",
        }
        txn.merge(MODELS, MODELS.frame([promoted]))
    return record


def previous_champion(lake: Lakehouse) -> str:
    """Return the model the current champion replaced (the target of a plain rollback)."""
    champion = current_champion(lake)
    if champion is None:
        raise RegistryError("there is no champion to roll back from: name a VERSION to promote")
    last = lake.read(
        PROMOTIONS,
        where="to_version = ?",
        params=[champion["model_version"]],
        order_by="changed_at DESC",
    )
    if last.is_empty() or last.item(0, "from_version") is None:
        raise RegistryError(
            f"champion {champion['model_version']} replaced no earlier champion: "
            "name the VERSION to roll back to (`quantlake models` lists them)"
        )
    return last.item(0, "from_version")


def _record(
    txn: Transaction,
    before: dict[str, Any] | None,
    to: str,
    *,
    action: Action,
    actor: str,
    reason: str,
    now: dt.datetime,
) -> dict[str, Any]:
    """Retire ``before`` (the old champion) and append the promotion record."""
    was = before["model_version"] if before else None
    if before is not None:
        retired = {
            **before,
            "status": RETIRED,
            "status_changed_at": now,
            "status_reason": f"replaced by {to} ({action} by {actor})",
        }
        txn.merge(MODELS, MODELS.frame([retired]))
    identity = json.dumps([action, was, to, now.isoformat(), actor])
    record = {
        "promotion_id": hashlib.sha256(identity.encode()).hexdigest()[:16],
        "changed_at": now,
        "action": action,
        "from_version": was,
        "to_version": to,
        "actor": actor,
        "reason": reason,
    }
    txn.append(PROMOTIONS, PROMOTIONS.frame([record]))
    return record


def history(lake: Lakehouse, *, limit: int) -> pl.DataFrame:
    """Return the latest changes of champion, newest first."""
    return lake.read(PROMOTIONS, order_by="changed_at DESC, promotion_id").head(limit)
