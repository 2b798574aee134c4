"""The poll pipeline: due feeds leased a batch at a time, fetched, parsed on a thread, and
stored with their matches by the writer, several feeds to a transaction when many are ready."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from watcher.config import Feed
from watcher.context import Context
from watcher.errors import FeedError, StoreError
from watcher.ingest.enrich import EnrichReport, enrich, want, wanted
from watcher.ingest.fetch import Fetcher, FetchResult, Validators, backoff, request_for
from watcher.ingest.leases import Leases
from watcher.ingest.parse import ParsedFeed
from watcher.ingest.workers import ParseWorkers, fewer_arenas
from watcher.ingest.writer import Stopped, Writer
from watcher.models import IngestIssue
from watcher.settings import Settings
from watcher.store import FeedFailed, FeedForUpdate, FeedPolled

log = logging.getLogger("watcher")
T = TypeVar("T")


@dataclass
class PollReport:
    """What one poll did, for logs and `watcher poll`."""

    polled: int = 0
    unchanged: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    new_items: int = 0
    matches: int = 0
    seconds: float = 0.0
    left: int = 0              # not finished because the service is stopping: still due
    enriched: EnrichReport | None = None     # article leads fetched, if a feed enriches

    def line(self) -> str:
        return (f"polled {self.polled} feed(s): {self.unchanged} unchanged, "
                f"{len(self.failed)} failed, "
                f"{self.new_items} new item(s), {self.matches} match(es) in {self.seconds:.1f} s"
                + (f"; stopping: {self.left} feed(s) left for the next run" if self.left else ""))


PIPELINE = 48   # feeds between request and store at once: bounds the bodies held in memory


async def poll(ctx: Context, feed_ids: list[str] | None = None,
               stop: threading.Event | None = None) -> PollReport:
    """Fetch every due feed leased to this instance (or the ones named), store new items and
    their matches.

    A pipeline, not phases: each feed is fetched, parsed on a parse thread and handed to the
    writer as soon as it arrives, with at most PIPELINE feeds in flight, so memory does not
    grow with the number of feeds; the writer stores what is ready in one transaction (see
    `writer`). The feeds come from leases taken a batch at a time as the pipeline needs them
    (see `leases`), so instances sharing the database poll each feed once. A batch's unchanged
    feeds cost their requests and one batched update, written before its leases go back.

    When `stop` is set (SIGTERM) fetches and parses still running are abandoned and no
    further feed is stored; the write in progress finishes. Feeds not done stay due."""
    started = time.monotonic()
    fewer_arenas()                      # before the writer's and the parse threads start
    stopping = stop.is_set if stop is not None else (lambda: False)
    run = _Run(ctx, ctx.clock(), PollReport(), stopping)
    feeds = {f.id: f for f in ctx.config.feeds}
    leases = Leases(ctx, run.now, feeds, feed_ids, run.report)
    try:
        async with Writer(ctx.store, stopping) as run.writer:
            expected = await leases.take_first(run.writer)
            with ParseWorkers() as run.workers:
                async with fetcher_for(ctx.settings) as run.fetcher:

                    async def runner() -> None:   # PIPELINE of them take feeds in turn: no task
                        while (got := await leases.next(stopping)) is not None:  # per feed
                            batch, row = got
                            if not await run.feed(feeds[row.feed_id], row, batch.unchanged,
                                                  partial(leases.finish, batch)):
                                return
                            await leases.close_if_done(batch)

                    await _run_all([runner() for _ in range(min(PIPELINE, expected))], stop)
            await leases.close_all()     # stopped: what was found unchanged is written, the rest
    except BaseException:                # given back (it stays due)
        leases.abandon()
        raise
    report = run.report
    if any(f.enrich for f in ctx.config.feeds) and not stopping():
        report.enriched = await enrich(ctx, stopping)
        report.matches += report.enriched.matched
    report.left = report.polled - leases.finished
    report.seconds = time.monotonic() - started
    log.info("poll: %s", report.line())
    return report


async def _run_all(runners: list[Coroutine[Any, Any, None]],
                   stop: threading.Event | None) -> None:
    """Run the runners until all are done, the service is stopping, or one fails; the first
    failure (a database write, or a bug) is raised: it stops the cycle."""
    tasks = [asyncio.ensure_future(r) for r in runners]
    try:
        await _until_done(tasks, stop)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in tasks:
        if not task.cancelled() and (error := task.exception()) is not None:
            raise error


async def _until_done(tasks: Sequence[asyncio.Future[None]],
                      stop: threading.Event | None) -> None:
    """Wait for every feed, or until the service is stopping, or a database write fails."""
    pending = set(tasks)
    while pending and not (stop is not None and stop.is_set()):
        finished, pending = await asyncio.wait(pending, timeout=0.2 if stop is not None else None,
                                               return_when=asyncio.FIRST_EXCEPTION)
        if any(not t.cancelled() and t.exception() is not None for t in finished):
            return


@dataclass
class _Run:
    """One poll's moment, parts and report: what each feed's steps share."""

    ctx: Context
    now: datetime
    report: PollReport
    stopping: Callable[[], bool]
    writer: Writer = field(init=False)
    workers: ParseWorkers = field(init=False)
    fetcher: Fetcher = field(init=False)

    async def feed(self, feed: Feed, row: FeedForUpdate, unchanged: list[FeedPolled],
                   finish: Callable[[], None]) -> bool:
        """One feed through fetch → parse → store → match; False if stopped before its write.
        `finish` is called once the feed is done (its outcome written, or found unchanged).

        The failure boundary of one feed (issue 16): whatever goes wrong with it is recorded
        on it and the poll goes on. Expected failures are FeedErrors; anything else is a bug
        in watcher, logged with its traceback, and the feed fails and backs off like any
        other. Only a database that refuses writes (StoreError) stops the poll: no feed could
        be recorded then, and every feed stays due."""
        if self.stopping():
            return False
        try:
            return await self._steps(feed, row, unchanged, finish)
        except Stopped:
            return False
        except StoreError:
            raise
        except Exception as exc:
            log.exception("feed %s: unexpected error, recorded on the feed (a bug in watcher)",
                          feed.id)
            error = FeedError(feed.url, "unexpected error (a bug in watcher): "
                                        f"{type(exc).__name__}: {exc}")
            try:
                return await self._failed(feed, error, row, finish)
            except Stopped:
                return False
            except StoreError:
                raise
            except Exception:  # even its failure cannot be written: it stays due, the rest goes on
                log.exception("feed %s: its failure could not be recorded either", feed.id)
                self.report.failed[feed.id] = error.reason
                finish()
            return True

    async def _steps(self, feed: Feed, row: FeedForUpdate, unchanged: list[FeedPolled],
                     finish: Callable[[], None]) -> bool:
        """fetch → parse → store → match, expected failures recorded on the feed."""
        # The config's URL: the stored one has its credentials redacted. A page is parsed again
        # even when its bytes are the same (about 1 ms), so an edited `select:` block applies at
        # the next poll that is not a 304.
        same_bytes = row.content_hash if feed.page is None else None
        req = request_for(feed, Validators(row.etag, row.last_modified, same_bytes))
        result = await self.fetcher.fetch_or_error(req)
        if self.stopping():
            return False
        if isinstance(result, FeedError):
            return await self._failed(feed, result, row, finish)
        if result.body is None:
            self.report.unchanged += 1
            log.debug("feed %s: unchanged (%d) in %.2f s", feed.id, result.status,
                      result.elapsed)
            unchanged.append(FeedPolled(feed.id, result.status, result.etag,
                                        result.last_modified, result.content_hash,
                                        self.now + feed.interval))
            finish()
            return True
        try:
            parsed = await self.workers.parse(feed.id, result.body,
                                              content_type=result.content_type,
                                              base_url=result.final_url, lang=feed.lang,
                                              select=feed.page,
                                              aggregator=feed.tier == "aggregator")
        except FeedError as exc:
            exc.status = exc.status or result.status   # the server answered; the body is the fault
            if self.stopping():
                return False
            return await self._failed(feed, exc, row, finish)
        if self.stopping():
            return False

        def stored(w: _Written) -> None:
            self.report.matches += w.matches
            self.report.new_items += w.new
            finish()
        written = await self._store(feed, partial(_ingest, self.ctx, feed, result, parsed,
                                                  self.now), stored)
        log.info("feed %s: %d item(s), %d new, %d matched; fetched in %.2f s, stored in %.2f s%s",
                 feed.id, len(parsed.items), written.new, written.matched_items,
                 result.elapsed, written.seconds,
                 f" (warning: {parsed.warning})" if parsed.warning else "")
        return True

    async def _failed(self, feed: Feed, exc: FeedError, row: FeedForUpdate,
                      finish: Callable[[], None]) -> bool:
        failures = row.failures + 1
        next_due = self.now + backoff(failures, feed.interval, exc.retry_after)
        failed = FeedFailed(feed.id, exc.status, exc.reason, next_due, exc.status == 410)
        now, store = self.now, self.ctx.store

        def recorded(_: int) -> None:
            self.report.failed[feed.id] = exc.reason
            finish()
        await self._store(feed, lambda: store.record_failure(failed, now), recorded)
        log.warning("feed %s failed (%d in a row): %s; next try %s%s", feed.id, failures,
                    exc.reason, f"{next_due:%Y-%m-%d %H:%M} UTC",
                    " — retired (410 Gone)" if failed.retire else "")
        return True

    async def _store(self, feed: Feed, write: Callable[[], T],
                     then: Callable[[T], None]) -> T:
        """Record one feed's outcome; a database failure stops the cycle, the feed stays due."""
        try:
            return await self.writer.write(write, then)
        except StoreError as exc:
            raise StoreError(f"poll stopped at feed {feed.id}: {exc.args[0]}") from exc


def fetcher_for(settings: Settings) -> Fetcher:
    """A Fetcher whose deadlines follow WATCHER_FETCH_TIMEOUT: a slow feed costs at most that."""
    total = settings.fetch_timeout
    return Fetcher(connect_timeout=min(10.0, total), read_timeout=min(30.0, total),
                   total_timeout=total, allow_private=settings.allow_private)


@dataclass(frozen=True)
class _Written:
    """What storing one feed's document did."""

    new: int
    matches: int
    matched_items: int
    seconds: float


def _ingest(ctx: Context, feed: Feed, result: FetchResult, parsed: ParsedFeed,
            now: datetime) -> _Written:
    """Items, matches (of the new items only), validators: one write, all or none kept."""
    started = time.monotonic()
    if parsed.warning:
        ctx.store.record_issue(IngestIssue(feed.id, now, parsed.warning))
    new = ctx.store.add_items(parsed.items, now)
    matches = {s.id: found for s in new if (found := ctx.matcher.match(s.item.title,
                                                                      s.item.summary))}
    matched = ctx.store.add_matches(matches, replace=False)     # the items are new
    matched += want(ctx, wanted(ctx, feed, new))   # enrichment: cached leads apply at once
    ctx.store.record_polls([FeedPolled(feed.id, result.status, result.etag,
                                       result.last_modified, result.content_hash,
                                       now + feed.interval, len(new))], now)
    return _Written(len(new), matched, len(matches), time.monotonic() - started)
