"""Which lakehouse snapshot last changed a dataset: the stable identity of the data an asset read.

The current snapshot moves with every commit to any table, so recording it would make a rerun
over unchanged inputs look new. The snapshot that last changed the inputs does not.
"""

from __future__ import annotations

from warehouse.lake import Lakehouse, LakehouseError
from warehouse.schemas import Dataset

# DuckLake snapshot change kinds that alter a table's rows.
_DATA_CHANGES = ("tables_inserted_into", "tables_deleted_from", "inlined_insert", "inlined_delete")


def _table_id(lake: Lakehouse, dataset: Dataset, *, as_of: int) -> str:
    rows = lake.query(
        "SELECT t.table_id FROM __ducklake_metadata_lake.ducklake_table t "
        "JOIN __ducklake_metadata_lake.ducklake_schema s ON t.schema_id = s.schema_id "
        "WHERE s.schema_name = ? AND t.table_name = ? "
        "AND t.begin_snapshot <= ? AND (t.end_snapshot IS NULL OR t.end_snapshot > ?)",
        [dataset.zone, dataset.name, as_of, as_of],
    )
    if len(rows) != 1:
        raise LakehouseError(f"{dataset.table} not found in the DuckLake catalog at {as_of}")
    return str(rows.item())


def last_change(lake: Lakehouse, *datasets: Dataset, as_of: int) -> int:
    """Return the latest snapshot at or before ``as_of`` that changed rows of any ``datasets``."""
    ids = [_table_id(lake, d, as_of=as_of) for d in datasets]
    found = lake.query(
        "SELECT max(snapshot_id) FROM lake.snapshots() WHERE snapshot_id <= ? AND "
        "len(list_intersect(flatten([coalesce(changes[k], []) FOR k IN ?]), ?)) > 0",
        [as_of, list(_DATA_CHANGES), ids],
    ).item()
    if found is None:
        names = ", ".join(d.table for d in datasets)
        raise LakehouseError(
            f"no snapshot up to {as_of} wrote {names}: ingest or materialize it first"
        )
    return int(found)
