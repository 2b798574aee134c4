"""Where watcher keeps its state, and the commands that only look (issue 18).

State lives in $WATCHER_STATE_DIR, systemd's $STATE_DIRECTORY or the user's data directory,
never the working directory; `status`, `explain` and `digest --preview` never create,
migrate or write a database, and say so when there is none.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ON_POSTGRES, ROOT
from tests.feedserver import FeedServer, child_env
from tests.test_pipeline import context, serve_fixtures, write_config
from watcher.cli import main
from watcher.ingest.poll import poll

MINI = ROOT / "tests" / "fixtures" / "mini.yaml"


def files_under(*roots: Path) -> list[Path]:
    return sorted(p for root in roots for p in root.rglob("*"))


def watcher_in(cwd: Path, home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """A `watcher` command as a user runs it: in `cwd`, with `home` as HOME, no WATCHER_*."""
    environ = child_env(HOME=str(home), **env)
    for name in ("XDG_DATA_HOME", "STATE_DIRECTORY", "CONFIGURATION_DIRECTORY"):
        environ.pop(name, None)
    return subprocess.run([sys.executable, "-m", "watcher", *args], cwd=cwd, env=environ,
                          capture_output=True, text=True, timeout=120, check=False)


def test_status_in_an_empty_directory_creates_nothing(tmp_path: Path) -> None:
    cwd, home = tmp_path / "new", tmp_path / "home"
    cwd.mkdir()
    home.mkdir()
    result = watcher_in(cwd, home, "status", WATCHER_CONFIG=str(MINI))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    db = home / ".local" / "share" / "watcher" / "watcher.db"
    assert result.stderr.startswith(f"watcher: no database at {db}: nothing has run")
    assert "`watcher run` creates it" in result.stderr
    bare = watcher_in(cwd, home, "status")                     # and no indicators.yaml either
    assert bare.returncode == 1 and "looked for $WATCHER_CONFIG" in bare.stderr
    assert files_under(cwd, home) == []


def test_explain_and_digest_preview_without_a_database_create_none(tmp_path: Path) -> None:
    state = tmp_path / "state"
    for args in (["explain", "https://x.org/a"], ["digest", "--preview", str(tmp_path / "p.html")]):
        result = watcher_in(tmp_path, tmp_path, *args, WATCHER_CONFIG=str(MINI),
                            WATCHER_STATE_DIR=str(state))
        assert result.returncode == 1 and f"no database at {state}/watcher.db" in result.stderr
    assert files_under(tmp_path) == []


def test_the_service_keeps_its_state_in_the_user_data_dir_not_the_working_dir(
        tmp_path: Path, feed_server: FeedServer) -> None:
    serve_fixtures(feed_server)
    config = write_config(tmp_path, feed_server)
    cwd, home = tmp_path / "cwd", tmp_path / "home"
    cwd.mkdir()
    run = watcher_in(cwd, home, "run", "--once", "--config", str(config))
    assert run.returncode == 0, run.stderr
    assert (home / ".local" / "share" / "watcher" / "watcher.db").is_file()
    assert files_under(cwd) == []
    status = watcher_in(cwd, home, "status", "--config", str(config))
    assert status.returncode == 0 and status.stdout.startswith("FOLLOW-UP: ")


@pytest.fixture
def polled(feed_server: FeedServer, state_env: Path, tmp_path: Path) -> Path:
    """A database the poll filled (items, matches) that no judge has looked at yet."""
    serve_fixtures(feed_server)
    config = write_config(tmp_path, feed_server)
    ctx = context(config)
    asyncio.run(poll(ctx))
    assert ctx.store.transitions() == []
    ctx.store.close()
    return config


def test_read_only_commands_record_nothing(polled: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """`status` used to record the criterion's first state (a transition) as it judged."""
    before = _fingerprint()
    url = "https://wire.example.com/2026/02/10/azerbaijan-abraham-accords"
    preview = tmp_path / "preview.html"
    assert main(["status", "--config", str(polled)]) == 0
    assert main(["explain", url, "--config", str(polled)]) == 0
    assert main(["digest", "--preview", str(preview), "--config", str(polled)]) == 0
    out = capsys.readouterr().out
    assert "FOLLOW-UP" in out and "new_signatory" in out and preview.stat().st_size > 1000
    ctx = context(polled)
    try:
        assert ctx.store.transitions() == []
    finally:
        ctx.store.close()
    assert _fingerprint() == before


def _fingerprint() -> str:
    """The SQLite file's bytes (on PostgreSQL, the transitions read above suffice)."""
    if ON_POSTGRES:
        return ""
    return hashlib.sha256((Path(os.environ["WATCHER_STATE_DIR"]) / "watcher.db")
                          .read_bytes()).hexdigest()


@pytest.mark.sqlite_only("sets the schema revision in the SQLite file")
@pytest.mark.parametrize(("revision", "says"), [
    ("0004", "is at an older schema (0004; this watcher's is "),
    ("9999_future", "was written by a newer watcher (schema 9999_future): upgrade this one"),
])
def test_a_database_at_another_schema_is_not_migrated_by_status(
        polled: Path, state_env: Path, revision: str, says: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    db = state_env / "watcher.db"
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", (revision,))
    conn.close()
    assert main(["status", "--config", str(polled)]) == 1
    assert says in capsys.readouterr().err
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(revision,)]
    conn.close()


@pytest.mark.sqlite_only("an empty SQLite file")
def test_an_empty_file_has_no_watcher_tables(state_env: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    state_env.mkdir(parents=True)
    (state_env / "watcher.db").write_bytes(b"")
    assert main(["status", "--config", str(MINI)]) == 1
    assert "has no watcher tables yet" in capsys.readouterr().err
    assert (state_env / "watcher.db").stat().st_size == 0


def test_a_read_only_store_refuses_writes(polled: Path, database_url: str) -> None:
    """The guarantee is the database's, not only the code's: SQLite's mode=ro, PostgreSQL's
    read-only transactions."""
    from sqlalchemy.exc import SQLAlchemyError

    from tests.conftest import at
    from watcher.errors import StoreError
    from watcher.models import CriterionState
    from watcher.store import Store
    store = Store(database_url, read_only=True)
    try:
        assert store.count_items() > 0
        with pytest.raises((StoreError, SQLAlchemyError), match="(?i)read-?only"):
            store.record_transition(CriterionState.WATCHING, at("2026-03-10"), "x")
    finally:
        store.close()
