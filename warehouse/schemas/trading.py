"""Trading zone: orders, fills, positions, account, risk decisions, controls, state."""

from __future__ import annotations

from warehouse.schemas.dataset import Dataset

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
        ("kind", "VARCHAR"),  # position | order | summary (one per run: an empty book compares)
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
