"""Shared fixtures: real servers on 127.0.0.1, a temp state dir, a fixed clock.

The suite runs twice in CI: on SQLite files (`make test`), and with
WATCHER_TEST_BACKEND=postgresql on a real PostgreSQL server named by
WATCHER_TEST_DATABASE_URL, where every test gets a database of its own (`make test-postgres`).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.feedserver import ALLOW_PRIVATE, feed_server  # noqa: F401  (fixture)
from tests.smtpserver import smtp_server  # noqa: F401  (fixture)

# The test feeds are on 127.0.0.1, which watcher refuses unless named (issue 16): every
# Settings the tests load allows that address, and no other private one.
os.environ["WATCHER_ALLOW_PRIVATE"] = ALLOW_PRIVATE

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
# A PostgreSQL server the tests may create databases on, e.g.
# postgresql+psycopg://postgres@127.0.0.1:5432/postgres (CI starts one: .ci/run).
PG_URL = os.environ.get("WATCHER_TEST_DATABASE_URL", "").strip()
ON_POSTGRES = os.environ.get("WATCHER_TEST_BACKEND", "sqlite") == "postgresql"
if ON_POSTGRES and not PG_URL:
    raise pytest.UsageError("WATCHER_TEST_BACKEND=postgresql needs WATCHER_TEST_DATABASE_URL")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """sqlite_only tests skip in the PostgreSQL run; postgres_only ones run only there."""
    for item in items:
        mark = item.get_closest_marker("sqlite_only")
        if ON_POSTGRES and mark is not None:
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {mark.args[0]}"))
        if not ON_POSTGRES and item.get_closest_marker("postgres_only") is not None:
            item.add_marker(
                pytest.mark.skip(
                    reason="needs PostgreSQL: runs in `make test-postgres` "
                    "(WATCHER_TEST_DATABASE_URL)"
                )
            )


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh, empty database on the test server; dropped afterwards (connections too)."""
    import psycopg
    from sqlalchemy.engine import make_url
    admin = make_url(PG_URL)
    conninfo = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"watcher_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(drivername="postgresql+psycopg", database=name).render_as_string(
            hide_password=False)
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """The database a test's watcher uses: a SQLite file, or a fresh PostgreSQL database."""
    if ON_POSTGRES:
        with postgres_database() as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path / 'state' / 'watcher.db'}"


@pytest.fixture
def state_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> Iterator[Path]:
    """A fresh state dir (outbox; the SQLite file) and database, no SMTP unless a test sets one."""
    for name in (
        "WATCHER_SMTP_URL",
        "WATCHER_DATABASE_URL",
        "WATCHER_OUTBOX_DIR",
        "WATCHER_CONFIG",
        "WATCHER_SMTP_PASSWORD",
        "CREDENTIALS_DIRECTORY",
        "WATCHER_SMTP_USER",
        "WATCHER_SENDER",
        "WATCHER_LOG_LEVEL",
        "STATE_DIRECTORY",
        "WATCHER_FETCH_TIMEOUT",
        "WATCHER_DB_BUSY_TIMEOUT",
        "WATCHER_SMTP_TIMEOUT",
        "WATCHER_REPORT_URL",
        "WATCHER_NOTIFY_URLS",
        "WATCHER_KEEP_UNMATCHED",
        "WATCHER_INSTANCE_ID",
        "WATCHER_LEASE_SECONDS",
        "WATCHER_LEASE_BATCH",
        "WATCHER_POLL_TICK",
        "WATCHER_ENRICH_PER_CYCLE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WATCHER_STATE_DIR", str(tmp_path / "state"))
    if ON_POSTGRES:
        monkeypatch.setenv("WATCHER_DATABASE_URL", database_url)
    yield tmp_path / "state"


def at(text: str) -> datetime:
    """A UTC moment from 'YYYY-MM-DD' or 'YYYY-MM-DDTHH:MM'."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)
