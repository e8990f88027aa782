"""A model opted into the macro features ([features] extra = ["macro"]) trains, registers the
macro columns as its inputs and scores predictions with them."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from assets.features.assets import features
from assets.features.compute import FEATURE_LOOKBACK
from assets.features.context_assets import macro_features_asset
from assets.models.artifact import feature_set_hash, load_artifact
from assets.models.assets import model
from assets.predictions.assets import predictions
from assets.resources import build_resources
from assets.run import RANGE_END_TAG, RANGE_START_TAG
from tests.support.model_config import lenient_model_config
from tests.unit.assets.signal_bars import reversal_bars
from warehouse.lake import Lakehouse
from warehouse.schemas import (
    CURATED_BARS,
    CURATED_MACRO_VINTAGES,
    FEATURE_COLUMNS,
    MACRO_FEATURE_COLUMNS,
    MODELS,
    PREDICTIONS,
)

N_SYMBOLS, N_SESSIONS = 10, 560


def _vintages(first: dt.date, last: dt.date) -> pl.DataFrame:
    """Daily DGS10, DGS2 and VIXCLS values, each known the next day at 22:00 UTC."""
    rows = []
    for i in range((last - first).days + 1):
        day = first + dt.timedelta(days=i)
        known = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(22), dt.UTC)
        values = {"DGS10": 3.0 + (i % 50) / 100, "DGS2": 2.5 + (i % 30) / 50, "VIXCLS": 15 + i % 9}
        rows += [
            {"series_id": s, "observation_date": day, "knowledge_time": known, "value": v}
            for s, v in values.items()
        ]
    return CURATED_MACRO_VINTAGES.frame(rows)


def _run(selection: list, resources: dict, tags: dict[str, str]) -> dict[str, Any]:
    result = dg.materialize(
        selection, instance=dg.DagsterInstance.ephemeral(), resources=resources, tags=tags
    )
    assert result.success
    return {
        e.asset_key: {k: v.value for k, v in e.materialization.metadata.items()}
        for e in result.get_asset_materialization_events()
    }


def test_a_macro_model_trains_on_the_macro_columns_and_scores_with_them(
    lake: Lakehouse, tmp_path: Path
) -> None:
    bars = reversal_bars(n_symbols=N_SYMBOLS, n_sessions=N_SESSIONS, seed=3)
    first, last = bars.get_column("session").min(), bars.get_column("session").max()
    with lake.transaction("test data") as txn:
        txn.merge(CURATED_BARS, bars)
        txn.merge(CURATED_MACRO_VINTAGES, _vintages(first - dt.timedelta(days=30), last))
    config = lenient_model_config(tmp_path)
    text = config.read_text()
    assert "extra = []" in text
    config.write_text(text.replace("extra = []", 'extra = ["macro"]'))
    settings = {"horizon": 5, "train_sessions": 120, "test_sessions": 40, "seed": 0}
    resources = build_resources(
        lake_root=str(lake.root),
        catalog="sqlite",
        models_dir=str(tmp_path / "models"),
        model={**settings, "config": str(config)},
    )
    span = {RANGE_START_TAG: first.isoformat(), RANGE_END_TAG: last.isoformat()}
    _run([features, macro_features_asset], resources, span)
    trained = _run([model], resources, {})
    scored = _run([predictions], resources, {"dagster/partition": last.isoformat()})

    names = [*FEATURE_COLUMNS, *MACRO_FEATURE_COLUMNS]
    registry = lake.read(MODELS)
    assert registry.height == 2  # ridge and gbt
    lookbacks = {**FEATURE_LOOKBACK, "term_spread": 1, "vix": 1, "vix_change_5": 6}
    for row in registry.iter_rows(named=True):
        assert json.loads(row["feature_names"]) == names
        assert row["feature_set_hash"] == feature_set_hash(names, lookbacks)
        assert row["feature_set_hash"] != feature_set_hash(FEATURE_COLUMNS, FEATURE_LOOKBACK)
        artifact = load_artifact(Path(row["artifact_path"]), sha256=row["artifact_sha256"])
        assert list(artifact.feature_names) == names
        assert artifact.pipeline.n_features_in_ == len(names)
    champion = trained[model.key]["model_version"]
    assert champion is not None
    stored = lake.read(PREDICTIONS, where="session = ?", params=[last])
    assert stored.height == N_SYMBOLS == scored[predictions.key]["rows"]
    assert stored.get_column("model_version").unique().to_list() == [champion]
    assert stored.get_column("score").is_finite().all()
