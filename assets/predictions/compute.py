"""Score one session's features with a fitted model (pure)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from assets.models.artifact import ModelArtifact
from assets.models.train import CONTEXT_COLUMNS, feature_names, predict
from warehouse.schemas import FEATURE_COLUMNS


def latest_session(features: pl.DataFrame) -> dt.date:
    """Return the newest session in the features."""
    if features.is_empty():
        raise ValueError("features.daily is empty: materialize features/daily first")
    return features.get_column("session").max()


def context_of(artifact: ModelArtifact) -> tuple[str, ...]:
    """Return the context tables ("macro", "sentiment") the artifact's model was trained with.

    Raise when its feature names are not the bar features plus whole context tables in the
    order training lays them out: the features stored now cannot give it its inputs.
    """
    names = artifact.feature_names
    extra = tuple(n for n, cols in CONTEXT_COLUMNS.items() if set(cols) <= set(names))
    if names != feature_names(extra):
        raise ValueError(
            f"model {artifact.model_version} was trained on features {names} but "
            f"features.daily holds {FEATURE_COLUMNS} (context tables: "
            f"{', '.join(CONTEXT_COLUMNS)}): re-materialize models/registry"
        )
    return extra


def score_session(
    features: pl.DataFrame, artifact: ModelArtifact, *, session: dt.date
) -> pl.DataFrame:
    """Return (symbol, session, score) for every symbol with complete features at ``session``.

    ``features`` must hold every input of the artifact: the bar features, and the context
    columns it was trained with already joined (the predictions asset joins them). Symbols still
    in their warm-up or without a context value (a null input) get no score; the predictions
    asset check reports them.
    """
    context_of(artifact)
    names = list(artifact.feature_names)
    absent = [c for c in names if c not in features.columns]
    if absent:
        raise ValueError(
            f"model {artifact.model_version} needs columns {absent} the features to score lack: "
            "join its context tables (features.macro_daily / features.sentiment_daily) first"
        )
    rows = features.filter(pl.col("session") == session).drop_nulls(names).sort("symbol")
    if rows.is_empty():
        raise ValueError(f"no symbol has complete features at {session}: nothing to score")
    return rows.select("symbol", "session").with_columns(
        score=pl.Series(predict(artifact.pipeline, rows, features=names), dtype=pl.Float64)
    )
