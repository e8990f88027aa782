"""Predictions zone: the champion's score per symbol per session."""

from __future__ import annotations

from warehouse.schemas.dataset import Dataset

PREDICTIONS = Dataset(
    "predictions",
    "daily",
    (
        ("symbol", "VARCHAR"),
        ("session", "DATE"),
        ("score", "DOUBLE"),
        ("model_version", "VARCHAR"),
        ("features_snapshot", "BIGINT"),
        ("created_at", "TIMESTAMPTZ"),
    ),
    key=("symbol", "session", "model_version"),
    description="Score per symbol per session from a registered model.",
)
