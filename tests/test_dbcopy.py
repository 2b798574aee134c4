"""`watcher db copy`: an existing SQLite database moved to PostgreSQL, the way the README says."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlmodel import SQLModel

from tests.conftest import at, postgres_database
from tests.feedserver import FeedServer
from tests.test_pipeline import context, serve_fixtures, write_config
from watcher.context import Context
from watcher.ingest.poll import poll
from watcher.service import run_once
from watcher.store import schema as _schema  # noqa: F401  (registers the tables)


def dump(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (but instance heartbeats) in key order, read through the
    schema's column types."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {t.name: [tuple(r) for r in conn.execute(
                        select(t).order_by(*t.primary_key.columns))]
                    for t in SQLModel.metadata.sorted_tables if t.name != "instance"}
    finally:
        engine.dispose()


def watcher(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "watcher", *args], capture_output=True,
                          text=True, timeout=120, env=env, check=False)


@pytest.mark.postgres_only
def test_db_copy_sqlite_to_postgresql(feed_server: FeedServer, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    serve_fixtures(feed_server)
    sqlite_url = f"sqlite:///{tmp_path / 'old' / 'watcher.db'}"
    monkeypatch.setenv("WATCHER_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("WATCHER_DATABASE_URL", sqlite_url)
    for name in ("WATCHER_SMTP_URL", "WATCHER_INSTANCE_ID"):
        monkeypatch.delenv(name, raising=False)
    config = write_config(tmp_path, feed_server)
    run_once(context(config))                       # items, matches, a digest (file outbox)
    before = dump(sqlite_url)
    assert before["item"] and before["match"] and before["outbox"]

    with postgres_database() as pg_url:
        done = watcher("db", "copy", "--from", sqlite_url, "--to", pg_url)
        assert done.returncode == 0, done.stderr
        assert f"copied {sum(map(len, before.values()))} row(s)" in done.stdout
        assert "item 9" in done.stdout
        after = dump(pg_url)
        assert after == before                        # every row, ids and times included

        again = watcher("db", "copy", "--from", sqlite_url, "--to", pg_url)
        assert again.returncode == 1
        assert "the target database is not empty" in again.stderr
        assert dump(pg_url) == before

        # the service carries on from PostgreSQL: validators kept (304s), new ids follow the old
        monkeypatch.setenv("WATCHER_DATABASE_URL", pg_url)
        requests = len(feed_server.requests)
        ctx = context(config, clock=lambda: at("2026-03-10T08:00"))
        report = asyncio.run(poll(ctx))
        assert report.polled == 3 and report.unchanged == 3
        assert {s.status for s in feed_server.requests[requests:]} == {304}
        feed_server.add("/outlet.rss", (Path(__file__).parent / "fixtures" / "e2e" /
                                        "wire.rss").read_bytes())
        later = Context(ctx.config, ctx.settings, ctx.store, ctx.matcher,
                        lambda: at("2026-03-10T10:00"))
        assert asyncio.run(poll(later)).new_items > 0
        ids = [r[0] for r in dump(pg_url)["item"]]
        assert len(ids) == len(set(ids)) > len(before["item"])
        status = watcher("status", "--config", str(config))
        assert status.returncode == 0, status.stderr


def test_db_copy_refuses_the_same_database_and_a_bad_url(tmp_path: Path,
                                                        state_env: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    same = watcher("db", "copy", "--from", url, "--to", url)
    assert same.returncode == 1 and "the same database" in same.stderr
    bad = watcher("db", "copy", "--from", url, "--to", "nosuchdb://x")
    assert bad.returncode == 1 and "cannot open database" in bad.stderr
    assert "Traceback" not in bad.stderr
