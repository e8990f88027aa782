"""Paper zone: the paper broker's own book (its orders, positions, cash, splits)."""

from __future__ import annotations

from warehouse.schemas.dataset import Dataset

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
