"""Is the SQLite file damaged? A quick integrity check when it is opened, and SQLite's own
complaints about malformed pages later, both as one DamagedDatabaseError (issue 16).

A damaged file that is written on loses more with every write, and a digest built from it
can be wrong: the store refuses to open it, and the error names the file and the restore
procedure. PRAGMA quick_check reads every page once (it skips matching index entries to
rows, which integrity_check adds): on a 117 MB file about 0.1 s from the page cache and
1.8 s from a cold disk (measured, see the note of issue 16), so it runs on every open of a
file up to CHECK_ALWAYS_BYTES, with a time budget.

A larger file is checked at most once a day (issue 17: a year of 5,000 feeds is ~17 GB, whose
check would cost every command its whole 30 s budget and never finish): the outcome and the
file's inode go to a small `<file>-check` note beside it, and opens within RECHECK_AFTER of a
check of the same file (a restored copy is another inode) report that outcome. Damage found
between checks still stops every write: SQLite reports a malformed page when it meets one.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from watcher.errors import DamagedDatabaseError, StoreError

if TYPE_CHECKING:                   # sqlalchemy only for the annotation
    from sqlalchemy import Engine

log = logging.getLogger("watcher")
CHECK_SECONDS = 30.0        # the check stops here and the file is used unchecked (logged)
MAX_PROBLEMS = 20           # quick_check stops listing after this many
CHECK_ALWAYS_BYTES = 256 * 1024 * 1024   # up to this size (~0.25 s): checked on every open
RECHECK_AFTER = 24 * 3600.0              # larger files: at most once a day
# What SQLite says when it meets a damaged page or header (SQLITE_CORRUPT, SQLITE_NOTADB).
_DAMAGE_WORDS = ("malformed", "not a database")


def check_database(engine: Engine, busy_timeout: float, budget: float = CHECK_SECONDS) -> str:
    """The integrity check `watcher status` reports: "ok", "new file", "not finished in
    N s", or "not checked" (PostgreSQL checks its own pages); raises DamagedDatabaseError."""
    database = engine.url.database
    if engine.dialect.name != "sqlite":
        return "not checked (PostgreSQL)"
    if not database or database == ":memory:":
        return "not checked (in memory)"
    path = Path(database)
    if not path.exists() or path.stat().st_size == 0:
        return "new file"
    if path.stat().st_size <= CHECK_ALWAYS_BYTES:
        return _quick_check(path, busy_timeout, budget)
    recent = _recent_check(path)
    if recent is not None:
        return recent
    outcome = _quick_check(path, busy_timeout, budget)      # raises when damaged
    _note_check(path, outcome)
    return outcome


def _note(path: Path) -> Path:
    return path.with_name(path.name + "-check")


def _recent_check(path: Path) -> str | None:
    """The outcome of this file's check within RECHECK_AFTER, as `status` words it."""
    try:
        note = json.loads(_note(path).read_text(encoding="utf-8"))
        fresh = (note["inode"] == path.stat().st_ino
                 and 0 <= time.time() - float(note["at"]) < RECHECK_AFTER)
        checked = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(float(note["at"])))
        return f"{note['outcome']} (checked {checked})" if fresh else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _note_check(path: Path, outcome: str) -> None:
    """Remember a check's outcome; a note that cannot be written only means a check next time."""
    try:
        _note(path).write_text(json.dumps({"inode": path.stat().st_ino, "at": time.time(),
                                           "outcome": outcome}), encoding="utf-8")
    except OSError as exc:
        log.debug("database %s: the check's note was not written: %s", path, exc)


def _quick_check(path: Path, busy_timeout: float, budget: float) -> str:
    try:
        conn = sqlite3.connect(path, timeout=busy_timeout)
        # The check is one VM instruction (a progress handler never runs inside it), but it
        # honours sqlite3_interrupt(), which may come from another thread.
        stop = threading.Timer(budget, conn.interrupt)
        try:
            stop.start()
            problems = [str(row[0]) for row in conn.execute(f"PRAGMA quick_check({MAX_PROBLEMS})")]
        finally:
            stop.cancel()
            conn.close()
    except sqlite3.DatabaseError as exc:
        if "interrupted" in str(exc):
            log.warning("database %s: the integrity check did not finish in %g s; "
                        "the file is used unchecked", path, budget)
            return f"not finished in {budget:g} s"
        if not is_damage(exc):
            raise StoreError(f"cannot check the database {path}: {exc}") from None
        problems = [str(exc)]
    if problems == ["ok"]:
        return "ok"
    raise damaged(path, problems)


def is_damage(exc: BaseException) -> bool:
    """Whether a database error (SQLAlchemy's or the driver's) is SQLite saying the file is
    damaged: SQLITE_CORRUPT or SQLITE_NOTADB (PostgreSQL's "malformed array literal" is not)."""
    error = getattr(exc, "orig", None) or exc
    if not isinstance(error, sqlite3.DatabaseError):
        return False
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)
    return any(word in str(error) for word in _DAMAGE_WORDS)


def damaged(path: Path | str, problems: list[str]) -> DamagedDatabaseError:
    """The one-line error: the file, how many problems, the first one."""
    first = " ".join(problems[0].split())
    if len(problems) > 1:
        count = f"{len(problems)}+" if len(problems) >= MAX_PROBLEMS else str(len(problems))
        first = f"{count} problems, first: {first}"
    return DamagedDatabaseError(f"the database {path} is damaged ({first}); "
                                "nothing more is written to it")
