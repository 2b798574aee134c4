"""The poll's writes: queued by the feeds as they finish, written in batches on one thread.

One transaction per feed cost a cold cycle ~0.75 ms of CPU a feed in commits and statement
setup, and held the event loop while SQLite wrote (profile, issue 17). The writer takes what
is waiting whenever it is free (up to BATCH writes) and runs it as one transaction on its own
thread, so fetching and parsing go on meanwhile: a busy cycle writes in few, large
transactions, a quiet one each feed at once. Every database call of a poll goes through this
one thread (leases too), so this process is one writer to SQLite, never two waiting on
each other.

Each write is a function that returns what it did and changes nothing but the database, so
it can be run again. All of one feed's writes are one function, kept or lost together as
before; a batch is several feeds in one transaction, so a kill loses the batch (its feeds stay
due). A write that fails with a bug rolls its batch back and the batch is written again
without it, so only the faulty feed fails (its write is not run again: a second run could
pass where the first failed, and hide the bug); a database that refuses writes (StoreError)
fails the whole batch, and the poll stops on it. Once the poll is stopping, no new batch is
begun; the one being written finishes.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypeVar

from watcher.errors import StoreError
from watcher.store import Store

T = TypeVar("T")
BATCH = 64


class Stopped(Exception):
    """The poll is stopping: this write was not begun."""


@dataclass(frozen=True)
class _Job:
    fn: Callable[[], Any]
    then: Callable[[Any], None] | None
    always: bool


class Writer:
    """`await writer.write(fn)`: fn's result once its batch is committed (its error if not)."""

    def __init__(self, store: Store, stopping: Callable[[], bool], batch: int = BATCH) -> None:
        self.store, self.stopping, self.batch = store, stopping, batch
        self._thread: concurrent.futures.ThreadPoolExecutor | None = None
        self._waiting: list[tuple[_Job, asyncio.Future[Any]]] = []
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        self._thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="store")
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        for _, waiting in self._waiting:
            waiting.cancel()
        assert self._thread is not None
        self._thread.shutdown(wait=True)        # the write in progress finishes

    async def write(self, fn: Callable[[], T], then: Callable[[T], None] | None = None, *,
                    always: bool = False) -> T:
        """Run fn in the next batch; StoreError, Stopped, or fn's own error if it failed.

        `then` gets fn's result once committed, even if the caller was cancelled meanwhile
        (SIGTERM): what was written is counted. `always`: written even once the poll is
        stopping (its leases' bookkeeping)."""
        done: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.append((_Job(fn, then, always), done))
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._drain())
        return await done

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self._waiting:
            jobs, self._waiting = self._waiting[:self.batch], self._waiting[self.batch:]
            jobs = [(job, f) for job, f in jobs if not f.done()]     # callers cancelled
            if self.stopping():
                for job, f in jobs:
                    if not job.always:
                        f.set_exception(Stopped())
                jobs = [(job, f) for job, f in jobs if job.always]
            outcomes = await loop.run_in_executor(self._thread, self._commit,
                                                  [job.fn for job, _ in jobs]) if jobs else []
            for (job, f), (ok, value) in zip(jobs, outcomes):
                if ok and job.then is not None:
                    job.then(value)
                if not f.done():
                    if ok:
                        f.set_result(value)
                    else:
                        f.set_exception(value)

    def _commit(self, fns: list[Callable[[], Any]]) -> list[tuple[bool, Any]]:
        """On the store's thread: the batch in one transaction. A write that fails with a bug
        rolls the batch back and is left out with its error (not run again: a second run
        could pass where the first failed); the rest is written again without it."""
        failed: dict[int, Exception] = {}
        while True:
            current: int | None = None
            try:
                with self.store.transaction():
                    done = {}
                    for current in (i for i in range(len(fns)) if i not in failed):
                        done[current] = fns[current]()
                    current = None              # the commit itself: every write's fault
                return [(False, failed[i]) if i in failed else (True, done[i])
                        for i in range(len(fns))]
            except StoreError as exc:           # the database refuses: nothing is written
                return [(False, failed.get(i, exc)) for i in range(len(fns))]
            except Exception as exc:        # noqa: BLE001 - handed to the feed that wrote it
                if current is None:
                    return [(False, failed.get(i, exc)) for i in range(len(fns))]
                failed[current] = exc
