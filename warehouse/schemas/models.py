"""Models zone: the registry and its promotion history."""

from __future__ import annotations

from warehouse.schemas.dataset import Dataset

MODELS = Dataset(
    "models",
    "registry",
    (
        ("model_version", "VARCHAR"),
        ("created_at", "TIMESTAMPTZ"),
        ("algorithm", "VARCHAR"),
        ("params", "VARCHAR"),
        ("feature_names", "VARCHAR"),
        ("horizon", "INTEGER"),
        ("train_start", "DATE"),
        ("train_end", "DATE"),
        ("test_start", "DATE"),
        ("test_end", "DATE"),
        ("n_train", "BIGINT"),
        ("n_test", "BIGINT"),
        ("data_snapshot", "BIGINT"),
        ("oos_ic", "DOUBLE"),
        ("oos_rank_ic", "DOUBLE"),
        ("oos_hit_rate", "DOUBLE"),
        ("artifact_path", "VARCHAR"),
        ("artifact_sha256", "VARCHAR"),
        ("status", "VARCHAR"),
        # Models work (issue 4): walk-forward folds, config and gated promotion. Appended, so
        # older lakehouses gain them on open (null for rows written before).
        ("feature_set_hash", "VARCHAR"),
        ("config_version", "VARCHAR"),
        ("n_folds", "INTEGER"),
        ("embargo_sessions", "INTEGER"),
        ("oos_ic_tstat", "DOUBLE"),
        ("oos_decile_spread", "DOUBLE"),
        ("oos_positive_fold_share", "DOUBLE"),
        ("fold_metrics", "VARCHAR"),  # JSON list, one object per walk-forward fold
        ("status_reason", "VARCHAR"),  # why the model holds its status (gate or person)
        ("status_changed_at", "TIMESTAMPTZ"),
    ),
    key=("model_version",),
    description="Model registry: window, data snapshot, params, out-of-sample metrics, status.",
)

PROMOTIONS = Dataset(
    "models",
    "promotions",
    (
        ("promotion_id", "VARCHAR"),
        ("changed_at", "TIMESTAMPTZ"),
        ("action", "VARCHAR"),  # gate (the model asset) | promote | rollback (a person)
        ("from_version", "VARCHAR"),  # the champion replaced; null for the first champion
        ("to_version", "VARCHAR"),
        ("actor", "VARCHAR"),
        ("reason", "VARCHAR"),
    ),
    key=("promotion_id",),
    description="Every change of champion: who or what made it, why, from which model to which.",
)
