"""Meta zone: batches, validation results, quality reports, backfill windows."""

from __future__ import annotations

from warehouse.schemas.dataset import _BATCH, Dataset

BATCHES = Dataset(
    "meta",
    "batches",
    _BATCH
    + (
        ("dataset", "VARCHAR"),
        ("first_session", "DATE"),
        ("last_session", "DATE"),
        ("rows_in", "BIGINT"),
        ("rows_passed", "BIGINT"),
        ("rows_quarantined", "BIGINT"),
        ("status", "VARCHAR"),
        ("message", "VARCHAR"),
    ),
    key=("batch_id",),
    description="One row per ingested batch: counts and validation status (passed/failed).",
)

VALIDATION_RESULTS = Dataset(
    "meta",
    "validation_results",
    (
        ("batch_id", "VARCHAR"),
        ("suite", "VARCHAR"),
        ("rule", "VARCHAR"),
        ("severity", "VARCHAR"),
        ("success", "BOOLEAN"),
        ("element_count", "BIGINT"),
        ("unexpected_count", "BIGINT"),
        ("detail", "VARCHAR"),
        ("validated_at", "TIMESTAMPTZ"),
    ),
    key=("batch_id", "suite", "rule"),
    description="Each batch's Great Expectations result, one row per expectation.",
)

# -- data quality reports (flows/quality/report.py) --------------------------------------------
# One row per (run, source, dataset, symbol), plus a symbol "*" row per (source, dataset) with the
# totals. symbol is the series id for macro; news has the "*" row only. quarantined_by_rule and
# details are JSON (details: rule examples, gap sessions, detected splits, closures, batches).
QUALITY_REPORTS = Dataset(
    "meta",
    "quality_reports",
    (
        ("run_id", "VARCHAR"),
        ("source", "VARCHAR"),
        ("dataset", "VARCHAR"),
        ("symbol", "VARCHAR"),
        ("created_at", "TIMESTAMPTZ"),
        ("batch_ids", "VARCHAR"),  # JSON list of the run's batches of this source and dataset
        ("rows_in", "BIGINT"),
        ("rows_passed", "BIGINT"),
        ("rows_quarantined", "BIGINT"),
        ("quarantined_by_rule", "VARCHAR"),  # JSON {rule: rows}
        ("conflicts", "BIGINT"),  # rows whose key arrived before with other values
        ("gaps", "BIGINT"),  # calendar sessions missing inside the symbol's range (daily bars)
        ("splits_found", "BIGINT"),  # unadjusted splits detected in curated (daily bars)
        ("last_session", "DATE"),  # latest curated session (observation or publication date)
        ("sessions_behind", "BIGINT"),  # completed sessions after last_session (bars only)
        ("latest_knowledge_time", "TIMESTAMPTZ"),
        ("status", "VARCHAR"),  # ok | warning | failed
        ("details", "VARCHAR"),  # JSON
    ),
    key=("run_id", "source", "dataset", "symbol"),
    description="Per-run data quality report: counts, rules, conflicts, gaps, splits, freshness.",
)

# -- backfill and gap re-requests (flows/backfill/flow.py, flows/backfill/gaps.py) ---------
# One row per window of daily bars a backfill chunk or a gap re-request ingested: its sessions,
# the symbols asked for (scope: a JSON list, "[]" meaning every symbol the source serves), the
# batch it produced or found, and whether this window's run committed that batch. A backfill
# skips windows covered here; the scheduled ingest's watermark ignores the batches committed here.
BACKFILL_WINDOWS = Dataset(
    "meta",
    "backfill_windows",
    (
        ("source", "VARCHAR"),
        ("kind", "VARCHAR"),  # backfill | gaps
        ("scope", "VARCHAR"),
        ("first_session", "DATE"),
        ("last_session", "DATE"),
        ("batch_id", "VARCHAR"),
        ("committed", "BOOLEAN"),  # false: the batch was already in meta.batches
        ("status", "VARCHAR"),  # the batch's validation: passed | failed
        ("recorded_at", "TIMESTAMPTZ"),
    ),
    key=("source", "kind", "scope", "first_session", "last_session"),
    description="Windows ingested by backfills and gap re-requests, and the batch of each.",
)
