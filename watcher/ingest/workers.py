"""The parse stage off the event loop: threads in this process, not worker processes.

Issue 17 measured what worker processes bought and cost. lxml releases the GIL while it
builds a tree, but that is 3% of parsing the bench corpus (0.2 of 6.7 s of CPU); the rest is
Python. So threads do not parse on two cores at once, and a cold cycle's parse is serial
again. What processes cost: each forked worker kept ~11 MB of its own and, with the shared
pages counted once, put the whole tree at 168 MB for 3,000 feeds (main 119 MB); and the
service, whose process has threads, spawned them afresh at every poll tick with 32 feeds due
or more (a whole interpreter each, a second of CPU, ~60 MB). Threads cost neither; the CPU
the processes saved came back by making parsing, storing and matching cheaper. Measured on
1,000 bench feeds (docs/bench.md): cold cycle 9.0 s with processes, 8.7-9.2 s with threads;
process tree 144 MB → 111 MB; warm cycle 1.95 → 1.66 s.

feedparser, the fallback for documents the lxml path cannot vouch for (most real feeds),
holds the GIL while it reads; a parse thread is preempted like any other thread every few
milliseconds, so a large document slows the other feeds of the cycle rather than stopping
them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ctypes
import functools
from types import TracebackType
from typing import Self

from watcher.ingest.page import PageSelectors, parse_source
from watcher.ingest.parse import ParsedFeed

THREADS = 2         # a long document on one leaves the other for the rest of the cycle
_M_ARENA_MAX = -8   # glibc's mallopt parameter (malloc.h)
ARENAS = 2


@functools.cache
def fewer_arenas() -> bool:
    """Cap glibc's malloc arenas at ARENAS before the poll's threads start.

    glibc gives each new thread that allocates under contention an arena of its own, up to
    8 a core, and memory freed in one is not reused by another: with the parse threads and
    the writer, a cold cycle of 5,000 feeds peaked at a process tree of 123 MB; with two
    arenas 111 MB, at the same CPU (benchmarks, issue 17; MALLOC_ARENA_MAX=2 measured the
    same). Elsewhere (musl, macOS) there is no mallopt and nothing changes: False."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_ARENA_MAX, ARENAS))


class ParseWorkers:
    """`await workers.parse(...)` runs parse_source on a parse thread; FeedError as usual."""

    def __init__(self, threads: int = THREADS) -> None:
        self.threads = threads
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None

    def __enter__(self) -> Self:
        self._pool = concurrent.futures.ThreadPoolExecutor(self.threads,
                                                           thread_name_prefix="parse")
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    async def parse(self, feed_id: str, body: bytes, *, content_type: str | None,
                    base_url: str, lang: str | None, select: PageSelectors | None = None,
                    aggregator: bool = False) -> ParsedFeed:
        """parse_source (a feed, or a page through `select`) on a parse thread."""
        call = functools.partial(parse_source, feed_id, body, select, content_type=content_type,
                                 base_url=base_url, lang=lang, aggregator=aggregator)
        if self._pool is None:
            return call()
        return await asyncio.get_running_loop().run_in_executor(self._pool, call)
