"""Opening the database for a command that only looks (issue 18).

`status`, `explain`, `digest --preview` (and the analyst's review) read the state the
service keeps; run in the wrong directory, or before the service ever ran, they must not
leave a new empty database behind (a `watcher status` in a new folder used to create
./var/watcher.db and record a criterion transition in it), nor migrate a database the
running service still uses at its schema. So they open it read-only and say plainly when
there is none, or when it is not at this version's schema.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from watcher.errors import NoDatabaseError, StoreError

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig
    from sqlalchemy import Engine


def sqlite_path(url: str) -> Path | None:
    """The file of a sqlite:/// URL; None for another database or one in memory."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        return Path(url.removeprefix("sqlite:///").split("?")[0])
    return None


def sqlite_read_only(_dialect: Any, _record: Any, cargs: list[Any],
                     cparams: dict[str, Any]) -> None:
    """SQLAlchemy's do_connect hook: open the file with SQLite's mode=ro, so that a write
    fails instead of changing it (the -wal and -shm files a reader needs may appear)."""
    cargs[0] = f"file:{quote(str(Path(cargs[0]).resolve()))}?mode=ro"
    cparams["uri"] = True


def refuse_missing(url: str) -> None:
    """A SQLite file that does not exist is not created: NoDatabaseError says where it looked."""
    path = sqlite_path(url)
    if path is not None and not path.exists():
        raise NoDatabaseError(f"no database at {path}: nothing has run with this state "
                              "directory yet, and this command only reads")


def refuse_unmigrated(engine: Engine, alembic: AlembicConfig, name: str) -> None:
    """The database must be at this version's schema: no tables is NoDatabaseError, another
    revision a StoreError naming the command that migrates it. (Alembic is imported here,
    not on every open: its import is ~0.2 s; the store asks only when not at head.)"""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    script = ScriptDirectory.from_config(alembic)
    heads = set(script.get_heads())
    if current == heads:
        return
    if not current:
        raise NoDatabaseError(f"the database {name} has no watcher tables yet: nothing has "
                              "run with it, and this command only reads")
    try:
        script.get_revisions(tuple(current))
    except CommandError:
        raise StoreError(f"the database {name} was written by a newer watcher (schema "
                         f"{', '.join(sorted(current))}): upgrade this one") from None
    raise StoreError(f"the database {name} is at an older schema ({', '.join(sorted(current))}; "
                     f"this watcher's is {', '.join(sorted(heads))}): commands that only read "
                     "do not migrate it; `watcher run --once` or a restart of the service does")
