"""The database locked by another process, or the disk full: a clear error, nothing half-kept.

Each case polls real feeds into a real SQLite file, makes the write fail, checks that the
error reads plainly (one log line in the service, one line from the CLI, no traceback), that
nothing of the failed write remains and the feeds stay due, then clears the condition and
checks that the next poll stores everything.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import event

from tests.feedserver import FeedServer
from tests.test_pipeline import context, serve_fixtures, write_config
from watcher.context import Context
from watcher.errors import StoreError
from watcher.ingest.poll import poll
from watcher.scheduler import Service

BUSY = "0.3"          # seconds a write waits for the lock before giving up (default 10)
ITEMS = 9             # what the three fixture feeds hold
BIG = 60              # items of the feed that needs new pages in the database


def big_feed(n: int = BIG) -> bytes:
    """n items with 2 KB summaries: storing them has to grow the database file."""
    items = "".join(f"<item><title>Report {i} from Astana</title><guid>big-{i}</guid>"
                    f"<link>https://big.example.com/{i}</link><description>{'word ' * 400}"
                    f"</description></item>" for i in range(n))
    return f'<rss version="2.0"><channel><title>big</title>{items}</channel></rss>'.encode()


def snapshot(db: Path) -> tuple[int, int, list[tuple[Any, ...]]]:
    """Items, matches and every feed's state, read by a connection of our own."""
    with sqlite3.connect(db) as conn:
        items = conn.execute("SELECT count(*) FROM item").fetchone()[0]
        matches = conn.execute("SELECT count(*) FROM match").fetchone()[0]
        feeds = conn.execute("SELECT feed_id, etag, content_hash, failures, last_attempt_at, "
                             "next_due_at FROM feed_state ORDER BY feed_id").fetchall()
    conn.close()
    return items, matches, feeds


@pytest.fixture
def ctx(feed_server: FeedServer, state_env: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> Iterator[Context]:
    monkeypatch.setenv("WATCHER_DB_BUSY_TIMEOUT", BUSY)
    serve_fixtures(feed_server)
    c = context(write_config(tmp_path, feed_server))
    yield c
    c.store.close()


@pytest.fixture
def locked(state_env: Path, ctx: Context) -> Iterator[sqlite3.Connection]:
    """Another process's connection holding the write lock (BEGIN EXCLUSIVE) until released."""
    conn = sqlite3.connect(state_env / "watcher.db", isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    yield conn
    if conn.in_transaction:
        conn.execute("ROLLBACK")
    conn.close()


@pytest.mark.sqlite_only("SQLite file locking (PostgreSQL locks rows, not the database)")
def test_a_locked_database_stops_the_poll_cleanly_and_the_next_one_recovers(
        ctx: Context, locked: sqlite3.Connection, state_env: Path) -> None:
    before = snapshot(state_env / "watcher.db")
    with pytest.raises(
        StoreError,
        match=r"poll (stopped at feed \w+|could not lease due feeds): database is locked: "
        r"another process held it longer than 0\.3 s",
    ):
        asyncio.run(poll(ctx))
    locked.execute("ROLLBACK")
    assert snapshot(state_env / "watcher.db") == before     # nothing kept, every feed still due
    report = asyncio.run(poll(ctx))
    assert report.new_items == ITEMS and not report.failed
    items, matches, _ = snapshot(state_env / "watcher.db")
    assert items == ITEMS and matches > 0


@pytest.mark.sqlite_only("SQLite file locking (PostgreSQL locks rows, not the database)")
def test_the_service_logs_one_line_for_a_locked_database_and_keeps_running(
        ctx: Context, locked: sqlite3.Connection, caplog: pytest.LogCaptureFixture) -> None:
    job = Service(ctx, ctx.settings.config_path)._guard(Service(ctx, ctx.settings.config_path).poll)
    with caplog.at_level(logging.ERROR, logger="watcher"):
        job()                                                 # type: ignore[operator]
    (record,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert re.match(r"poll failed: poll (stopped at feed |could not lease due feeds)",
                    record.getMessage())
    assert "database is locked" in record.getMessage() and record.exc_info is None


@pytest.mark.sqlite_only("SQLite file locking (PostgreSQL locks rows, not the database)")
def test_watcher_poll_on_a_locked_database_prints_one_line_and_exits_1(
        ctx: Context, locked: sqlite3.Connection, state_env: Path) -> None:
    env = {**os.environ, "WATCHER_STATE_DIR": str(state_env), "WATCHER_DB_BUSY_TIMEOUT": BUSY}
    result = subprocess.run([sys.executable, "-m", "watcher", "poll", "--config",
                             str(ctx.settings.config_path)], capture_output=True, text=True,
                            env=env, timeout=60, check=False)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "database is locked: another process held it longer than 0.3 s" in \
        result.stderr.splitlines()[-1]


@pytest.mark.sqlite_only("SQLite's max_page_count")
def test_a_full_database_keeps_nothing_half_written_and_recovers(
        ctx: Context, state_env: Path, feed_server: FeedServer) -> None:
    """SQLite's max_page_count makes the file 'full' exactly as a full disk does (SQLITE_FULL)."""
    feed_server.add("/wire.rss", big_feed())
    db = state_env / "watcher.db"
    with sqlite3.connect(db) as conn:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.close()

    def cap(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute(f"PRAGMA max_page_count={pages}")

    event.listen(ctx.store.engine, "connect", cap)
    ctx.store.engine.dispose()                  # new connections, each with the cap
    before = snapshot(db)
    with pytest.raises(StoreError, match="database or disk is full: nothing was written"):
        asyncio.run(poll(ctx))
    # Feeds are stored as they arrive: a small one may fit and be stored whole; the one that
    # did not fit (wire) has nothing written, not its items, not its validators.
    after = snapshot(db)
    assert [f for f in after[2] if f[0] == "wire"] == [f for f in before[2] if f[0] == "wire"]
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM item WHERE feed_id = 'wire'").fetchone() == (0,)
    conn.close()
    event.remove(ctx.store.engine, "connect", cap)
    ctx.store.engine.dispose()
    asyncio.run(poll(ctx))
    assert snapshot(db)[0] == BIG + ITEMS - 4                     # wire's own 4 are replaced


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MiB tmpfs; skipped where mounting is not allowed (not root, no CAP_SYS_ADMIN)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)],
                          capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> Path:
    """Write a file until the disk says ENOSPC; return it (delete it to free the space)."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as out:   # unbuffered: close() has nothing left to flush
        for _ in range(1024):                   # 64 MiB at most: the disk is 3
            try:
                out.write(b"\0" * 65536)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
                break
    return filler


@pytest.mark.sqlite_only("the SQLite file on a full tmpfs")
def test_a_full_disk_keeps_nothing_half_written_and_recovers(
        tiny_disk: Path, feed_server: FeedServer, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, state_env: Path) -> None:
    state = tiny_disk / "state"
    monkeypatch.setenv("WATCHER_STATE_DIR", str(state))
    serve_fixtures(feed_server)
    feed_server.add("/wire.rss", big_feed())
    c = context(write_config(tmp_path, feed_server))
    try:
        with sqlite3.connect(state / "watcher.db") as conn:   # an empty WAL: any write needs space
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        filler = fill(tiny_disk)
        before = snapshot(state / "watcher.db")
        with pytest.raises(StoreError, match="database or disk is full"):
            asyncio.run(poll(c))
        assert snapshot(state / "watcher.db") == before
        filler.unlink()
        assert asyncio.run(poll(c)).new_items == BIG + ITEMS - 4
        with sqlite3.connect(state / "watcher.db") as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        conn.close()
    finally:
        c.store.close()


BROKEN_MIGRATION = '''"""A migration that fails half-way (test only)."""
from alembic import op
import sqlalchemy as sa

revision = "9999_broken"
down_revision = {head!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("half", sa.Column("id", sa.Integer(), primary_key=True))
    with op.batch_alter_table("item") as batch:
        batch.add_column(sa.Column("extra", sa.String()))
    op.execute("UPDATE item SET title = 'overwritten'")
    raise RuntimeError("bug in the middle of a migration")


def downgrade() -> None:
    pass
'''


@pytest.mark.sqlite_only(
    "reads sqlite_master; the migration transaction (BEGIN IMMEDIATE) is SQLite's"
)
def test_a_failed_migration_leaves_the_old_schema_and_data_intact(
    ctx: Context, state_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    from watcher import store
    from watcher.store import base
    asyncio.run(poll(ctx))
    ctx.store.close()
    db = state_env / "watcher.db"

    def schema() -> tuple[list[Any], list[Any], list[Any]]:
        with sqlite3.connect(db) as conn:
            found = (
                conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall(),
                conn.execute("SELECT version_num FROM alembic_version").fetchall(),
                conn.execute("SELECT id, title FROM item ORDER BY id").fetchall(),
            )
        conn.close()
        return found

    before = schema()
    migrations = tmp_path / "migrations"
    shutil.copytree(base.MIGRATIONS, migrations)
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(migrations))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    (migrations / "versions" / "9999_broken.py").write_text(BROKEN_MIGRATION.format(head=head))
    monkeypatch.setattr(base, "MIGRATIONS", migrations)
    with pytest.raises(StoreError, match="database migration failed, the schema is unchanged: "
                                         "RuntimeError: bug in the middle of a migration"):
        store.Store(ctx.settings.database_url)
    assert schema() == before
    monkeypatch.undo()
    assert store.Store(ctx.settings.database_url).count_items() == ITEMS


def test_the_schema_check_on_open_knows_the_newest_migration() -> None:
    """Opening skips Alembic when the database is at the newest revision (issue 17); which
    revision is newest is read from the scripts as text, so it must be Alembic's own answer
    (a new migration not run would leave the schema behind; the test above shows a new
    script does run)."""
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    from watcher.store import base
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(base.MIGRATIONS))
    assert base.head_revisions(base.MIGRATIONS) == set(ScriptDirectory.from_config(cfg).get_heads())


@pytest.mark.sqlite_only("SQLite's online backup API (PostgreSQL: pg_dump, see deploy/README.md)")
def test_a_backup_taken_while_running_restores_to_a_working_database(
        ctx: Context, state_env: Path, tmp_path: Path) -> None:
    """deploy/README.md's backup: SQLite's online backup of the live file, then a restore."""
    asyncio.run(poll(ctx))                          # the service's connection stays open
    backup = tmp_path / "backup.db"
    live = sqlite3.connect(state_env / "watcher.db")
    target = sqlite3.connect(backup)
    live.backup(target)
    live.close()
    target.close()
    restored = tmp_path / "restored" / "watcher.db"
    restored.parent.mkdir()
    shutil.copy(backup, restored)
    from watcher.store import Store
    store = Store(f"sqlite:///{restored}")          # opens, migrates (nothing to do), reads
    assert store.count_items() == ITEMS
    assert {f.feed_id for f in store.feed_health()} == {"wire", "regional", "gazette"}
    store.close()


# --- a damaged file (issue 16): refused with one line, never written on -----------------------

def watcher_cli(args: list[str], config: Path, state: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
    env.update(WATCHER_STATE_DIR=str(state), WATCHER_ALLOW_PRIVATE="127.0.0.1")
    return subprocess.run([sys.executable, "-m", "watcher", *args, "--config", str(config)],
                          env=env, capture_output=True, text=True, timeout=120, check=False)


def overwrite_pages(db: Path, pages: list[int], seed: int = 16) -> None:
    """What a bad disk or a stray write does: whole pages of random bytes."""
    rng = random.Random(seed)
    size = sqlite3.connect(db).execute("PRAGMA page_size").fetchone()[0]
    with db.open("r+b") as file:
        for page in pages:
            file.seek((page - 1) * size)
            file.write(rng.randbytes(size))


@pytest.fixture
def filled(ctx: Context, feed_server: FeedServer, state_env: Path, tmp_path: Path) -> Path:
    """The state dir's database after a poll with a big feed, checkpointed into the file."""
    feed_server.add("/big.rss", big_feed(300))
    path = tmp_path / "indicators.yaml"             # what the ctx fixture wrote
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["feeds"].append(
        {"id": "big", "url": feed_server.url("/big.rss"), "every": "1h", "tier": "outlet"}
    )
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert watcher_cli(["poll"], path, state_env).returncode == 0
    ctx.store.close()                               # the last connection checkpoints the WAL
    db = state_env / "watcher.db"
    assert not Path(f"{db}-wal").exists() and db.stat().st_size > 300 * 4096
    return db


@pytest.mark.sqlite_only("damage to the SQLite file")
@pytest.mark.parametrize("where", ["ten random pages", "the header page"])
def test_a_damaged_file_is_refused_by_every_command_with_one_line_and_left_as_it_is(
        filled: Path, state_env: Path, tmp_path: Path, where: str) -> None:
    config = tmp_path / "indicators.yaml"
    healthy = watcher_cli(["status"], config, state_env)
    assert healthy.returncode == 0 and ", integrity check: ok" in healthy.stdout
    pages = filled.stat().st_size // 4096
    overwrite_pages(filled, random.Random(6).sample(range(2, pages + 1), 10)
                    if where == "ten random pages" else [1])
    before = filled.read_bytes()
    for command in (["status"], ["status", "--json"], ["poll"], ["run", "--once"], ["digest"]):
        proc = watcher_cli(command, config, state_env)
        assert proc.returncode == 1, (command, proc.stdout, proc.stderr)
        (line,) = proc.stderr.strip().splitlines()            # one line, no traceback
        assert line.startswith(f"watcher: the database {filled} is damaged ("), line
        assert line.endswith("nothing more is written to it (stop watcher and restore the "
                             "file from a backup: deploy/README.md, 'Back up and restore')")
        assert filled.read_bytes() == before, command          # not one byte written
        assert not Path(f"{filled}-wal").exists() or not Path(f"{filled}-wal").stat().st_size


@pytest.mark.sqlite_only("damage to the SQLite file")
def test_damage_found_while_running_stops_the_service_before_another_write(
        filled: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from watcher.errors import DamagedDatabaseError
    running = context(tmp_path / "indicators.yaml")       # the service has the file open
    (root,) = sqlite3.connect(filled).execute(
        "SELECT rootpage FROM sqlite_master WHERE name = 'feed_state'").fetchone()
    running.store.engine.dispose()
    overwrite_pages(filled, [root])                       # the table every poll reads first
    before = filled.read_bytes()
    service = Service(running, tmp_path / "indicators.yaml")
    with caplog.at_level(logging.ERROR, logger="watcher"):
        service._guard(service.poll)()                          # type: ignore[operator]
    (record,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert record.levelname == "CRITICAL" and "is damaged" in record.getMessage()
    assert service.stopping.is_set() and isinstance(service.damage, DamagedDatabaseError)
    assert filled.read_bytes() == before


@pytest.mark.sqlite_only("an operator's edit of the SQLite file")
def test_status_turns_an_unexpected_error_into_one_line_and_shows_it_under_v(
        filled: Path, state_env: Path, tmp_path: Path) -> None:
    """A value no code writes (a hand edit): `status` printed a traceback."""
    config = tmp_path / "indicators.yaml"
    with sqlite3.connect(filled) as db:
        db.execute("UPDATE match SET certainty = 'maybe'")
    db.close()
    quiet = watcher_cli(["status"], config, state_env)
    assert quiet.returncode == 1
    assert quiet.stderr.strip().splitlines() == [
        "watcher: status failed: ValueError: 'maybe' is not a valid Certainty"]
    loud = watcher_cli(["status", "-v"], config, state_env)
    assert loud.returncode == 1 and "Traceback (most recent call last)" in loud.stderr


@pytest.mark.sqlite_only("the SQLite integrity check")
def test_a_big_file_is_checked_once_a_day_and_a_copy_is_checked_again(
        ctx: Context, state_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past CHECK_ALWAYS_BYTES the check runs at most once a day per file (issue 17: a year's
    database took every command its 30 s budget); a copy (a restore) is another file."""
    import json
    import time

    from watcher.store import Store, dbcheck
    db = state_env / "watcher.db"
    asyncio.run(poll(ctx))
    ctx.store.close()
    monkeypatch.setattr(dbcheck, "CHECK_ALWAYS_BYTES", 0)
    checks: list[Path] = []
    real = dbcheck._quick_check

    def counted(path: Path, busy: float, budget: float) -> str:
        checks.append(path)
        return real(path, busy, budget)
    monkeypatch.setattr(dbcheck, "_quick_check", counted)

    def opened(path: Path) -> str:
        store = Store(f"sqlite:///{path}")
        store.close()
        return store.integrity
    assert opened(db) == "ok" and checks == [db]
    assert opened(db).startswith("ok (checked ") and checks == [db]        # not again
    copy = tmp_path / "restored" / "watcher.db"
    copy.parent.mkdir()
    shutil.copy(db, copy)
    shutil.copy(f"{db}-check", f"{copy}-check")                     # even with the note
    assert opened(copy) == "ok" and checks == [db, copy]
    note = Path(f"{db}-check")
    stale = json.loads(note.read_text()) | {"at": time.time() - dbcheck.RECHECK_AFTER - 1}
    note.write_text(json.dumps(stale))
    assert opened(db) == "ok" and checks == [db, copy, db]                 # a day later
    overwrite_pages(db, [2, 3])
    note.write_text(json.dumps(stale))
    with pytest.raises(StoreError, match="is damaged"):
        opened(db)


@pytest.mark.sqlite_only("the SQLite integrity check")
def test_a_file_too_big_to_check_in_the_budget_is_used_unchecked_with_a_warning(
        ctx: Context, state_env: Path, caplog: pytest.LogCaptureFixture) -> None:
    """100 MB take 50 ms or more to check: a budget of 2 ms runs out (the interrupt comes
    from a timer thread: on a loaded machine it may come late, hence up to three tries)."""
    from watcher.store.dbcheck import check_database
    db = state_env / "watcher.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE ballast (b BLOB)")
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 25000) "
            "INSERT INTO ballast SELECT randomblob(4000) FROM n"
        )
    conn.close()
    with caplog.at_level(logging.WARNING, logger="watcher"):
        results = [check_database(ctx.store.engine, 1.0, budget=0.002) for _ in range(3)]
        assert "not finished in 0.002 s" in results
        assert check_database(ctx.store.engine, 1.0) == "ok"
    warning = caplog.records[0].getMessage()
    assert warning == (f"database {db}: the integrity check did not finish in 0.002 s; "
                       "the file is used unchecked")
