"""The Dataset declaration every zone module uses, and the column groups several zones share."""

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

# -- minute bars (intraday ingest: flows/ingest/minute.py) ---------------------------------------
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
