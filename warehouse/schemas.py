"""Every dataset in the lakehouse, declared once: zone, columns (DuckDB types), key.

A zone is a DuckLake schema; a dataset is a table ``<zone>.<name>``. Every record carries an
event time (``session`` or ``*_at``) and, where it comes from outside, a knowledge time
(``ingested_at`` / ``knowledge_time``): when we could first have known it.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import pyarrow as pa


@dataclass(frozen=True)
class Dataset:
    """One lakehouse table: its columns in order, its key and what it holds."""

    zone: str
    name: str
    columns: tuple[tuple[str, str], ...]
    key: tuple[str, ...]
    description: str

    @property
    def table(self) -> str:
        return f"{self.zone}.{self.name}"

    @property
    def column_names(self) -> list[str]:
        return [c for c, _ in self.columns]

    def ddl(self) -> str:
        cols = ", ".join(f'"{c}" {t}' for c, t in self.columns)
        return f"CREATE TABLE IF NOT EXISTS {self.table} ({cols})"

    def arrow_schema(self) -> pa.Schema:
        return pa.schema([(c, _ARROW[t]) for c, t in self.columns])

    def polars_schema(self) -> dict[str, pl.DataType]:
        return {c: _POLARS[t] for c, t in self.columns}

    def frame(self, rows: list[dict[str, object]]) -> pl.DataFrame:
        """Return ``rows`` (missing columns null) as a frame with exactly this schema."""
        return pl.DataFrame(
            [{c: r.get(c) for c in self.column_names} for r in rows],
            schema=self.polars_schema(),
            orient="row",
        )


_ARROW = {
    "VARCHAR": pa.string(),
    "DATE": pa.date32(),
    "TIMESTAMPTZ": pa.timestamp("us", tz="UTC"),
    "DOUBLE": pa.float64(),
    "BIGINT": pa.int64(),
    "INTEGER": pa.int32(),
    "BOOLEAN": pa.bool_(),
}

_POLARS: dict[str, pl.DataType] = {
    "VARCHAR": pl.String(),
    "DATE": pl.Date(),
    "TIMESTAMPTZ": pl.Datetime("us", "UTC"),
    "DOUBLE": pl.Float64(),
    "BIGINT": pl.Int64(),
    "INTEGER": pl.Int32(),
    "BOOLEAN": pl.Boolean(),
}

_OHLCV = (
    ("open", "DOUBLE"),
    ("high", "DOUBLE"),
    ("low", "DOUBLE"),
    ("close", "DOUBLE"),
    ("volume", "DOUBLE"),
)
_BATCH = (
    ("batch_id", "VARCHAR"),
    ("source", "VARCHAR"),
    ("ingested_at", "TIMESTAMPTZ"),
)

RAW_BARS = Dataset(
    "raw",
    "bars",
    _BATCH + (("row_number", "BIGINT"), ("symbol", "VARCHAR"), ("session", "DATE")) + _OHLCV,
    key=("batch_id", "row_number"),
    description="Daily bars as received, append-only; unparseable values are NULL.",
)

RAW_CORPORATE_ACTIONS = Dataset(
    "raw",
    "corporate_actions",
    _BATCH + (("symbol", "VARCHAR"), ("ex_session", "DATE"), ("split_ratio", "DOUBLE")),
    key=("symbol", "ex_session"),
    description=(
        "Splits as reported by the source, or detected in the bars (source 'detected'): "
        "new shares per old share from ex_session on."
    ),
)

QUARANTINE_BARS = Dataset(
    "quarantine",
    "bars",
    RAW_BARS.columns + (("rule", "VARCHAR"), ("detail", "VARCHAR")),
    key=("batch_id", "row_number", "rule"),
    description="Rejected raw rows, one per failed rule, with the rule and what was wrong.",
)

CURATED_BARS = Dataset(
    "curated",
    "bars",
    (("symbol", "VARCHAR"), ("session", "DATE"))
    + _OHLCV
    + (
        ("split_factor", "DOUBLE"),
        ("source", "VARCHAR"),
        ("batch_id", "VARCHAR"),
        ("knowledge_time", "TIMESTAMPTZ"),
    ),
    key=("symbol", "session"),
    description=(
        "Validated, deduplicated, split-adjusted daily bars. Prices are divided and volume "
        "multiplied by split_factor (the product of later splits), so returns are continuous."
    ),
)

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

# Feature columns are owned by assets/features; they are listed here so the schema is declared once.
FEATURE_COLUMNS: tuple[str, ...] = (
    # momentum
    "ret_1",
    "ret_5",
    "ret_10",
    "ret_20",
    "ret_60",
    "ret_120",
    "ret_252",
    "log_ret_1",
    "log_ret_5",
    "log_ret_20",
    "mom_252_21",
    "rsi_14",
    # trend
    "ma_ratio_5",
    "ma_ratio_10",
    "ma_ratio_20",
    "ma_ratio_50",
    "ma_ratio_200",
    "ema_ratio_12",
    "ema_ratio_26",
    "ema_ratio_50",
    "macd",
    "macd_signal",
    "macd_hist",
    "adx_14",
    "di_diff_14",
    # position in a range
    "stoch_k_14",
    "bb_pct_b_20",
    "bb_width_20",
    "dist_high_252",
    "dist_low_252",
    "max_drawdown_60",
    # volatility
    "vol_5",
    "vol_20",
    "vol_60",
    "parkinson_20",
    "garman_klass_20",
    "atr_14",
    "skew_20",
    "skew_60",
    # volume and liquidity
    "volume_z_20",
    "obv_slope_20",
    "amihud_20",
    "log_dollar_volume_20",
    # cross-sectional, per session
    "cs_rank_ret_20",
    "cs_rank_ret_252",
    "cs_rank_vol_20",
    "cs_rank_log_dollar_volume_20",
    "cs_z_ret_5",
    "cs_z_rsi_14",
)

FEATURES = Dataset(
    "features",
    "daily",
    (("symbol", "VARCHAR"), ("session", "DATE"))
    + tuple((c, "DOUBLE") for c in FEATURE_COLUMNS)
    + (("curated_snapshot", "BIGINT"),),
    key=("symbol", "session"),
    description="Point-in-time features: the row at session t uses bars up to and including t.",
)

LABELS = Dataset(
    "features",
    "labels",
    (
        ("symbol", "VARCHAR"),
        ("session", "DATE"),
        ("horizon", "INTEGER"),
        ("fwd_return", "DOUBLE"),
        ("label_session", "DATE"),
    ),
    key=("symbol", "session", "horizon"),
    description="Forward close-to-close return from session to label_session (looks ahead).",
)

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

ORDERS = Dataset(
    "trading",
    "orders",
    (
        ("client_order_id", "VARCHAR"),
        ("broker", "VARCHAR"),
        ("broker_order_id", "VARCHAR"),
        ("strategy", "VARCHAR"),
        ("session", "DATE"),
        ("symbol", "VARCHAR"),
        ("side", "VARCHAR"),
        ("qty", "DOUBLE"),
        ("order_type", "VARCHAR"),
        ("limit_price", "DOUBLE"),
        ("time_in_force", "VARCHAR"),
        ("intent", "VARCHAR"),
        ("status", "VARCHAR"),
        ("submitted_at", "TIMESTAMPTZ"),
        ("model_version", "VARCHAR"),
        ("predictions_snapshot", "BIGINT"),
        ("target_weight", "DOUBLE"),
        ("reference_price", "DOUBLE"),
        ("message", "VARCHAR"),
    ),
    key=("client_order_id",),
    description="Every order the platform decided on, with what it was based on and its status.",
)

FILLS = Dataset(
    "trading",
    "fills",
    (
        ("fill_id", "VARCHAR"),
        ("client_order_id", "VARCHAR"),
        ("broker", "VARCHAR"),
        ("symbol", "VARCHAR"),
        ("side", "VARCHAR"),
        ("qty", "DOUBLE"),
        ("price", "DOUBLE"),
        ("commission", "DOUBLE"),
        ("filled_at", "TIMESTAMPTZ"),
    ),
    key=("fill_id",),
    description="Executions reported by the broker.",
)

POSITIONS = Dataset(
    "trading",
    "positions",
    (
        ("broker", "VARCHAR"),
        ("symbol", "VARCHAR"),
        ("qty", "DOUBLE"),
        ("avg_price", "DOUBLE"),
        ("market_price", "DOUBLE"),
        ("as_of", "TIMESTAMPTZ"),
    ),
    key=("broker", "symbol"),
    description="Current positions as the broker reports them after each trade run.",
)

ACCOUNT = Dataset(
    "trading",
    "account",
    (
        ("broker", "VARCHAR"),
        ("as_of", "TIMESTAMPTZ"),
        ("cash", "DOUBLE"),
        ("equity", "DOUBLE"),
        ("buying_power", "DOUBLE"),
    ),
    key=("broker", "as_of"),
    description="Account snapshots, one per trade run.",
)

RISK_DECISIONS = Dataset(
    "trading",
    "risk_decisions",
    (
        ("run_id", "VARCHAR"),
        ("session", "DATE"),
        ("subject", "VARCHAR"),
        ("decision", "VARCHAR"),
        ("reason", "VARCHAR"),
        ("decided_at", "TIMESTAMPTZ"),
    ),
    key=("run_id", "subject"),
    description="Every gate and risk decision of a trade run (trade/refuse, order pass/reject).",
)

TRADING_CONTROLS = Dataset(
    "trading",
    "controls",
    (
        ("control_id", "VARCHAR"),
        ("action", "VARCHAR"),
        ("actor", "VARCHAR"),
        ("reason", "VARCHAR"),
        ("at", "TIMESTAMPTZ"),
    ),
    key=("control_id",),
    description="The manual kill switch: every halt and resume, with who and why.",
)

TRADING_STATE = Dataset(
    "trading",
    "state",
    (
        ("run_id", "VARCHAR"),
        ("broker", "VARCHAR"),
        ("session", "DATE"),
        ("state", "VARCHAR"),
        ("since", "TIMESTAMPTZ"),
        ("triggers", "VARCHAR"),
        ("reasons", "VARCHAR"),
        ("equity", "DOUBLE"),
        ("equity_peak", "DOUBLE"),
        ("decided_at", "TIMESTAMPTZ"),
    ),
    key=("run_id",),
    description="The trading state (active/reducing/halted) decided by each trade run, and why.",
)

TRADING_RECONCILIATIONS = Dataset(
    "trading",
    "reconciliations",
    (
        ("run_id", "VARCHAR"),
        ("broker", "VARCHAR"),
        ("reconciled_at", "TIMESTAMPTZ"),
        ("session", "DATE"),
        ("kind", "VARCHAR"),  # position | order
        ("subject", "VARCHAR"),  # the symbol or the client order id
        ("symbol", "VARCHAR"),
        ("platform_value", "VARCHAR"),  # quantity or status as the platform has it (null: none)
        ("broker_value", "VARCHAR"),  # as the broker has it (null: none)
        ("outcome", "VARCHAR"),
        ("reason", "VARCHAR"),
        ("read_snapshot", "BIGINT"),
    ),
    key=("run_id", "kind", "subject"),
    description="Each reconciliation's position and order checks against the broker.",
)

# The paper broker's own books: it is an outside party to the platform, so its state is kept apart
# from the platform's trading records (reconciliation compares the two).
PAPER_ORDERS = Dataset(
    "paper",
    "orders",
    (
        ("client_order_id", "VARCHAR"),
        ("broker_order_id", "VARCHAR"),
        ("symbol", "VARCHAR"),
        ("side", "VARCHAR"),
        ("qty", "DOUBLE"),
        ("order_type", "VARCHAR"),
        ("limit_price", "DOUBLE"),
        ("time_in_force", "VARCHAR"),
        ("status", "VARCHAR"),
        ("filled_qty", "DOUBLE"),
        ("filled_avg_price", "DOUBLE"),
        ("commission", "DOUBLE"),
        ("submitted_at", "TIMESTAMPTZ"),
        ("filled_at", "TIMESTAMPTZ"),
        # The session the order was placed in (it fills from the next one in next_open mode),
        # the last session it was worked in (null until then), and the broker's reason.
        ("session", "DATE"),
        ("worked_session", "DATE"),
        ("message", "VARCHAR"),
    ),
    key=("client_order_id",),
    description="Paper broker order book: filled_qty and filled_avg_price are cumulative.",
)

PAPER_POSITIONS = Dataset(
    "paper",
    "positions",
    (("symbol", "VARCHAR"), ("qty", "DOUBLE"), ("avg_price", "DOUBLE")),
    key=("symbol",),
    description="Paper broker positions.",
)

PAPER_CASH = Dataset(
    "paper",
    "cash",
    (("account", "VARCHAR"), ("cash", "DOUBLE"), ("updated_at", "TIMESTAMPTZ")),
    key=("account",),
    description="Paper broker cash balance.",
)

PAPER_SPLITS = Dataset(
    "paper",
    "splits_applied",
    (
        ("symbol", "VARCHAR"),
        ("ex_session", "DATE"),
        ("split_ratio", "DOUBLE"),
        ("qty_before", "DOUBLE"),
        ("applied_at", "TIMESTAMPTZ"),
    ),
    key=("symbol", "ex_session"),
    description="Splits the paper broker has applied to its positions (as a real broker would).",
)

# -- minute bars (intraday ingest: flows/ingest_minute.py) ---------------------------------------
# ts is the bar's start instant in UTC. session is the exchange session date in America/New_York
# for equities (the UTC date for crypto); market_phase is pre | regular | post | closed from the
# exchange calendar for equities, "24h" for crypto (validations/minute_bars_phases.py).
_MINUTE_BAR = (
    (
        ("symbol", "VARCHAR"),
        ("ts", "TIMESTAMPTZ"),
        ("asset_class", "VARCHAR"),
        ("session", "DATE"),
        ("market_phase", "VARCHAR"),
    )
    + _OHLCV
    + (("vwap", "DOUBLE"), ("trade_count", "BIGINT"))
)

RAW_MINUTE_BARS = Dataset(
    "raw",
    "minute_bars",
    _BATCH + (("row_number", "BIGINT"),) + _MINUTE_BAR,
    key=("batch_id", "row_number"),
    description="Minute bars as received, append-only; ingested_at is their knowledge time.",
)

QUARANTINE_MINUTE_BARS = Dataset(
    "quarantine",
    "minute_bars",
    RAW_MINUTE_BARS.columns + (("rule", "VARCHAR"), ("detail", "VARCHAR")),
    key=("batch_id", "row_number", "rule"),
    description="Rejected raw minute bars, one row per failed rule, with what was wrong.",
)

CURATED_MINUTE_BARS = Dataset(
    "curated",
    "minute_bars",
    _MINUTE_BAR
    + (("source", "VARCHAR"), ("batch_id", "VARCHAR"), ("knowledge_time", "TIMESTAMPTZ")),
    key=("symbol", "ts"),
    description=(
        "Validated, deduplicated minute bars as the source sent them (no further adjustment); "
        "where sources disagree on a bar, the one known later wins."
    ),
)

# -- macro series (flows/ingest_macro.py) ------------------------------------------------------
# observation_date is the start of the observation period (FRED's convention); knowledge_time is
# when the value could first have been known: the vintage's release date (ALFRED realtime_start)
# or the period end plus a per-series publication lag (quantlake.settings.MacroSettings).
RAW_MACRO = Dataset(
    "raw",
    "macro",
    _BATCH
    + (
        ("row_number", "BIGINT"),
        ("origin", "VARCHAR"),  # the file, and the line in it
        ("line", "BIGINT"),
        ("series_id", "VARCHAR"),
        ("observation_date", "DATE"),
        ("realtime_start", "DATE"),  # the vintage's release date, where the file states one
        ("value_text", "VARCHAR"),  # the value as written ("" and "." mean missing)
        ("value", "DOUBLE"),  # NULL where missing or unreadable, never 0
        ("frequency", "VARCHAR"),  # D | W | M | Q | A, inferred from the series' dates
        ("knowledge_time", "TIMESTAMPTZ"),
    ),
    key=("batch_id", "row_number"),
    description="Macro observations as received, append-only, with their derived knowledge time.",
)

QUARANTINE_MACRO = Dataset(
    "quarantine",
    "macro",
    RAW_MACRO.columns + (("rule", "VARCHAR"), ("detail", "VARCHAR")),
    key=("batch_id", "row_number", "rule"),
    description="Rejected raw macro observations, one row per failed rule, with what was wrong.",
)

CURATED_MACRO_VINTAGES = Dataset(
    "curated",
    "macro_vintages",
    (
        ("series_id", "VARCHAR"),
        ("observation_date", "DATE"),
        ("knowledge_time", "TIMESTAMPTZ"),
        ("value", "DOUBLE"),
        ("source", "VARCHAR"),
        ("batch_id", "VARCHAR"),
        ("ingested_at", "TIMESTAMPTZ"),
    ),
    key=("series_id", "observation_date", "knowledge_time"),
    description=(
        "Every validated vintage of every macro observation; as-of reads pick, per observation, "
        "the latest vintage known at the time (flows/macro_reads.py)."
    ),
)

CURATED_MACRO = Dataset(
    "curated",
    "macro",
    (
        ("series_id", "VARCHAR"),
        ("observation_date", "DATE"),
        ("value", "DOUBLE"),
        ("knowledge_time", "TIMESTAMPTZ"),  # when the current value was first known
        ("revisions", "INTEGER"),  # vintages whose value differs from the one before
        ("source", "VARCHAR"),
        ("batch_id", "VARCHAR"),
        ("ingested_at", "TIMESTAMPTZ"),
    ),
    key=("series_id", "observation_date"),
    description="The latest validated vintage per macro observation; value NULL when missing.",
)

# -- news and social sentiment (flows/ingest_news.py) ------------------------------------------
# publisher is who wrote the item (cnbc, reuters, stocknet...); source is the batch's source, as
# everywhere. content_id hashes publisher, published_at and headline. knowledge_time is
# published_at, or the end of the publisher's local day for date-only times, never after ingest.
RAW_NEWS = Dataset(
    "raw",
    "news",
    _BATCH
    + (
        ("row_number", "BIGINT"),
        ("origin", "VARCHAR"),
        ("line", "BIGINT"),
        ("publisher", "VARCHAR"),
        ("symbol", "VARCHAR"),  # as the input tags it; NULL for untagged headlines
        ("time_text", "VARCHAR"),  # the time as written
        ("published_at", "TIMESTAMPTZ"),  # NULL where time_text could not be read
        ("time_precision", "VARCHAR"),  # second | minute | day
        ("knowledge_time", "TIMESTAMPTZ"),
        ("headline", "VARCHAR"),
        ("body", "VARCHAR"),
        ("url", "VARCHAR"),
        ("content_id", "VARCHAR"),
        ("sentiment", "DOUBLE"),  # lexicon tone in [-1, 1] (flows/sources/sentiment.py)
        ("sentiment_words", "INTEGER"),  # lexicon words found; 0 means no evidence either way
    ),
    key=("batch_id", "row_number"),
    description="News items and posts as received (decoded, times parsed), append-only.",
)

QUARANTINE_NEWS = Dataset(
    "quarantine",
    "news",
    RAW_NEWS.columns + (("rule", "VARCHAR"), ("detail", "VARCHAR")),
    key=("batch_id", "row_number", "rule"),
    description="Rejected raw news items, one row per failed rule, with what was wrong.",
)

CURATED_NEWS = Dataset(
    "curated",
    "news",
    (
        ("content_id", "VARCHAR"),
        ("publisher", "VARCHAR"),
        ("published_at", "TIMESTAMPTZ"),
        ("time_precision", "VARCHAR"),
        ("knowledge_time", "TIMESTAMPTZ"),
        ("headline", "VARCHAR"),
        ("body", "VARCHAR"),
        ("url", "VARCHAR"),
        ("sentiment", "DOUBLE"),
        ("sentiment_words", "INTEGER"),
        ("source", "VARCHAR"),
        ("batch_id", "VARCHAR"),
        ("ingested_at", "TIMESTAMPTZ"),
    ),
    key=("content_id",),
    description="Validated news items, one per content id (the first arrival's body and url).",
)

CURATED_NEWS_SYMBOLS = Dataset(
    "curated",
    "news_symbols",
    (
        ("content_id", "VARCHAR"),
        ("symbol", "VARCHAR"),
        ("tagged_by", "VARCHAR"),  # source (the input's own tag) | alias (a name in the text)
        ("batch_id", "VARCHAR"),
    ),
    key=("content_id", "symbol"),
    description="Which symbols each curated news item is about.",
)

# -- data quality reports (flows/quality_report.py) --------------------------------------------
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

# -- backfill and gap re-requests (flows/backfill.py, flows/gap_fill.py) ---------------------------
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

# -- macro and sentiment features (assets/features/context_assets.py) -----------------------------
# One row per session (macro) or per (symbol, session) (sentiment), as of that session's close.
# A value whose source series or items are missing is NULL, never 0. macro_snapshot/news_snapshot:
# the lakehouse snapshot that last changed the curated macro vintages / news the row was read from.
MACRO_FEATURE_COLUMNS: tuple[str, ...] = ("term_spread", "vix", "vix_change_5")
SENTIMENT_FEATURE_COLUMNS: tuple[str, ...] = ("sentiment_mean_5", "news_count_5")

MACRO_FEATURES = Dataset(
    "features",
    "macro_daily",
    (("session", "DATE"),)
    + tuple((c, "DOUBLE") for c in MACRO_FEATURE_COLUMNS)
    + (("macro_snapshot", "BIGINT"),),
    key=("session",),
    description="Macro features per session as of its close: DGS10 - DGS2, VIX, VIX 5-day change.",
)

SENTIMENT_FEATURES = Dataset(
    "features",
    "sentiment_daily",
    (
        ("symbol", "VARCHAR"),
        ("session", "DATE"),
        ("sentiment_mean_5", "DOUBLE"),
        ("news_count_5", "BIGINT"),
        ("news_snapshot", "BIGINT"),
    ),
    key=("symbol", "session"),
    description="News tone and item count per symbol over the 5 sessions up to each close.",
)

ALL: tuple[Dataset, ...] = (
    RAW_BARS,
    RAW_CORPORATE_ACTIONS,
    QUARANTINE_BARS,
    CURATED_BARS,
    BATCHES,
    VALIDATION_RESULTS,
    FEATURES,
    LABELS,
    MODELS,
    PROMOTIONS,
    PREDICTIONS,
    ORDERS,
    FILLS,
    POSITIONS,
    ACCOUNT,
    RISK_DECISIONS,
    TRADING_CONTROLS,
    TRADING_STATE,
    TRADING_RECONCILIATIONS,
    PAPER_ORDERS,
    PAPER_POSITIONS,
    PAPER_CASH,
    PAPER_SPLITS,
    RAW_MINUTE_BARS,
    QUARANTINE_MINUTE_BARS,
    CURATED_MINUTE_BARS,
    RAW_MACRO,
    QUARANTINE_MACRO,
    CURATED_MACRO_VINTAGES,
    CURATED_MACRO,
    RAW_NEWS,
    QUARANTINE_NEWS,
    CURATED_NEWS,
    CURATED_NEWS_SYMBOLS,
    QUALITY_REPORTS,
    BACKFILL_WINDOWS,
    MACRO_FEATURES,
    SENTIMENT_FEATURES,
)

BY_TABLE: dict[str, Dataset] = {d.table: d for d in ALL}
