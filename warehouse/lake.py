"""The lakehouse: DuckDB over Parquet in DuckLake, with atomic multi-table commits and snapshots.

One ``Lakehouse`` per process holds one DuckDB database with the DuckLake catalog attached as
``lake``. Work happens on cursors, so threads (Prefect tasks) do not share a connection.
A :meth:`Lakehouse.transaction` is one DuckLake snapshot: every table it writes changes together
or not at all, which is what makes a batch load crash-safe without any file juggling.
"""

from __future__ import annotations

import importlib
import json
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from warehouse import schemas
from warehouse.schemas import Dataset
from warehouse.write_lock import WriteLock

_EXTENSIONS = ("duckdb_extension_sqlite_scanner", "duckdb_extension_ducklake")


class LakehouseError(RuntimeError):
    """A lakehouse operation failed; the message says what to do."""


class SchemaMismatch(LakehouseError):
    """A frame does not match the dataset's declared schema."""


def _sql_string(text: str) -> str:
    """Quote a literal for the few statements that take no parameters (ATTACH, LOAD)."""
    return "'" + text.replace("'", "''") + "'"


def _extension_path(package: str) -> str:
    module = importlib.import_module(package)
    found = sorted(Path(module.__file__).parent.glob("extensions/*/*.duckdb_extension"))
    if not found:
        raise LakehouseError(f"{package} is installed but holds no extension binary; reinstall it")
    return str(found[-1])


def _utc(frame: pl.DataFrame | pl.Series) -> pl.DataFrame:
    """Return the frame with DuckDB's 'Etc/UTC' timestamps as 'UTC' (polars treats the two
    names as different zones and refuses to compare or concatenate them)."""
    assert isinstance(frame, pl.DataFrame)
    zoned = [
        pl.col(name).dt.convert_time_zone("UTC")
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.Datetime) and dtype.time_zone not in (None, "UTC")
    ]
    return frame.with_columns(zoned) if zoned else frame


@dataclass(frozen=True)
class Snapshot:
    """One DuckLake commit."""

    snapshot_id: int
    committed_at: Any
    message: str | None
    extra: dict[str, Any]


class Lakehouse:
    """A DuckLake lakehouse rooted at a folder: ``catalog.sqlite`` plus ``data/`` Parquet files."""

    def __init__(self, root: Path, *, catalog: str = "sqlite") -> None:
        # Absolute, always: DuckLake records the data path and refuses another spelling of it.
        self.root = Path(root).expanduser().resolve()
        self.catalog = catalog
        self._lock = threading.RLock()
        self._db: duckdb.DuckDBPyConnection | None = None
        self._writes = WriteLock(self.root / "write.lock") if catalog == "sqlite" else None

    # -- connection -------------------------------------------------------------------------
    def _attach_uri(self) -> str:
        if self.catalog == "sqlite":
            return f"ducklake:sqlite:{self.root / 'catalog.sqlite'}"
        if self.catalog.startswith("postgres:"):
            return f"ducklake:{self.catalog}"
        raise LakehouseError(
            f"unknown catalog {self.catalog!r}: use 'sqlite' or 'postgres:<libpq conninfo>'"
        )

    def _database(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._db is None:
                self.root.mkdir(parents=True, exist_ok=True)
                (self.root / "data").mkdir(exist_ok=True)
                db = duckdb.connect()
                extensions = list(_EXTENSIONS)
                if self.catalog.startswith("postgres:"):
                    extensions.insert(0, "duckdb_extension_postgres_scanner")
                for package in extensions:
                    try:
                        db.execute(f"LOAD {_sql_string(_extension_path(package))}")
                    except ModuleNotFoundError as exc:
                        raise LakehouseError(
                            f"the {package} wheel is needed for catalog {self.catalog!r}: "
                            f"pip install {package.replace('_', '-')}==1.5.5"
                        ) from exc
                data_path = _sql_string(f"{self.root / 'data'}/")
                db.execute(
                    f"ATTACH {_sql_string(self._attach_uri())} AS lake (DATA_PATH {data_path})"
                )
                db.execute("USE lake")
                # One snapshot for all the DDL; IF NOT EXISTS makes reopening free.
                with self._write_turn():
                    db.execute("BEGIN TRANSACTION")
                    for zone in sorted({d.zone for d in schemas.ALL}):
                        db.execute(f"CREATE SCHEMA IF NOT EXISTS {zone}")
                    for dataset in schemas.ALL:
                        db.execute(dataset.ddl())
                    _add_new_columns(db)
                    db.execute("COMMIT")
                self._db = db
            return self._db

    @contextmanager
    def cursor(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Yield a cursor on the lakehouse (``USE lake`` done), closed afterwards."""
        cur = self._database().cursor()
        try:
            cur.execute("USE lake")
            yield cur
        finally:
            cur.close()

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def __enter__(self) -> Lakehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reads ------------------------------------------------------------------------------
    def current_snapshot(self) -> int:
        """Return the id of the latest committed snapshot."""
        with self.cursor() as cur:
            return int(
                cur.execute("SELECT id FROM ducklake_current_snapshot('lake')").fetchone()[0]
            )

    def snapshots(self, *, limit: int = 50) -> list[Snapshot]:
        """Return the latest snapshots, newest first."""
        with self.cursor() as cur:
            rows = cur.execute(
                "SELECT snapshot_id, snapshot_time, commit_message, commit_extra_info "
                "FROM lake.snapshots() ORDER BY snapshot_id DESC LIMIT ?",
                [limit],
            ).fetchall()
        return [Snapshot(r[0], r[1], r[2], json.loads(r[3]) if r[3] else {}) for r in rows]

    def read(
        self,
        dataset: Dataset,
        *,
        where: str | None = None,
        params: Sequence[Any] | Mapping[str, Any] | None = None,
        as_of: int | None = None,
        order_by: str | None = None,
    ) -> pl.DataFrame:
        """Read a dataset, filtered by ``where`` (``?`` params), optionally as of a snapshot."""
        at = f" AT (VERSION => {int(as_of)})" if as_of is not None else ""
        sql = f"SELECT * FROM {dataset.table}{at}"
        if where:
            sql += f" WHERE {where}"
        if order_by:
            sql += f" ORDER BY {order_by}"
        return self.query(sql, params, schema=dataset)

    def query(
        self,
        sql: str,
        params: Sequence[Any] | Mapping[str, Any] | None = None,
        *,
        schema: Dataset | None = None,
    ) -> pl.DataFrame:
        """Run a read-only query with parameters and return a polars frame."""
        with self.cursor() as cur:
            table = cur.execute(sql, params or []).fetch_arrow_table()
        frame = _utc(pl.from_arrow(table))
        if schema is not None and frame.is_empty():
            frame = pl.from_arrow(schema.arrow_schema().empty_table())
        return frame

    def count(self, dataset: Dataset, *, as_of: int | None = None) -> int:
        at = f" AT (VERSION => {int(as_of)})" if as_of is not None else ""
        with self.cursor() as cur:
            return int(cur.execute(f"SELECT count(*) FROM {dataset.table}{at}").fetchone()[0])

    # -- writes -----------------------------------------------------------------------------
    @contextmanager
    def _write_turn(self) -> Iterator[None]:
        """Wait for this writer's turn at the catalog (SQLite takes one committer at a time)."""
        if self._writes is None:
            yield
            return
        self.root.mkdir(parents=True, exist_ok=True)
        with self._writes.hold():
            yield

    @contextmanager
    def transaction(self, message: str, **extra: Any) -> Iterator[Transaction]:
        """Write several datasets as one atomic snapshot tagged with ``message`` and ``extra``.

        On any exception nothing is committed. ``txn.snapshot_id`` is set after the commit
        (None when the transaction wrote nothing).
        """
        token = uuid.uuid4().hex
        with self._write_turn(), self.cursor() as cur:
            cur.execute("BEGIN TRANSACTION")
            txn = Transaction(cur)
            try:
                yield txn
                if txn.changed:
                    info = json.dumps({"txn": token, **extra}, default=str, sort_keys=True)
                    cur.execute(
                        "CALL lake.set_commit_message('quantlake', ?, extra_info => ?)",
                        [message, info],
                    )
                cur.execute("COMMIT")
            except BaseException:
                # After a failed COMMIT DuckDB has already rolled back; a second error from
                # ROLLBACK must not replace the one that explains what went wrong.
                with suppress(duckdb.TransactionException):
                    cur.execute("ROLLBACK")
                raise
            if txn.changed:
                txn.snapshot_id = _snapshot_of(cur, token)


class Transaction:
    """Writes inside one lakehouse transaction. All values travel as Arrow or parameters."""

    def __init__(self, cur: duckdb.DuckDBPyConnection) -> None:
        self.cur = cur
        self.changed = False
        self.snapshot_id: int | None = None
        self.rows_written: dict[str, int] = {}

    def _stage(self, dataset: Dataset, frame: pl.DataFrame | pa.Table) -> str:
        return self._register(_conformed(dataset, frame))

    def _register(self, table: pa.Table) -> str:
        name = f"stage_{uuid.uuid4().hex[:12]}"
        self.cur.register(name, table)
        return name

    def _count(self, sql: str, params: Sequence[Any] = ()) -> int:
        return int(self.cur.execute(sql, list(params)).fetchone()[0])

    def _done(self, dataset: Dataset, n: int) -> int:
        if n:
            self.changed = True
            self.rows_written[dataset.table] = self.rows_written.get(dataset.table, 0) + n
        return n

    def append(self, dataset: Dataset, frame: pl.DataFrame | pa.Table) -> int:
        """Append rows as they are (for append-only zones). Return rows written."""
        if len(frame) == 0:
            return 0
        stage = self._stage(dataset, frame)
        try:
            n = self._insert_all(dataset, stage)
        finally:
            self.cur.unregister(stage)
        return self._done(dataset, n)

    def insert_missing(self, dataset: Dataset, frame: pl.DataFrame | pa.Table) -> int:
        """Insert only rows whose key is not yet stored. Return rows written.

        A null in a key column matches nothing, so such rows are always inserted.
        """
        if len(frame) == 0:
            return 0
        table = _conformed(dataset, frame)
        stage = self._register(table)
        try:
            n = self._insert_absent(dataset, stage, _key_range(dataset, table), null_safe=False)
        finally:
            self.cur.unregister(stage)
        return self._done(dataset, n)

    def merge(self, dataset: Dataset, frame: pl.DataFrame | pa.Table) -> int:
        """Upsert by key, writing only rows that are new or differ. Return rows written.

        Rows identical to what is stored are skipped, so merging the same frame twice leaves
        the lakehouse unchanged (no new snapshot). Stored rows whose key is in the frame with
        other values are updated; keys not stored are inserted. Keys compare null-safely (a
        null matches a null). Only stored rows inside the frame's key range are read, so
        merging one session does not scan the whole history, and when none is stored there
        (a new session, a first load) the rows are inserted as an append would.
        """
        if len(frame) == 0:
            return 0
        table = _conformed(dataset, frame)
        _refuse_duplicate_keys(dataset, table)
        stage = self._register(table)
        in_range = _key_range(dataset, table)
        try:
            if self._holds_any(dataset, in_range):
                n = self._upsert_differing(dataset, stage, in_range)
            else:  # nothing stored can share a key
                n = self._insert_all(dataset, stage)
        finally:
            self.cur.unregister(stage)
        return self._done(dataset, n)

    def _holds_any(self, dataset: Dataset, where: _Filter) -> bool:
        """Return whether any stored row meets ``where``."""
        found = self.cur.execute(
            f"SELECT 1 FROM {dataset.table} t WHERE {where.sql} LIMIT 1", list(where.params)
        ).fetchone()
        return found is not None

    def _insert_all(self, dataset: Dataset, stage: str) -> int:
        cols = _quoted(dataset.column_names)
        return self._count(f"INSERT INTO {dataset.table} ({cols}) SELECT {cols} FROM {stage}")

    def _upsert_differing(self, dataset: Dataset, stage: str, in_range: _Filter) -> int:
        """Upsert the staged rows that no stored row in range equals; return rows written.

        EXCEPT compares whole rows with nulls equal; what is left is new or changed, so a
        matched key is always an update. Those rows (usually few) are set apart in a temporary
        table first: a MERGE whose USING query read the table it writes failed with "Out of
        buffer" when re-merging rows an earlier merge had updated (duckdb 1.5.5, DuckLake).
        """
        names = dataset.column_names
        differing = f"{stage}_differing"
        self.cur.execute(
            f"CREATE TEMP TABLE {differing} AS SELECT {_quoted(names)} FROM {stage} "
            f"EXCEPT SELECT {_quoted(names, alias='t')} FROM {dataset.table} t "
            f"WHERE {in_range.sql}",
            list(in_range.params),
        )
        try:
            if self._count(f"SELECT count(*) FROM {differing}") == 0:
                return 0
            sets = ", ".join(f'"{c}" = s."{c}"' for c in names if c not in dataset.key)
            update = f"WHEN MATCHED THEN UPDATE SET {sets} " if sets else ""  # key-only: none
            return self._count(
                f"MERGE INTO {dataset.table} t USING {differing} s "
                f"ON {_key_match(dataset.key, null_safe=True)} {update}"
                f"WHEN NOT MATCHED THEN INSERT ({_quoted(names)}) "
                f"VALUES ({_quoted(names, alias='s')})"
            )
        finally:
            self.cur.execute(f"DROP TABLE {differing}")

    def _insert_absent(
        self, dataset: Dataset, stage: str, in_range: _Filter, *, null_safe: bool
    ) -> int:
        """Insert the staged rows whose key is not stored; return rows inserted."""
        return self._count(
            f"INSERT INTO {dataset.table} ({_quoted(dataset.column_names)}) "
            f"SELECT {_quoted(dataset.column_names, alias='s')} FROM {stage} s "
            f"ANTI JOIN (SELECT {_quoted(dataset.key, alias='t')} FROM {dataset.table} t "
            f"WHERE {in_range.sql}) t ON {_key_match(dataset.key, null_safe=null_safe)}",
            in_range.params,
        )

    def delete(self, dataset: Dataset, where: str, params: Sequence[Any]) -> int:
        """Delete rows matching ``where`` (with ``?`` parameters). Return rows deleted."""
        n = self._count(f"SELECT count(*) FROM {dataset.table} WHERE {where}", params)
        if n:
            self.cur.execute(f"DELETE FROM {dataset.table} WHERE {where}", list(params))
        return self._done(dataset, n)

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pl.DataFrame:
        """Read inside the transaction (sees its own uncommitted writes)."""
        return _utc(pl.from_arrow(self.cur.execute(sql, params or []).fetch_arrow_table()))


def _conformed(dataset: Dataset, frame: pl.DataFrame | pa.Table) -> pa.Table:
    """Return the frame as Arrow with exactly the dataset's columns and types."""
    table = frame.to_arrow() if isinstance(frame, pl.DataFrame) else frame
    missing = [c for c in dataset.column_names if c not in table.column_names]
    if missing:
        raise SchemaMismatch(
            f"{dataset.table}: frame lacks column(s) {missing}; declared columns are "
            f"{dataset.column_names} (warehouse/schemas.py)"
        )
    try:
        return table.select(dataset.column_names).cast(dataset.arrow_schema())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        raise SchemaMismatch(f"{dataset.table}: cannot cast frame to schema: {exc}") from exc


def _refuse_duplicate_keys(dataset: Dataset, table: pa.Table) -> None:
    keys = pl.from_arrow(table.select(list(dataset.key)))
    assert isinstance(keys, pl.DataFrame)
    if keys.hash_rows(seed=0).n_unique() == keys.height:
        return  # equal keys hash alike, so distinct hashes prove distinct keys (the fast path)
    dupes = keys.filter(keys.is_duplicated()).n_unique()
    if dupes:
        raise LakehouseError(
            f"{dataset.table}: {dupes} duplicate key(s) {dataset.key} in the frame to merge; "
            "deduplicate before writing"
        )


@dataclass(frozen=True)
class _Filter:
    """A SQL condition on the stored rows (alias ``t``) and its parameters."""

    sql: str
    params: tuple[Any, ...]


def _key_range(dataset: Dataset, table: pa.Table) -> _Filter:
    """Return the condition "each key column within the frame's min..max (or null if the
    frame has nulls there)": a stored row outside it cannot share a key with the frame, and
    DuckLake skips the files whose column statistics lie outside it."""
    parts, params = [], []
    for key in dataset.key:
        column = table.column(key)
        bounds = pc.min_max(column)
        lo, hi = bounds["min"].as_py(), bounds["max"].as_py()
        if lo is None:  # every value is null
            parts.append(f't."{key}" IS NULL')
            continue
        between = f't."{key}" BETWEEN ? AND ?'
        parts.append(f'({between} OR t."{key}" IS NULL)' if column.null_count else between)
        params += [lo, hi]
    return _Filter(" AND ".join(parts), tuple(params))


def _quoted(names: Sequence[str], *, alias: str = "") -> str:
    """Return the column names quoted and comma-separated, each after ``alias.`` if given."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(f'{prefix}"{c}"' for c in names)


def _key_match(keys: Sequence[str], *, null_safe: bool) -> str:
    equal = "IS NOT DISTINCT FROM" if null_safe else "="
    return " AND ".join(f's."{k}" {equal} t."{k}"' for k in keys)


def table_status(lake: Lakehouse) -> pl.DataFrame:
    """Return, per declared dataset: rows, and the snapshot and time it last changed."""
    with lake.cursor() as cur:
        ids = cur.execute(
            "SELECT s.schema_name || '.' || t.table_name, t.table_id "
            "FROM __ducklake_metadata_lake.ducklake_table t "
            "JOIN __ducklake_metadata_lake.ducklake_schema s USING (schema_id) "
            "WHERE t.end_snapshot IS NULL AND s.end_snapshot IS NULL"
        ).fetchall()
        snaps = cur.execute(
            "SELECT snapshot_id, snapshot_time, changes FROM lake.snapshots() ORDER BY snapshot_id"
        ).fetchall()
    last: dict[str, tuple[int, Any]] = {}
    for snapshot_id, when, changes in snaps:
        for kind, values in (changes or {}).items():
            if kind.startswith("tables_created") or kind.startswith("schemas"):
                continue
            for value in values:
                last[str(value)] = (snapshot_id, when)
    rows = []
    for table, table_id in ids:
        if table not in schemas.BY_TABLE:
            continue
        snap = last.get(str(table_id)) or last.get(table)
        rows.append(
            {
                "dataset": table,
                "rows": lake.count(schemas.BY_TABLE[table]),
                "last_snapshot": snap[0] if snap else None,
                "last_updated": snap[1] if snap else None,
            }
        )
    return pl.DataFrame(rows).sort("dataset")


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


def _add_new_columns(db: duckdb.DuckDBPyConnection) -> None:
    """Add the columns a dataset gained since its table was created (additive evolution).

    A lakehouse made by an older version keeps its rows; the new columns read as null for
    them. Columns are never dropped or retyped here: that needs a deliberate migration.
    """
    existing = {
        (schema, table, column)
        for schema, table, column in db.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns "
            "WHERE table_catalog = 'lake'"
        ).fetchall()
    }
    for dataset in schemas.ALL:
        for column, kind in dataset.columns:
            if (dataset.zone, dataset.name, column) not in existing:
                db.execute(f'ALTER TABLE {dataset.table} ADD COLUMN "{column}" {kind}')


def _snapshot_of(cur: duckdb.DuckDBPyConnection, token: str) -> int | None:
    """Return the snapshot whose commit carries ``token``: looked for among the newest few in
    the catalog's own table (cheap), then, if other writers committed many since, in all."""
    recent = cur.execute(
        "SELECT snapshot_id FROM (SELECT snapshot_id, commit_extra_info "
        "FROM __ducklake_metadata_lake.ducklake_snapshot_changes "
        "ORDER BY snapshot_id DESC LIMIT 50) "
        "WHERE json_extract_string(commit_extra_info, '$.txn') = ?",
        [token],
    ).fetchone()
    if recent is None:
        recent = cur.execute(
            "SELECT snapshot_id FROM lake.snapshots() "
            "WHERE json_extract_string(commit_extra_info, '$.txn') = ?",
            [token],
        ).fetchone()
    return int(recent[0]) if recent else None
