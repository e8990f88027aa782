"""Asset checks on features.daily: drift against the champion's training window, label leakage,
and one row per symbol of the universe in the latest session.

Each check reads the lakehouse as it is (latest session, champion's window), not the run's
partition, so it means the same whichever partition the run materialized.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg
import polars as pl

from assets import keys
from assets.features.drift import cross_sectional_z, feature_psi
from assets.features.leakage import label_correlations, leaking_features, strongest
from assets.models.registry import current_champion
from assets.resources import LakehouseResource, ModelResource
from warehouse.lake import Lakehouse
from warehouse.schemas import CURATED_BARS, FEATURE_COLUMNS, FEATURES, LABELS

# PSI above 0.25 is the conventional "significant shift".
MAX_PSI = 0.25
# The check fails on broad drift: at least this share of the features shifted. Long-lookback
# features (ret_252, vol_60) have few independent observations in a month and cross 0.25 on
# most ordinary regime moves; one of them alone retraining the model would retrain weekly
# anyway (measured on the Yahoo 100: 8 of 11 yearly points had at least one such feature).
MIN_DRIFTED_SHARE = 0.25
# The current sample: one session's cross-section shares one market day, so its time-series
# features (ret_1, vol_20) sit in one corner of a two-year window and a single session would
# "drift" on any ordinary busy day; a month of sessions measures the regime.
DRIFT_SESSIONS = 21
# |correlation| with the forward-return label from which a feature is taken to see the future.
LEAKAGE_THRESHOLD = 0.95
SHOWN = 5  # features named in the summary metadata
LISTED = 20  # symbols named in the row-count metadata


def recent_sessions(lake: Lakehouse, *, count: int) -> list[dt.date]:
    """Return the latest ``count`` sessions of features.daily, oldest first."""
    found = lake.query(
        f"SELECT DISTINCT session FROM {FEATURES.table} ORDER BY session DESC LIMIT ?", [count]
    )
    return sorted(found.get_column("session").to_list()) if found.height else []


def _drift_metadata(psi: pl.DataFrame, drifted: list[str]) -> dict[str, object]:
    worst = psi.head(SHOWN).select("feature", "psi").rows()
    return {
        "threshold": MAX_PSI,
        "min_drifted_share": MIN_DRIFTED_SHARE,
        "drifted_count": len(drifted),
        "drifted": ", ".join(drifted) or "none",
        "worst": "; ".join(f"{name} {value:.3f}" for name, value in worst),
        **{f"psi_{name}": value for name, value in psi.select("feature", "psi").rows()},
    }


@dg.asset_check(
    asset=keys.FEATURES,
    description=(
        "Population stability index of each feature (standardized within each session, as the "
        f"rank-based models see it) over the latest {DRIFT_SESSIONS} sessions "
        f"against the champion model's training window; WARN when at least "
        f"{MIN_DRIFTED_SHARE:.0%} of them exceed {MAX_PSI} or any cannot be measured. A failure "
        "requests retraining (assets/retrain.py)."
    ),
)
def features_drift(lakehouse: LakehouseResource) -> dg.AssetCheckResult:
    """Fail when a feature's distribution moved away from the champion's training window."""
    with lakehouse.open() as lake:
        champion = current_champion(lake)
        if champion is None:
            return dg.AssetCheckResult(
                passed=True,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={
                    "drift": "not measurable yet: models.registry holds no champion model, "
                    "whose training window is the reference"
                },
            )
        start, end = champion["train_start"], champion["train_end"]
        reference = lake.read(FEATURES, where="session BETWEEN ? AND ?", params=[start, end])
        window = recent_sessions(lake, count=DRIFT_SESSIONS)
        first = window[0] if window else None
        current = lake.read(FEATURES, where="session >= ?", params=[first])
    # Per-session z-scores: drift in the cross-section's shape, not the market's level.
    psi = feature_psi(
        cross_sectional_z(reference, columns=FEATURE_COLUMNS),
        cross_sectional_z(current, columns=FEATURE_COLUMNS),
        columns=FEATURE_COLUMNS,
    )
    # Undefined PSI (a sample without values) fails too: drift is then unknown.
    drifted = psi.filter(pl.col("psi").is_nan() | (pl.col("psi") > MAX_PSI))
    unknown = psi.get_column("psi").is_nan().any()
    broad = drifted.height >= MIN_DRIFTED_SHARE * psi.height
    return dg.AssetCheckResult(
        passed=not (unknown or broad),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "champion": champion["model_version"],
            "reference_window": f"{start} .. {end}",
            "reference_rows": reference.height,
            "current_window": f"{window[0]} .. {window[-1]}" if window else "none",
            "current_sessions": len(window),
            "current_rows": current.height,
            **_drift_metadata(psi, drifted.get_column("feature").to_list()),
        },
    )


@dg.asset_check(
    asset=keys.FEATURES,
    blocking=True,
    description=(
        f"No feature correlates with the model's forward-return label at |r| >= "
        f"{LEAKAGE_THRESHOLD} (Pearson or Spearman, over the labelled rows of the latest "
        "train_sessions sessions: what the next model trains on); blocking, so a feature that "
        "sees the future stops the model from training on it."
    ),
)
def features_label_leakage(
    lakehouse: LakehouseResource, model_settings: ModelResource
) -> dg.AssetCheckResult:
    """Fail when a feature tracks the label it is meant to predict."""
    params = model_settings.params()
    horizon = params.horizon
    with lakehouse.open() as lake:
        labels = lake.read(
            LABELS,
            where=f"horizon = ? AND fwd_return IS NOT NULL AND session IN (SELECT DISTINCT session "
            f"FROM {LABELS.table} WHERE horizon = ? AND fwd_return IS NOT NULL "
            "ORDER BY session DESC LIMIT ?)",
            params=[horizon, horizon, params.train_sessions],
        )
        first = labels.get_column("session").min()
        features = lake.read(FEATURES, where="session >= ?", params=[first])
    rows = features.join(labels.select("symbol", "session", "fwd_return"), on=["symbol", "session"])
    ranked = strongest(label_correlations(rows, features=FEATURE_COLUMNS, label="fwd_return"))
    leaking = leaking_features(ranked, threshold=LEAKAGE_THRESHOLD)
    top = ranked.head(SHOWN).select("feature", "pearson", "spearman").rows()
    return dg.AssetCheckResult(
        passed=not leaking,
        metadata={
            "horizon": horizon,
            "labelled_rows": rows.height,
            "threshold": LEAKAGE_THRESHOLD,
            "leaking": ", ".join(leaking) or "none",
            "strongest": "; ".join(f"{n} pearson {p:.3f} spearman {s:.3f}" for n, p, s in top)
            if rows.height
            else "not measurable: no labelled rows yet",
            **{f"max_abs_corr_{n}": v for n, v in ranked.select("feature", "max_abs").rows()},
        },
    )


@dg.asset_check(
    asset=keys.FEATURES,
    description=(
        "The latest feature session holds exactly one row per symbol of the universe: the "
        "symbols with a curated bar in that session."
    ),
)
def features_row_count(lakehouse: LakehouseResource) -> dg.AssetCheckResult:
    """Fail when the latest session's feature rows and the universe's symbols differ."""
    with lakehouse.open() as lake:
        session = lake.query(f"SELECT max(session) FROM {FEATURES.table}").item()
        have = lake.query(f"SELECT symbol FROM {FEATURES.table} WHERE session = ?", [session])
        universe = lake.query(
            f"SELECT DISTINCT symbol FROM {CURATED_BARS.table} WHERE session = ?", [session]
        )
    symbols = set(have.get_column("symbol").to_list()) if have.height else set()
    expected = set(universe.get_column("symbol").to_list()) if universe.height else set()
    missing, extra = sorted(expected - symbols), sorted(symbols - expected)
    return dg.AssetCheckResult(
        passed=session is not None and not missing and not extra,
        metadata={
            "session": str(session) if session else "none: features.daily is empty",
            "universe": len(expected),
            "rows": have.height,
            "missing": len(missing),
            "missing_symbols": ", ".join(missing[:LISTED]) or "none",
            "without_bar": ", ".join(extra[:LISTED]) or "none",
        },
    )


FEATURE_CHECKS = (features_drift, features_label_leakage, features_row_count)
