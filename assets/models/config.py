"""The versioned model configuration (assets/models/config.toml), validated when read.

Every field must be stated in the file: a missing or misspelt key is an error, never a default.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from assets.models.estimators import Spec

CONFIG_PATH = Path(__file__).with_name("config.toml")


class ConfigError(ValueError):
    """The model configuration file is missing or invalid."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RidgeParams(_Frozen):
    """L2-regularized linear regression on standardized, session-ranked features."""

    alpha: float = Field(gt=0)


class GbtParams(_Frozen):
    """scikit-learn HistGradientBoostingRegressor (no early stopping: it would hold out rows)."""

    max_iter: int = Field(ge=1, le=5000)
    learning_rate: float = Field(gt=0, le=1)
    max_leaf_nodes: int = Field(ge=2)
    min_samples_leaf: int = Field(ge=1)
    l2_regularization: float = Field(ge=0)


class Algorithms(_Frozen):
    """The algorithms trained on each run, with their hyperparameters."""

    ridge: RidgeParams | None = None
    gbt: GbtParams | None = None

    @model_validator(mode="after")
    def _at_least_one(self) -> Algorithms:
        if self.ridge is None and self.gbt is None:
            raise ValueError("[algorithms] lists none: add [algorithms.ridge] or [algorithms.gbt]")
        return self


class WalkForwardConfig(_Frozen):
    """How the out-of-sample folds are laid out (lengths come from the model settings)."""

    window: Literal["rolling", "expanding"]
    folds: int = Field(ge=1, le=20)


class PromotionConfig(_Frozen):
    """When a newly trained model may replace the champion (see promotion.py)."""

    metric: Literal["oos_ic", "oos_rank_ic"]
    margin: float = Field(ge=0)
    min_positive_fold_share: float = Field(ge=0, le=1)
    min_ic_tstat: float
    promote_refits: bool


ContextName = Literal["macro", "sentiment"]


class FeaturesConfig(_Frozen):
    """Context feature tables joined to the bar features (see assets/models/train.py)."""

    extra: tuple[ContextName, ...]

    @model_validator(mode="after")
    def _once_each(self) -> FeaturesConfig:
        if len(set(self.extra)) != len(self.extra):
            raise ValueError(f"[features] extra lists a table twice: {list(self.extra)}")
        return self


class ModelConfig(_Frozen):
    """The whole file."""

    config_version: str = Field(min_length=1)
    walk_forward: WalkForwardConfig
    algorithms: Algorithms
    promotion: PromotionConfig
    features: FeaturesConfig

    def specs(self) -> tuple[Spec, ...]:
        """Return the specification of every configured algorithm, in a fixed order."""
        listed = (("ridge", self.algorithms.ridge), ("gbt", self.algorithms.gbt))
        return tuple(Spec.of(name, params.model_dump()) for name, params in listed if params)


def load_config(path: Path = CONFIG_PATH) -> ModelConfig:
    """Read and validate the model configuration file."""
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ConfigError(f"model configuration {path} does not exist: restore it") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"model configuration {path} is not valid TOML: {exc}") from exc
    try:
        return ModelConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"model configuration {path} is invalid:\n{exc}") from exc
