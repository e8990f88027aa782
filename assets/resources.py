"""Dagster resources: the lakehouse and the model settings, built once from explicit values."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg

from assets.models.train import ModelParams
from warehouse.lake import Lakehouse

if TYPE_CHECKING:
    from quantlake.settings import Settings


class LakehouseResource(dg.ConfigurableResource):
    """The DuckLake lakehouse at ``root`` (catalog ``sqlite`` or ``postgres:<dsn>``)."""

    root: str
    catalog: str = "sqlite"

    def open(self) -> Lakehouse:
        """Return a new Lakehouse handle; use it as a context manager so it is closed."""
        return Lakehouse(Path(self.root), catalog=self.catalog)


class ModelResource(dg.ConfigurableResource):
    """Walk-forward model settings (mirror quantlake.settings.ModelSettings) and artifact folder."""

    horizon: int
    train_sessions: int
    test_sessions: int
    seed: int
    models_dir: str
    config: str | None = None
    retrain_every_sessions: int = 5

    def params(self) -> ModelParams:
        """Return the validated training parameters."""
        return ModelParams(
            horizon=self.horizon,
            train_sessions=self.train_sessions,
            test_sessions=self.test_sessions,
            seed=self.seed,
        )

    @property
    def artifacts(self) -> Path:
        return Path(self.models_dir)


def build_resources(
    *, lake_root: str, catalog: str, models_dir: str, model: Mapping[str, Any]
) -> dict[str, dg.ConfigurableResource]:
    """Return the resources every quantlake asset and check uses, keyed by parameter name."""
    settings = ModelResource(models_dir=models_dir, **model)
    settings.params()  # fail at load time, not in the first run, on invalid settings
    return {
        "lakehouse": LakehouseResource(root=lake_root, catalog=catalog),
        "model_settings": settings,
    }


def options_from_settings(settings: Settings) -> dict[str, Any]:
    """Return build_resources keyword arguments from quantlake settings (absolute paths)."""
    return {
        "lake_root": str(settings.lake_dir.resolve()),
        "catalog": settings.catalog,
        "models_dir": str(settings.models_dir.resolve()),
        "model": settings.model.model_dump(),
    }
