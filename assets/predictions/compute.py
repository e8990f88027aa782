"""Score one session's features with a fitted model (pure)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from assets.models.artifact import ModelArtifact
from assets.models.train import predict
from warehouse.schemas import FEATURE_COLUMNS


def latest_session(features: pl.DataFrame) -> dt.date:
    """Return the newest session in the features."""
    if features.is_empty():
        raise ValueError("features.daily is empty: materialize features/daily first")
    return features.get_column("session").max()


def score_session(
    features: pl.DataFrame, artifact: ModelArtifact, *, session: dt.date
) -> pl.DataFrame:
    """Return (symbol, session, score) for every symbol with complete features at ``session``.

    Symbols still in their warm-up (a null feature) get no score; the predictions asset check
    reports them.
    """
    if artifact.feature_names != FEATURE_COLUMNS:
        raise ValueError(
            f"model {artifact.model_version} was trained on features {artifact.feature_names} "
            f"but features.daily holds {FEATURE_COLUMNS}: re-materialize models/registry"
        )
    rows = features.filter(pl.col("session") == session).drop_nulls(FEATURE_COLUMNS).sort("symbol")
    if rows.is_empty():
        raise ValueError(f"no symbol has complete features at {session}: nothing to score")
    return rows.select("symbol", "session").with_columns(
        score=pl.Series(predict(artifact.pipeline, rows), dtype=pl.Float64)
    )
