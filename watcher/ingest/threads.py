"""Daemon worker threads for the fetcher's blocking requests (watcher/ingest/fetch.py)."""

from __future__ import annotations

import concurrent.futures
import queue
import threading
from collections.abc import Callable
from typing import Any


class Threads:
    """Daemon worker threads for blocking requests. concurrent.futures' pool joins its
    threads at exit, so one request to a hung server would hold a stopping service (SIGTERM)
    until its deadline; an abandoned request here just ends with the process."""

    def __init__(self, count: int, name: str) -> None:
        self._jobs: queue.SimpleQueue[tuple[concurrent.futures.Future[Any], Callable[..., Any],
                                            tuple[Any, ...]] | None] = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._work, name=f"{name}-{n}", daemon=True)
                         for n in range(count)]
        for t in self._threads:
            t.start()

    def submit(self, fn: Callable[..., Any], *args: Any) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._jobs.put((future, fn, args))
        return future

    def shutdown(self) -> None:
        """Threads end after the job in hand; jobs whose caller was cancelled are skipped."""
        for _ in self._threads:
            self._jobs.put(None)

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            future, fn, args = job
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # noqa: BLE001 — handed to the waiting caller
                future.set_exception(exc)
