"""The database under every store room: engine, migrations on open, one transaction a call.

SQLite runs in WAL mode with a busy timeout so the service and a CLI command can share the
file; every write is one short transaction, and `transaction()` groups several into one.
"""

from __future__ import annotations

import ast
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, Insert, Table, create_engine, event, insert, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DatabaseError, OperationalError, ProgrammingError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from watcher import DISTRIBUTION
from watcher.errors import StoreError
from watcher.store.dbcheck import check_database, damaged, is_damage
from watcher.store.readonly import (
    refuse_missing,
    refuse_unmigrated,
    sqlite_path,
    sqlite_read_only,
)

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).parent / "migrations"
_REVISION = re.compile(r"^(down_revision|revision)\s*=\s*(.+)$", re.MULTILINE)


def head_revisions(migrations: Path) -> frozenset[str]:
    """The newest revision(s) of the migration scripts, read from the files as text.

    Alembic itself (its import alone is ~0.2 s, a tenth of a warm cycle: profile, issue 17)
    is loaded only when the database is not at these revisions."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (migrations / "versions").glob("*.py"):
        for name, value in _REVISION.findall(script.read_text(encoding="utf-8")):
            found = ast.literal_eval(value.split("#")[0].strip())
            names = {found} if isinstance(found, str) else set(found or ())
            (revisions if name == "revision" else parents).update(names)
    return frozenset(revisions - parents)


def _sqlite_pragmas(busy_timeout: float, wal: bool = True) -> Callable[[Any, Any], None]:
    """The per-connection settings: WAL, foreign keys, and how long to wait for a lock."""
    def connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")   # first: WAL may wait
        if wal:                 # a reader leaves the mode to the writers (it cannot set it)
            cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()
    return connect


def make_engine(url: str, busy_timeout: float = 10.0, read_only: bool = False) -> Engine:
    """Engine with the settings each backend needs; creates the SQLite file's folder.

    `read_only`: the database must exist and every connection is opened read-only (SQLite's
    mode=ro, PostgreSQL's read-only transactions), so no command that only looks can write."""
    sqlite_file = sqlite_path(url)
    if sqlite_file is not None and not read_only:
        sqlite_file.parent.mkdir(parents=True, exist_ok=True)
    postgres = url.startswith("postgresql")
    engine = create_engine(url, pool_pre_ping=True, connect_args=(
        {"options": "-c default_transaction_read_only=on"} if read_only and postgres else {}))
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas(busy_timeout, wal=not read_only))
        if read_only:
            event.listen(engine, "do_connect", sqlite_read_only)
    return engine


def _migration_engine(url: str, busy_timeout: float) -> Engine:
    """SQLite engine whose transactions really include DDL (SQLAlchemy's pysqlite recipe).

    Python's sqlite3 commits each CREATE/ALTER on its own, so a migration failing half-way
    would keep half a schema. Here the driver's own transaction handling is off and every
    transaction starts with BEGIN IMMEDIATE: the whole upgrade commits or rolls back."""
    engine = create_engine(url, poolclass=NullPool)
    pragmas = _sqlite_pragmas(busy_timeout)

    def connect(dbapi_conn: Any, record: Any) -> None:
        pragmas(dbapi_conn, record)
        dbapi_conn.isolation_level = None

    event.listen(engine, "connect", connect)
    event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
    return engine


def db_error(exc: SQLAlchemyError, busy_timeout: float) -> str:
    """The database's complaint in words an operator acts on."""
    said = str(getattr(exc, "orig", None) or exc)
    if "locked" in said or "busy" in said:
        return f"database is locked: another process held it longer than {busy_timeout:g} s"
    if "full" in said:
        return "database or disk is full"
    return f"{type(exc).__name__}: {said}"


def redacted_url(url: str) -> str:
    """A database URL fit for a log line or a message: the password hidden."""
    from sqlalchemy.engine import make_url
    return make_url(url).render_as_string(hide_password=True)


class Database:
    """An open database at the newest schema; the rooms (feeds, items, …) query it in Core."""

    def __init__(self, url: str, busy_timeout: float = 10.0, read_only: bool = False) -> None:
        self.url = url
        self.busy_timeout = busy_timeout
        self._local = threading.local()     # the open transaction() of each thread
        try:
            if read_only:
                refuse_missing(url)
            self.engine = make_engine(url, busy_timeout, read_only)
            self.integrity = check_database(self.engine, busy_timeout)   # before any write
            if read_only:
                if not self.at_head():          # Alembic only when there is news (issue 17)
                    refuse_unmigrated(self.engine, self._alembic(), self._file())
            else:
                self.migrate()
        except StoreError:
            raise
        except SQLAlchemyError as exc:
            if is_damage(exc):
                raise damaged(self._file(), [str(getattr(exc, "orig", None) or exc)]) from exc
            raise StoreError(f"cannot open database: {db_error(exc, busy_timeout)}") from exc
        except ImportError as exc:      # postgresql+psycopg:// without the driver installed
            raise StoreError(f"cannot open database: its driver {exc.name!r} is not installed "
                             f"(PostgreSQL: pip install '{DISTRIBUTION}[postgres]')") from exc
        except Exception as exc:   # a broken migration: say so plainly; -v shows the traceback
            raise StoreError(f"database migration failed, the schema is unchanged: "
                             f"{type(exc).__name__}: {exc}") from exc

    def recheck(self) -> str:
        """The integrity check again (the service's daily job): a file too big to check on
        every open is checked once a day (see dbcheck); raises DamagedDatabaseError."""
        self.integrity = check_database(self.engine, self.busy_timeout)
        return self.integrity

    def _file(self) -> str:
        """The database file's name for messages (never the URL: it may hold a password)."""
        engine = getattr(self, "engine", None)
        return str(engine.url.database) if engine is not None else "(not opened)"

    @property
    def dialect(self) -> str:
        """'sqlite' or 'postgresql': the few statements that differ ask this."""
        return str(self.engine.dialect.name)

    def at_head(self) -> bool:
        """Whether the schema is already at the newest revision (the usual open: nothing to do)."""
        try:
            with self.engine.connect() as conn:
                stored = {str(v) for v in conn.execute(
                    text("SELECT version_num FROM alembic_version")).scalars()}
        except (OperationalError, ProgrammingError):   # no alembic_version: a new database
            return False
        return bool(stored) and stored == head_revisions(MIGRATIONS)

    @staticmethod
    def _alembic() -> AlembicConfig:
        from alembic.config import Config
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        return cfg

    def migrate(self) -> None:
        """Bring the schema to the newest revision in one transaction: all of it or none.

        A migration that fails leaves the old schema and data exactly as they were."""
        if self.at_head():
            return
        from alembic import command
        cfg = self._alembic()
        sqlite = self.dialect == "sqlite"
        engine = _migration_engine(self.url, self.busy_timeout) if sqlite else self.engine
        try:
            with engine.begin() as conn:
                # instances starting together: one migrates, the others wait for it
                if engine.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('watcher:migrate'))"))
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        finally:
            if engine is not self.engine:
                engine.dispose()

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        """One transaction: committed on success, rolled back on any error.

        Inside `transaction()` it is that transaction's connection: the outer block commits."""
        current: Connection | None = getattr(self._local, "conn", None)
        if current is not None:
            yield current
            return
        try:
            with self.engine.begin() as conn:
                yield conn
        except DatabaseError as exc:
            if is_damage(exc):          # a page SQLite found malformed: stop writing
                raise damaged(self._file(), [str(exc.orig or exc)]) from exc
            if not isinstance(exc, OperationalError):
                raise
            raise StoreError(f"{db_error(exc, self.busy_timeout)}: nothing was written; "
                             "the next cycle retries") from exc

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Several writes as one transaction: a crash or an error keeps all of them or none.

        A feed's new items, their matches and its validators go together, so a kill between
        them can never leave items without matches or validators ahead of unstored items."""
        if getattr(self._local, "conn", None) is not None:
            yield                           # already inside one: it decides
            return
        with self._connect() as conn:
            self._local.conn = conn
            try:
                yield
            finally:
                self._local.conn = None

    def close(self) -> None:
        """Close every pooled connection (the service stopping, a test ending)."""
        self.engine.dispose()

    def insert_ignore(self, table: Table, keys: list[str]) -> Insert:
        """INSERT that skips a row whose `keys` already exist (ON CONFLICT DO NOTHING)."""
        if self.dialect == "sqlite":
            return sqlite_insert(table).on_conflict_do_nothing(index_elements=keys)
        if self.dialect == "postgresql":
            return pg_insert(table).on_conflict_do_nothing(index_elements=keys)
        return insert(table)

    def insert_new(self, conn: Connection, table: Table, keys: list[str],
                   row: dict[str, Any]) -> int:
        """Insert `row` unless its `keys` exist; how many rows it wrote (0 or 1). Counted from the
        ids the statement returns: psycopg reports -1 rows for INSERT … ON CONFLICT DO NOTHING."""
        stmt = self.insert_ignore(table, keys).values(row)
        if self.dialect in ("sqlite", "postgresql"):
            return len(conn.execute(stmt.returning(*table.primary_key.columns)).all())
        return max(conn.execute(stmt).rowcount or 0, 0)

    def serialise(self, conn: Connection, name: str) -> None:
        """One transaction at a time past this point (until commit), for a read-then-write
        that processes starting together must not both do (two `run --once` on a new state
        dir both inserted every feed: IntegrityError). PostgreSQL: an advisory lock per name.
        SQLite: the database's write lock, taken now by a write that changes nothing, so the
        reads that follow already see what the other process committed."""
        if self.dialect == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"),
                         {"name": f"watcher:{name}"})
        elif self.dialect == "sqlite":
            conn.execute(text("UPDATE alembic_version SET version_num = version_num WHERE 0"))

    def size_bytes(self) -> int | None:
        """The database's size on disk, for `watcher status`."""
        if self.dialect == "postgresql":
            with self._connect() as conn:
                size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar()
                return int(size or 0)
        if self.dialect != "sqlite" or not self.engine.url.database:
            return None
        path = Path(self.engine.url.database)
        return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
