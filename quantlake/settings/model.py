"""Settings of model training and retraining."""

from __future__ import annotations

from pydantic import Field, model_validator

from quantlake.settings.base import _Frozen


class ModelSettings(_Frozen):
    """Walk-forward training of the cross-sectional return model."""

    horizon: int = Field(5, ge=1, le=60)
    train_sessions: int = Field(504, ge=60)
    test_sessions: int = Field(63, ge=5)
    seed: int = 0
    # `quantlake run` retrains when the newest model's data ends more than this many sessions
    # (plus the horizon) before the latest features session; the Dagster deployment retrains
    # weekly and when the drift check fails (assets/retrain.py).
    retrain_every_sessions: int = Field(5, ge=1)
    # Hyperparameters, walk-forward scheme and promotion gate: a TOML file like
    # assets/models/config.toml (the default when unset).
    config: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_alpha(cls, values: object) -> object:
        if isinstance(values, dict) and "alpha" in values:
            raise ValueError(
                "model.alpha (QUANTLAKE_MODEL__ALPHA) is no longer a setting: the Ridge alpha "
                "lives in the model config file ([algorithms.ridge] alpha in "
                "assets/models/config.toml, or your QUANTLAKE_MODEL__CONFIG); set it there, bump "
                "config_version and unset QUANTLAKE_MODEL__ALPHA"
            )
        return values
