"""Which feeds a poll takes: named ones at once, else due ones leased to this instance a batch at
a time, given back when their batch is done (split out of ingest/poll.py, issue 17)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Protocol

from watcher.config import Feed
from watcher.context import Context
from watcher.errors import StoreError
from watcher.ingest.writer import Writer
from watcher.store import FeedForUpdate, FeedPolled

log = logging.getLogger("watcher")


class Counts(Protocol):
    polled: int


@dataclass(eq=False)
class Batch:
    """Feeds leased together: given back when all are done, or when the poll ends."""

    rows: list[FeedForUpdate]
    leased: list[str]                 # every feed id leased, mine or not (released at the end)
    open: int                         # feeds not finished yet
    unchanged: list[FeedPolled] = field(default_factory=list)


class Leases:
    """The feeds to poll: named ones at once; else due ones leased to me, a batch at a time.

    Leases make several instances on one database share the work (each feed is polled by
    one of them); the next batch is leased when the pipeline has taken the last one, so the
    runners never wait for a whole batch to finish. A batch's leases are given back when it
    is done or abandoned, in the transaction that writes its unchanged feeds (a released feed
    must no longer be due); those of a killed instance expire after WATCHER_LEASE_SECONDS.
    Every database call goes through the poll's writer (one thread, one SQLite writer)."""

    def __init__(self, ctx: Context, now: datetime, feeds: dict[str, Feed],
                 feed_ids: list[str] | None, report: Counts) -> None:
        self.ctx, self.now, self.feeds = ctx, now, feeds
        self.feed_ids, self.report = feed_ids, report
        self.me = ctx.settings.instance_id
        self.order = {fid: n for n, fid in enumerate(feeds)}       # config order, as before
        self.seen: set[str] = set()
        self.open: list[Batch] = []
        self.more = True
        self.finished = 0
        self.writer: Writer | None = None
        self._current: Batch | None = None
        self._next_row = 0
        self._lock = asyncio.Lock()

    async def take_first(self, writer: Writer) -> int:
        """Lease the first batch; about how many feeds this poll will have."""
        self.writer = writer
        self._current = await self._lease()
        if self._current is None:
            return 0
        if not self.more:
            return len(self._current.rows)
        c = self.ctx
        return len(self._current.rows) + await writer.write(
            lambda: c.store.count_leasable(self.now, c.clock()), always=True)

    async def next(self, stopping: Callable[[], bool]) -> tuple[Batch, FeedForUpdate] | None:
        """The next feed to poll, leasing the next batch when this one is all taken."""
        async with self._lock:
            while self._current is not None and not stopping():
                if self._next_row < len(self._current.rows):
                    self._next_row += 1
                    return self._current, self._current.rows[self._next_row - 1]
                self._current, self._next_row = await self._lease(), 0
            return None

    async def _lease(self) -> Batch | None:
        assert self.writer is not None
        ctx = self.ctx
        while self.more:
            if self.feed_ids is not None:
                self.more = False
                named = await self.writer.write(
                    lambda: ctx.store.due_feeds(self.now, self.feed_ids), always=True)
                return await self._open([r for r in named if r.feed_id in self.feeds], [])
            limit, moment = ctx.settings.lease_batch, ctx.clock()  # leases expire by the clock
            until = moment + timedelta(seconds=ctx.settings.lease_seconds)
            try:
                leased = await self.writer.write(partial(
                    ctx.store.lease_due_feeds, self.now, self.me, until, limit, expired=moment),
                    always=True)
            except StoreError as exc:
                raise StoreError(f"poll could not lease due feeds: {exc.args[0]}") from exc
            fresh = [r for r in leased if r.feed_id not in self.seen]  # not in my config: once only
            self.seen.update(r.feed_id for r in leased)
            self.more = len(fresh) == limit
            mine = sorted((r for r in fresh if r.feed_id in self.feeds),
                          key=lambda r: self.order[r.feed_id])
            batch = await self._open(mine, [r.feed_id for r in leased])
            if mine:
                return batch
        return None

    async def _open(self, rows: list[FeedForUpdate], leased: list[str]) -> Batch:
        batch = Batch(rows, leased, len(rows))
        self.report.polled += len(rows)
        self.open.append(batch)
        if not rows:
            await self._close(batch)
        return batch

    def finish(self, batch: Batch) -> None:
        """One feed of `batch` is done (stored, or found unchanged)."""
        self.finished += 1
        batch.open -= 1

    async def close_if_done(self, batch: Batch) -> None:
        """The batch's last feed is done: write its unchanged feeds, give its leases back."""
        if batch.open == 0 and batch in self.open:
            await self._close(batch)

    async def _close(self, batch: Batch) -> None:
        """Write the batch's unchanged feeds and give its leases back, in one transaction."""
        assert self.writer is not None
        self.open.remove(batch)
        store, now, me = self.ctx.store, self.now, self.me

        def close() -> None:
            store.record_polls(batch.unchanged, now)
            if batch.leased:
                store.release_leases(me, batch.leased)
        try:
            await self.writer.write(close, always=True)
        except StoreError as exc:
            self.open.append(batch)         # abandon() gives its leases back
            raise StoreError(f"poll could not record unchanged feeds: {exc.args[0]}") from exc

    async def close_all(self) -> None:
        while self.open:
            await self._close(self.open[0])

    def abandon(self) -> None:
        """A failed poll (its writer closed): give back what is still leased if the database
        lets us; if not, the leases expire after WATCHER_LEASE_SECONDS."""
        leased = [fid for b in self.open for fid in b.leased]
        self.open.clear()
        if leased:
            try:
                self.ctx.store.release_leases(self.me, leased)
            except StoreError as exc:
                log.warning("poll: %d lease(s) left to expire: %s", len(leased), exc)
