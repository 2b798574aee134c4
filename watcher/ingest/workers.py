"""Worker processes for the parse stage: a cold cycle parses on every core.

Parsing is the heavy part of a cycle with new content; in the event loop's process it would
hold the GIL that the fetch threads need. `ParseWorkers` runs `parse_source` in a small
process pool, one process a core, started only when a poll has enough feeds to pay for it.
Workers are forked when the process has a single thread (the CLI: nothing is re-imported,
pages are shared), spawned otherwise (the scheduler: forking a threaded process can copy
a lock some other thread holds). A worker that dies costs its feeds one failed poll each;
the rest of the cycle parses in-process.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import gc
import logging
import multiprocessing
import os
import threading
from concurrent.futures.process import BrokenProcessPool
from types import TracebackType
from typing import Self

from watcher.errors import FeedError
from watcher.ingest.page import PageSelectors, parse_source
from watcher.ingest.parse import ParsedFeed

log = logging.getLogger(__name__)
MIN_FEEDS = 32          # fewer feeds than this: not worth starting processes


def worker_count(feeds: int) -> int:
    """Processes for a poll of this many feeds: one a core, none for a small poll."""
    return 0 if feeds < MIN_FEEDS else max(1, os.cpu_count() or 1)


class ParseWorkers:
    """`await workers.parse(...)` parses in a worker process (or in-process when there are none)."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    def __enter__(self) -> Self:
        """Start the processes now, before the caller starts threads (see the module doc)."""
        if self.processes > 0:
            method = "fork" if threading.active_count() == 1 else "spawn"
            if method == "fork":
                # Objects that exist now move to a generation the collector never visits, so
                # the children's collections do not write to (and copy) the parent's pages.
                gc.freeze()
            self._pool = concurrent.futures.ProcessPoolExecutor(
                self.processes, mp_context=multiprocessing.get_context(method))
            if method == "fork":   # the pool forks all its workers on the first submit
                self._pool.submit(os.getpid).result()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
            gc.unfreeze()

    async def parse(self, feed_id: str, body: bytes, *, content_type: str | None,
                    base_url: str, lang: str | None,
                    select: PageSelectors | None = None) -> ParsedFeed:
        """parse_source (a feed, or a page through `select`), off the event loop when there
        are workers; FeedError as usual."""
        call = functools.partial(parse_source, feed_id, body, select, content_type=content_type,
                                 base_url=base_url, lang=lang)
        if self._pool is None:
            return call()
        pool = self._pool
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, call)
        except BrokenProcessPool as exc:
            if self._pool is pool:
                log.error("a parser process died (feed %s); parsing in-process from now on",
                          feed_id)
                self._pool = None
                pool.shutdown(wait=False, cancel_futures=True)
            raise FeedError(base_url or feed_id, "the parser process crashed on this feed") from exc
