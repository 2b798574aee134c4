"""The poll's writer: several feeds' writes in one transaction, a faulty one left out alone."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from watcher.errors import StoreError
from watcher.ingest.writer import Writer
from watcher.models import IngestIssue
from watcher.store import Store

AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_a_write_that_fails_once_fails_its_feed_even_if_a_second_run_would_pass(
        tmp_path: Path) -> None:
    """A bug that shows once (state, timing) must fail its feed, not vanish in a retry: the
    writer used to run a failed batch again one write at a time, and the flaky write passed."""
    store = Store(f"sqlite:///{tmp_path / 'w.db'}")
    calls = {"flaky": 0}

    def note(feed: str) -> None:
        store.record_issue(IngestIssue(feed, AT, f"{feed} stored"))

    def flaky() -> None:
        note("flaky")                      # written, then the bug: rolled back with it
        calls["flaky"] += 1
        if calls["flaky"] == 1:
            raise RuntimeError("a bug that shows once")

    async def batch() -> list[object]:
        async with Writer(store, lambda: False) as writer:
            return await asyncio.gather(writer.write(lambda: note("a")), writer.write(flaky),
                                        writer.write(lambda: note("b")), return_exceptions=True)

    try:
        results = asyncio.run(batch())
        assert results[0] is None and results[2] is None
        assert isinstance(results[1], RuntimeError) and calls["flaky"] == 1
        assert sorted(i.feed_id for i in store.issues(None)) == ["a", "b"]
    finally:
        store.close()


def test_a_database_that_refuses_fails_every_write_of_the_batch(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'w.db'}")

    def refused() -> None:
        raise StoreError("database is locked: nothing was written")

    async def batch() -> list[object]:
        async with Writer(store, lambda: False) as writer:
            return await asyncio.gather(
                writer.write(lambda: store.record_issue(IngestIssue("a", AT, "a"))),
                writer.write(refused), return_exceptions=True)

    try:
        results = asyncio.run(batch())
        assert all(isinstance(r, StoreError) for r in results)
        assert store.issues(None) == []
    finally:
        store.close()

