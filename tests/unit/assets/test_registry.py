"""Registry writes on a real lakehouse: gate results, promotion, rollback and their history."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from assets.models.artifact import ArtifactError
from assets.models.promotion import Verdict
from assets.models.registry import (
    GATE_ACTOR,
    RegistryError,
    change_champion,
    current_champion,
    history,
    previous_champion,
    register,
)
from tests.unit.assets.registry_rows import model_row, seed_models
from warehouse.lake import Lakehouse
from warehouse.schemas import MODELS, PROMOTIONS

NOW = dt.datetime(2026, 3, 10, 22, tzinfo=dt.UTC)


def _statuses(lake: Lakehouse) -> dict[str, str]:
    return dict(lake.read(MODELS).select("model_version", "status").rows())


def _new(version: str, tmp_path: Path, day: int) -> dict:
    row = model_row(version, models_dir=tmp_path / "models", status="", day=day)
    return {k: v for k, v in row.items() if k not in ("status", "status_reason")}


def test_the_gate_promotes_a_first_champion_and_records_it(lake: Lakehouse, tmp_path: Path) -> None:
    verdict = Verdict("ridge-a", "ridge-a", {"ridge-a": "first champion: stable"}, "first")
    assert (
        register(lake, [_new("ridge-a", tmp_path, 0)], verdict, champion_before=None, now=NOW) == 1
    )
    champion = current_champion(lake)
    assert champion is not None and champion["model_version"] == "ridge-a"
    assert champion["status_reason"] == "first champion: stable"
    assert champion["status_changed_at"] == NOW
    record = lake.read(PROMOTIONS).row(0, named=True)
    assert (record["action"], record["from_version"], record["to_version"]) == (
        "gate",
        None,
        "ridge-a",
    )
    assert (record["actor"], record["reason"], record["changed_at"]) == (
        GATE_ACTOR,
        "first champion: stable",
        NOW,
    )


def test_a_promotion_retires_the_champion_and_a_refusal_keeps_it(
    lake: Lakehouse, tmp_path: Path
) -> None:
    seed_models(lake, [model_row("ridge-a", models_dir=tmp_path, status="champion")])
    kept = Verdict("ridge-a", None, {"gbt-b": "challenger: within the margin"}, "stays")
    register(lake, [_new("gbt-b", tmp_path, 1)], kept, champion_before="ridge-a", now=NOW)
    assert _statuses(lake) == {"ridge-a": "champion", "gbt-b": "challenger"}
    assert lake.count(PROMOTIONS) == 0
    reason = lake.read(MODELS, where="model_version = 'gbt-b'").item(0, "status_reason")
    assert reason == "challenger: within the margin"

    won = Verdict("gbt-c", "gbt-c", {"gbt-c": "promoted: beats"}, "promoted")
    register(lake, [_new("gbt-c", tmp_path, 2)], won, champion_before="ridge-a", now=NOW)
    assert _statuses(lake) == {"ridge-a": "retired", "gbt-b": "challenger", "gbt-c": "champion"}
    retired = lake.read(MODELS, where="model_version = 'ridge-a'").row(0, named=True)
    assert retired["status_reason"] == f"replaced by gbt-c (gate by {GATE_ACTOR})"
    assert lake.read(PROMOTIONS).select("from_version", "to_version").rows() == [
        ("ridge-a", "gbt-c")
    ]


def test_nothing_is_registered_when_the_champion_changed_during_training(
    lake: Lakehouse, tmp_path: Path
) -> None:
    seed_models(lake, [model_row("ridge-a", models_dir=tmp_path, status="champion")])
    before = lake.current_snapshot()
    won = Verdict("gbt-c", "gbt-c", {"gbt-c": "promoted"}, "promoted")
    with pytest.raises(RegistryError, match="changed from ridge-z to ridge-a"):
        register(lake, [_new("gbt-c", tmp_path, 2)], won, champion_before="ridge-z", now=NOW)
    assert lake.current_snapshot() == before


def test_promote_and_rollback_by_a_person_with_who_and_why(lake: Lakehouse, tmp_path: Path) -> None:
    seed_models(
        lake,
        [
            model_row("ridge-a", models_dir=tmp_path, status="champion", day=0),
            model_row("gbt-b", models_dir=tmp_path, status="challenger", day=1),
        ],
    )
    record = change_champion(
        lake, "gbt-b", action="promote", actor="alice", reason="trees", now=NOW
    )
    assert (record["from_version"], record["to_version"], record["actor"]) == (
        "ridge-a",
        "gbt-b",
        "alice",
    )
    assert _statuses(lake) == {"ridge-a": "retired", "gbt-b": "champion"}
    assert current_champion(lake)["status_reason"] == "promote by alice: trees"

    assert previous_champion(lake) == "ridge-a"
    later = NOW + dt.timedelta(hours=1)
    change_champion(lake, "ridge-a", action="rollback", actor="bob", reason="drawdown", now=later)
    assert _statuses(lake) == {"ridge-a": "champion", "gbt-b": "retired"}
    rows = history(lake, limit=10).select("action", "from_version", "to_version", "actor", "reason")
    assert rows.rows() == [
        ("rollback", "gbt-b", "ridge-a", "bob", "drawdown"),
        ("promote", "ridge-a", "gbt-b", "alice", "trees"),
    ]
    # The previous champion of the rolled-back-to model is the one it replaced just now.
    assert previous_champion(lake) == "gbt-b"


def test_rollback_without_an_earlier_champion_is_refused(lake: Lakehouse, tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="no champion to roll back from"):
        previous_champion(lake)
    seed_models(lake, [model_row("ridge-a", models_dir=tmp_path, status="champion")])
    with pytest.raises(RegistryError, match="replaced no earlier champion"):
        previous_champion(lake)


@pytest.mark.parametrize(
    ("version", "actor", "reason", "message"),
    [
        ("ridge-x", "alice", "why", "no model ridge-x"),
        ("ridge-a", "alice", "why", "already the champion"),
        ("gbt-b", "", "why", "say who"),
        ("gbt-b", "alice", " ", "say who"),
        ("old-c", "alice", "why", "another feature set"),
    ],
)
def test_a_refused_promotion_changes_nothing(
    lake: Lakehouse, tmp_path: Path, version: str, actor: str, reason: str, message: str
) -> None:
    seed_models(
        lake,
        [
            model_row("ridge-a", models_dir=tmp_path, status="champion"),
            model_row("gbt-b", models_dir=tmp_path, status="challenger"),
            model_row(
                "old-c", models_dir=tmp_path, status="retired", feature_names=json.dumps(["x"])
            ),
        ],
    )
    before = lake.current_snapshot()
    with pytest.raises(RegistryError, match=message):
        change_champion(lake, version, action="promote", actor=actor, reason=reason, now=NOW)
    assert lake.current_snapshot() == before


def test_an_altered_artifact_is_never_promoted(lake: Lakehouse, tmp_path: Path) -> None:
    row = model_row("gbt-b", models_dir=tmp_path, status="challenger")
    seed_models(lake, [model_row("ridge-a", models_dir=tmp_path, status="champion"), row])
    Path(row["artifact_path"]).write_bytes(b"not the model")
    with pytest.raises(ArtifactError, match="sha256"):
        change_champion(lake, "gbt-b", action="promote", actor="alice", reason="why", now=NOW)
    assert current_champion(lake)["model_version"] == "ridge-a"
