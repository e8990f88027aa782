"""The feature and freshness checks run by Dagster on a small temporary lakehouse."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
import pytest

from assets import keys
from assets.checks_features import DRIFT_SESSIONS, FEATURE_CHECKS, MAX_PSI, MIN_DRIFTED_SHARE
from assets.checks_freshness import FRESHNESS_CHECKS
from assets.resources import build_resources
from tests.unit.assets import feature_rows as rows
from warehouse.lake import Lakehouse
from warehouse.schemas import FEATURE_COLUMNS, FEATURES, PREDICTIONS

U = rows.universe()


ALL_CHECKS = (*FEATURE_CHECKS, *FRESHNESS_CHECKS)


def run_checks(
    lake: Lakehouse,
    tmp_path: Path,
    *names: str,
    instance: dg.DagsterInstance | None = None,
) -> dict[str, dg.AssetCheckEvaluation]:
    """Run the named feature and freshness checks (all by default, not the assets)."""
    checks = [c for c in ALL_CHECKS if not names or c.check_key.name in names]
    result = dg.materialize(
        [dg.AssetSpec(keys.FEATURES), dg.AssetSpec(keys.PREDICTIONS), *checks],
        selection=dg.AssetSelection.checks(*checks),
        instance=instance or dg.DagsterInstance.ephemeral(),
        resources=build_resources(
            lake_root=str(lake.root),
            catalog="sqlite",
            models_dir=str(tmp_path / "models"),
            model=rows.MODEL,
        ),
        raise_on_error=False,  # a failing blocking check fails the run; its result is recorded
    )
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def meta(evaluation: dg.AssetCheckEvaluation) -> dict[str, Any]:
    return {k: v.value for k, v in evaluation.metadata.items()}


@pytest.fixture
def clean(lake: Lakehouse) -> Lakehouse:
    """Bars, features and labels for every symbol and session, no model yet."""
    rows.write(lake, bars=rows.bars(U), features=rows.features(U), labels=rows.labels(U))
    return lake


def test_clean_features_pass_every_check(clean: Lakehouse, tmp_path: Path) -> None:
    rows.seed_champion(clean, U, models_dir=tmp_path / "models", train_sessions=200)
    checks = run_checks(clean, tmp_path)

    assert set(checks) == {
        "features_drift",
        "features_label_leakage",
        "features_row_count",
        "features_fresh",
        # predictions.daily is empty: the only failure, checked below
        "predictions_fresh",
    }
    assert {name for name, e in checks.items() if not e.passed} == {"predictions_fresh"}
    drift = meta(checks["features_drift"])
    assert drift["champion"] == "ridge-test-champion"
    assert drift["reference_window"] == f"{U.sessions[0]} .. {U.sessions[199]}"
    assert drift["reference_rows"] == 200 * len(U.symbols)
    assert drift["current_sessions"] == DRIFT_SESSIONS
    assert drift["current_rows"] == DRIFT_SESSIONS * len(U.symbols)
    assert drift["drifted"] == "none"
    assert meta(checks["features_row_count"])["universe"] == len(U.symbols)


def test_drift_without_a_champion_passes_and_says_why(clean: Lakehouse, tmp_path: Path) -> None:
    drift = run_checks(clean, tmp_path, "features_drift")["features_drift"]
    assert drift.passed
    assert "no champion" in meta(drift)["drift"]


def test_one_shifted_feature_is_reported_but_only_broad_drift_fails_as_a_warning(
    lake: Lakehouse, tmp_path: Path
) -> None:
    shifted = rows.shifted(rows.features(U), column="vol_20", by=10.0, sessions=DRIFT_SESSIONS)
    rows.write(lake, bars=rows.bars(U), features=shifted, labels=rows.labels(U))
    rows.seed_champion(lake, U, models_dir=tmp_path / "models", train_sessions=200)
    drift = run_checks(lake, tmp_path, "features_drift")["features_drift"]

    assert drift.passed  # one feature of 49 moved: reported, not a retrain
    metadata = meta(drift)
    assert metadata["drifted"] == "vol_20"
    assert metadata["worst"].startswith("vol_20 ")
    assert metadata["psi_vol_20"] > MAX_PSI
    assert max(v for k, v in metadata.items() if k.startswith("psi_") and k != "psi_vol_20") < 0.1


def test_broad_drift_fails_the_drift_check_as_a_warning(lake: Lakehouse, tmp_path: Path) -> None:
    moved = FEATURE_COLUMNS[: math.ceil(MIN_DRIFTED_SHARE * len(FEATURE_COLUMNS))]
    frame = rows.broadly_shifted(
        rows.features(U), share=MIN_DRIFTED_SHARE, by=10.0, sessions=DRIFT_SESSIONS
    )
    rows.write(lake, bars=rows.bars(U), features=frame, labels=rows.labels(U))
    rows.seed_champion(lake, U, models_dir=tmp_path / "models", train_sessions=200)
    drift = run_checks(lake, tmp_path, "features_drift")["features_drift"]

    assert not drift.passed
    assert drift.severity == dg.AssetCheckSeverity.WARN
    assert meta(drift)["drifted_count"] >= len(moved)
    assert set(moved) <= set(meta(drift)["drifted"].split(", "))


def test_a_feature_equal_to_the_label_fails_the_blocking_leakage_check(
    lake: Lakehouse, tmp_path: Path
) -> None:
    labels = rows.labels(U)
    leaky = rows.leaky(rows.features(U), labels, column="ret_5")
    rows.write(lake, bars=rows.bars(U), features=leaky, labels=labels)
    leakage = run_checks(lake, tmp_path, "features_label_leakage")["features_label_leakage"]

    assert not leakage.passed
    assert leakage.blocking
    assert leakage.severity == dg.AssetCheckSeverity.ERROR
    metadata = meta(leakage)
    assert metadata["leaking"] == "ret_5"
    assert metadata["max_abs_corr_ret_5"] == pytest.approx(1.0)
    # The rows of the latest train_sessions labelled sessions: what the next model trains on.
    labelled = min(len(U.sessions) - rows.HORIZON, rows.MODEL["train_sessions"])
    assert metadata["labelled_rows"] == labelled * len(U.symbols)


def test_a_symbol_missing_from_the_latest_session_fails_the_row_count(
    lake: Lakehouse, tmp_path: Path
) -> None:
    dropped = rows.features(U).filter(
        ~((pl.col("symbol") == "F07") & (pl.col("session") == U.latest))
    )
    rows.write(lake, bars=rows.bars(U), features=dropped, labels=rows.labels(U))
    count = run_checks(lake, tmp_path, "features_row_count")["features_row_count"]

    assert not count.passed
    assert meta(count) == {
        "session": str(U.latest),
        "universe": len(U.symbols),
        "rows": len(U.symbols) - 1,
        "missing": 1,
        "missing_symbols": "F07",
        "without_bar": "none",
    }


def test_freshness_names_the_sessions_compared(lake: Lakehouse, tmp_path: Path) -> None:
    behind = rows.features(U).filter(pl.col("session") < U.sessions[-2])
    rows.write(lake, bars=rows.bars(U), features=behind, labels=rows.labels(U))
    scores = behind.filter(pl.col("session") == U.sessions[-3]).select(
        "symbol",
        "session",
        score=pl.lit(0.1),
        model_version=pl.lit("m"),
        features_snapshot=pl.lit(1, dtype=pl.Int64),
        created_at=pl.lit(None, dtype=pl.Datetime("us", "UTC")),
    )
    with lake.transaction("predictions") as txn:
        txn.merge(PREDICTIONS, scores)
    checks = run_checks(lake, tmp_path, "features_fresh", "predictions_fresh")

    features, predictions = checks["features_fresh"], checks["predictions_fresh"]
    assert not features.passed and features.severity == dg.AssetCheckSeverity.WARN
    assert meta(features) == {
        "features_session": str(U.sessions[-3]),
        "curated_bars_session": str(U.latest),
        "status": "2 session(s) behind curated_bars",
    }
    assert predictions.passed
    assert meta(predictions)["status"] == "up to date"


def test_empty_features_fail_row_count_and_freshness(lake: Lakehouse, tmp_path: Path) -> None:
    rows.write(lake, bars=rows.bars(U), features=rows.features(U).head(0), labels=rows.labels(U))
    checks = run_checks(lake, tmp_path, "features_row_count", "features_fresh")

    assert lake.count(FEATURES) == 0
    assert not checks["features_row_count"].passed
    assert meta(checks["features_row_count"])["session"] == "none: features.daily is empty"
    assert (
        meta(checks["features_fresh"])["status"] == f"empty while curated_bars reaches {U.latest}"
    )
