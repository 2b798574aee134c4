"""Copy a whole watcher database to another one: SQLite → PostgreSQL when one machine is
not enough any more (README, deployment). Both ends are brought to the newest schema with
the same migrations first; the target must be empty and is written in one transaction, so
a failed copy leaves it empty and the source is never changed beyond its migrations.

It works on the tables themselves, whatever they hold (SQLAlchemy Core over the schema's
metadata, not the Store's typed records): the one module outside watcher/store/ allowed to
import SQLAlchemy (tests/test_layout.py).
"""

from __future__ import annotations

from sqlalchemy import Connection, Table, func, insert, select, text
from sqlmodel import SQLModel

from watcher.errors import StoreError
from watcher.store import Store

SKIP = {"instance"}       # heartbeats of processes that ran on the old database
CLEAR = {"feed_state": {"lease_owner": None, "lease_until": None},
         "outbox": {"claimed_by": None, "claimed_until": None}}


def copy_database(source_url: str, target_url: str, batch: int = 1000) -> dict[str, int]:
    """Copy every table's rows, ids included; returns rows copied per table."""
    if source_url == target_url:
        raise StoreError("--from and --to name the same database")
    source, target = Store(source_url), Store(target_url)
    tables = [t for t in SQLModel.metadata.sorted_tables if t.name not in SKIP]
    try:
        with target.engine.connect() as conn:
            for table in tables:
                rows = conn.execute(select(func.count()).select_from(table)).scalar()
                if rows:
                    raise StoreError(f"the target database is not empty ({table.name} has {rows} "
                                     "row(s)); copy into a new, empty database")
        counts: dict[str, int] = {}
        with source.engine.connect() as src, target.engine.begin() as dst:
            for table in tables:
                counts[table.name] = _copy_table(table, src, dst, batch)
            if target.engine.dialect.name == "postgresql":
                for table in tables:
                    _reset_sequence(table, dst)
        return counts
    finally:
        source.close()
        target.close()


def _copy_table(table: Table, src: Connection, dst: Connection, batch: int) -> int:
    """Rows in primary-key order, `batch` at a time (a big item table never sits in memory)."""
    result = src.execution_options(yield_per=batch).execute(
        select(table).order_by(*table.primary_key.columns))
    copied = 0
    for part in result.partitions(batch):
        rows = [dict(r._mapping) | CLEAR.get(table.name, {}) for r in part]
        dst.execute(insert(table), rows)
        copied += len(rows)
    return copied


def _reset_sequence(table: Table, dst: Connection) -> None:
    """Ids were copied as they were: the next id PostgreSQL hands out must follow them."""
    pk = list(table.primary_key.columns)
    if len(pk) != 1 or not pk[0].autoincrement or pk[0].type.python_type is not int:
        return
    dst.execute(text(
        f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk[0].name}'), "
        f"coalesce(max({pk[0].name}), 1), max({pk[0].name}) IS NOT NULL) FROM \"{table.name}\""))
