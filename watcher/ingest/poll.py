"""The poll pipeline: due feeds leased a batch at a time, fetched, parsed and stored with their
matches, each feed in its own transaction."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Coroutine, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from watcher.config import Feed
from watcher.context import Context
from watcher.errors import FeedError, StoreError
from watcher.ingest.fetch import Fetcher, FetchRequest, FetchResult, Validators, backoff
from watcher.ingest.parse import ParsedFeed
from watcher.ingest.workers import ParseWorkers, worker_count
from watcher.models import IngestIssue
from watcher.settings import Settings
from watcher.store import FeedFailed, FeedForUpdate, FeedPolled

log = logging.getLogger("watcher")


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

    A pipeline, not phases: each feed is fetched, parsed (in worker processes for a large
    poll) and stored in its own transaction as soon as it arrives, with at most PIPELINE
    feeds in flight, so memory does not grow with the number of feeds. The feeds come from
    leases taken a batch at a time as the pipeline needs them (see `_Leases`), so instances
    sharing the database poll each feed once. A batch's unchanged feeds cost their requests
    and one batched update, written before the batch's leases are given back.

    When `stop` is set (SIGTERM) fetches and parses still running are abandoned and no
    further feed is stored; the write in progress finishes. Feeds not done stay due."""
    started, now = time.monotonic(), ctx.clock()
    feeds = {f.id: f for f in ctx.config.feeds}
    report = PollReport()
    stopping = stop.is_set if stop is not None else (lambda: False)
    leases = _Leases(ctx, now, feeds, feed_ids, report)
    try:
        expected = leases.take_first()   # before the workers: their number follows the poll's size
        with ParseWorkers(worker_count(expected)) as workers:
            async with fetcher_for(ctx.settings) as fetcher:
                queue = leases.rows(stopping)   # PIPELINE runners take feeds from it in turn: no
                                                # task per feed, so 5,000 feeds cost 48 coroutines

                async def runner() -> None:
                    for batch, row in queue:
                        if not await _poll_feed(ctx, feeds[row.feed_id], row, fetcher, workers,
                                                now, report, batch.unchanged, stopping):
                            return
                        leases.done(batch)

                await _run_all([runner() for _ in range(min(PIPELINE, expected))], stop)
        leases.close_all()              # stopped: what was found unchanged is written, the rest
    except BaseException:               # given back (it stays due)
        leases.abandon()
        raise
    report.left = report.polled - leases.finished
    report.seconds = time.monotonic() - started
    log.info("poll: %s", report.line())
    return report


@dataclass(eq=False)
class _Batch:
    """Feeds leased together: given back when all are done, or when the poll ends."""

    rows: list[FeedForUpdate]
    leased: list[str]                 # every feed id leased, mine or not (released at the end)
    open: int                         # feeds not finished yet
    unchanged: list[FeedPolled] = field(default_factory=list)


class _Leases:
    """The feeds to poll: named ones at once; else due ones leased to me, a batch at a time.

    Leases make several instances on one database share the work (each feed is polled by
    one of them); the next batch is leased when the pipeline has taken the last one, so the
    runners never wait for a whole batch to finish. A batch's leases are given back when it
    is done or abandoned (after its unchanged feeds are written: a released feed must no
    longer be due), and those of a killed instance expire after WATCHER_LEASE_SECONDS."""

    def __init__(self, ctx: Context, now: datetime, feeds: dict[str, Feed],
                 feed_ids: list[str] | None, report: PollReport) -> None:
        self.ctx, self.now, self.feeds = ctx, now, feeds
        self.feed_ids, self.report = feed_ids, report
        self.me = ctx.settings.instance_id
        self.order = {fid: n for n, fid in enumerate(feeds)}       # config order, as before
        self.seen: set[str] = set()
        self.open: list[_Batch] = []
        self.first: _Batch | None = None
        self.more = True
        self.finished = 0

    def take_first(self) -> int:
        """Lease the first batch; about how many feeds this poll will have."""
        self.first = self._lease()
        if self.first is None:
            return 0
        if not self.more:
            return len(self.first.rows)
        c = self.ctx
        return len(self.first.rows) + c.store.count_leasable(self.now, c.clock())

    def rows(self, stopping: Callable[[], bool]) -> Iterator[tuple[_Batch, FeedForUpdate]]:
        """Every feed of every batch, leasing the next batch when this one is all taken."""
        batch, self.first = self.first, None
        while batch is not None and not stopping():
            for row in batch.rows:
                if stopping():
                    return
                yield batch, row
            batch = self._lease() if not stopping() else None

    def _lease(self) -> _Batch | None:
        ctx = self.ctx
        while self.more:
            if self.feed_ids is not None:
                self.more = False
                return self._open([r for r in ctx.store.due_feeds(self.now, self.feed_ids)
                                   if r.feed_id in self.feeds], [])
            limit, moment = ctx.settings.lease_batch, ctx.clock()  # leases expire by the clock
            try:
                leased = ctx.store.lease_due_feeds(
                    self.now, self.me, moment + timedelta(seconds=ctx.settings.lease_seconds),
                    limit, expired=moment)
            except StoreError as exc:
                raise StoreError(f"poll could not lease due feeds: {exc.args[0]}") from exc
            fresh = [r for r in leased if r.feed_id not in self.seen]  # not in my config: once only
            self.seen.update(r.feed_id for r in leased)
            self.more = len(fresh) == limit
            mine = sorted((r for r in fresh if r.feed_id in self.feeds),
                          key=lambda r: self.order[r.feed_id])
            batch = self._open(mine, [r.feed_id for r in leased])
            if mine:
                return batch
        return None

    def _open(self, rows: list[FeedForUpdate], leased: list[str]) -> _Batch:
        batch = _Batch(rows, leased, len(rows))
        self.report.polled += len(rows)
        self.open.append(batch)
        if not rows:
            self._close(batch)
        return batch

    def done(self, batch: _Batch) -> None:
        """One feed of `batch` is stored; the last one closes the batch."""
        self.finished += 1
        batch.open -= 1
        if batch.open == 0:
            self._close(batch)

    def _close(self, batch: _Batch) -> None:
        """Write the batch's unchanged feeds in one statement, then give its leases back."""
        self.open.remove(batch)
        try:
            self.ctx.store.record_polls(batch.unchanged, self.now)
        except StoreError as exc:
            self.open.append(batch)         # abandon() gives its leases back
            raise StoreError(f"poll could not record unchanged feeds: {exc.args[0]}") from exc
        if batch.leased:
            self.ctx.store.release_leases(self.me, batch.leased)

    def close_all(self) -> None:
        while self.open:
            self._close(self.open[0])

    def abandon(self) -> None:
        """A failed poll: give back what is still leased if the database lets us; if not, the
        leases expire after WATCHER_LEASE_SECONDS."""
        leased = [fid for b in self.open for fid in b.leased]
        self.open.clear()
        if leased:
            try:
                self.ctx.store.release_leases(self.me, leased)
            except StoreError as exc:
                log.warning("poll: %d lease(s) left to expire: %s", len(leased), exc)


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


async def _poll_feed(ctx: Context, feed: Feed, row: FeedForUpdate, fetcher: Fetcher,
                     workers: ParseWorkers, now: datetime, report: PollReport,
                     unchanged: list[FeedPolled], stopping: Callable[[], bool]) -> bool:
    """One feed through fetch → parse → store → match; False if stopped before its write.

    The failure boundary of one feed (issue 16): whatever goes wrong with it is recorded on
    it and the poll goes on. Expected failures are FeedErrors; anything else is a bug in
    watcher, logged with its traceback, and the feed fails and backs off like any other.
    Only a database that refuses writes (StoreError) stops the poll: no feed could be
    recorded then, and every feed stays due."""
    if stopping():
        return False
    try:
        return await _poll_feed_steps(ctx, feed, row, fetcher, workers, now, report, unchanged,
                                      stopping)
    except StoreError:
        raise
    except Exception as exc:
        log.exception("feed %s: unexpected error, recorded on the feed (a bug in watcher)",
                      feed.id)
        error = FeedError(feed.url, "unexpected error (a bug in watcher): "
                                    f"{type(exc).__name__}: {exc}")
        try:
            _store(ctx, feed, partial(_record_failure, ctx, feed, error, now, report, row))
        except StoreError:
            raise
        except Exception:     # even its failure cannot be written: it stays due, the rest goes on
            log.exception("feed %s: its failure could not be recorded either", feed.id)
            report.failed[feed.id] = error.reason
        return True


async def _poll_feed_steps(ctx: Context, feed: Feed, row: FeedForUpdate, fetcher: Fetcher,
                           workers: ParseWorkers, now: datetime, report: PollReport,
                           unchanged: list[FeedPolled], stopping: Callable[[], bool]) -> bool:
    """fetch → parse → store → match, expected failures recorded on the feed."""
    # The config's URL: the stored one has its credentials redacted. A page is parsed again
    # even when its bytes are the same (about 1 ms), so an edited `select:` block applies at
    # the next poll that is not a 304.
    same_bytes = row.content_hash if feed.page is None else None
    req = FetchRequest(row.feed_id, feed.url, Validators(row.etag, row.last_modified, same_bytes))
    result = await fetcher.fetch_or_error(req)
    if stopping():
        return False
    if isinstance(result, FeedError):
        _store(ctx, feed, partial(_record_failure, ctx, feed, result, now, report, row))
        return True
    if result.body is None:
        report.unchanged += 1
        log.debug("feed %s: unchanged (%d) in %.2f s", feed.id, result.status, result.elapsed)
        unchanged.append(FeedPolled(feed.id, result.status, result.etag, result.last_modified,
                                    result.content_hash, now + feed.interval))
        return True
    try:
        parsed = await workers.parse(feed.id, result.body, content_type=result.content_type,
                                     base_url=result.final_url, lang=feed.lang, select=feed.page)
    except FeedError as exc:
        exc.status = exc.status or result.status   # the server answered; the body is the fault
        if stopping():
            return False
        _store(ctx, feed, partial(_record_failure, ctx, feed, exc, now, report, row))
        return True
    if stopping():
        return False
    _store(ctx, feed, partial(_ingest, ctx, feed, result, parsed, now, report))
    return True


def _store(ctx: Context, feed: Feed, write: Callable[[], None]) -> None:
    """Record one feed's outcome; a database failure stops the cycle, the feed stays due."""
    try:
        write()
    except StoreError as exc:
        raise StoreError(f"poll stopped at feed {feed.id}: {exc.args[0]}") from exc


def fetcher_for(settings: Settings) -> Fetcher:
    """A Fetcher whose deadlines follow WATCHER_FETCH_TIMEOUT: a slow feed costs at most that."""
    total = settings.fetch_timeout
    return Fetcher(connect_timeout=min(10.0, total), read_timeout=min(30.0, total),
                   total_timeout=total, allow_private=settings.allow_private)


def _ingest(ctx: Context, feed: Feed, result: FetchResult, parsed: ParsedFeed, now: datetime,
            report: PollReport) -> None:
    started = time.monotonic()
    with ctx.store.transaction():        # items, matches, validators: all or none survive a kill
        if parsed.warning:
            ctx.store.record_issue(IngestIssue(feed.id, now, parsed.warning))
        new = ctx.store.add_items(parsed.items, now)
        matches = {s.id: ctx.matcher.match(s.item.title, s.item.summary) for s in new}
        matched = ctx.store.add_matches({k: v for k, v in matches.items() if v})
        ctx.store.record_polls([FeedPolled(feed.id, result.status, result.etag,
                                           result.last_modified, result.content_hash,
                                           now + feed.interval, len(new))], now)
    report.matches += matched
    report.new_items += len(new)
    log.info("feed %s: %d item(s), %d new, %d matched; fetched in %.2f s, stored in %.2f s%s",
             feed.id, len(parsed.items), len(new), sum(1 for v in matches.values() if v),
             result.elapsed, time.monotonic() - started,
             f" (warning: {parsed.warning})" if parsed.warning else "")


def _record_failure(ctx: Context, feed: Feed, exc: FeedError, now: datetime, report: PollReport,
                    row: FeedForUpdate) -> None:
    failures = row.failures + 1
    retire = exc.status == 410
    next_due = now + backoff(failures, feed.interval, exc.retry_after)
    ctx.store.record_failure(FeedFailed(feed.id, exc.status, exc.reason, next_due, retire), now)
    report.failed[feed.id] = exc.reason
    log.warning("feed %s failed (%d in a row): %s; next try %s%s", feed.id, failures, exc.reason,
                f"{next_due:%Y-%m-%d %H:%M} UTC", " — retired (410 Gone)" if retire else "")
