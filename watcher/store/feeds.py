"""Feeds: the stored feed list, what each poll found, per-day coverage, and the leases that let
several instances share the polling."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from watcher.config import Feed
from watcher.errors import redact
from watcher.models import FeedStatus
from watcher.store.base import Database
from watcher.store.records import FeedFailed, FeedForUpdate, FeedPolled, PollCounts
from watcher.store.schema import FEED_DAY, FEED_STATE

_FOR_UPDATE = [FEED_STATE.c[name] for name in ("feed_id", "url", "etag", "last_modified",
                                               "content_hash", "failures", "next_due_at")]


def _for_update(row: Row[Any]) -> FeedForUpdate:
    return FeedForUpdate(row.feed_id, row.url, row.etag, row.last_modified, row.content_hash,
                         row.failures, row.next_due_at)


def _leasable(now: datetime, expired: datetime) -> list[Any]:
    """Active, not retired, due at `now`, and nobody's lease runs past `expired`."""
    c = FEED_STATE.c
    return [c.active.is_(True), c.retired.is_(False),
            c.next_due_at.is_(None) | (c.next_due_at <= now),
            c.lease_until.is_(None) | (c.lease_until <= expired)]


# Built once: building these for each poll was ~1 ms a feed of a cold cycle (py-spy, issue 17).
_RECORD_POLL = (
    update(FEED_STATE).where(FEED_STATE.c.feed_id == bindparam("fid"))
    .values(etag=func.coalesce(bindparam("etag"), FEED_STATE.c.etag),
            last_modified=func.coalesce(bindparam("lm"), FEED_STATE.c.last_modified),
            content_hash=func.coalesce(bindparam("hash"), FEED_STATE.c.content_hash),
            last_status=bindparam("status"), last_error=None, failures=0,
            last_attempt_at=bindparam("now"), last_success_at=bindparam("now"),
            next_due_at=bindparam("due"),
            items_total=FEED_STATE.c.items_total + bindparam("stored")))


@functools.cache
def _count_day(dialect: str) -> Any:
    """INSERT … ON CONFLICT DO UPDATE adding a poll to its feed-day (SQLite or PostgreSQL)."""
    ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(FEED_DAY)
    c = FEED_DAY.c
    return ins.on_conflict_do_update(
        index_elements=["feed_id", "day"],
        set_={"polls_ok": c.polls_ok + ins.excluded.polls_ok,
              "polls_failed": c.polls_failed + ins.excluded.polls_failed,
              "items_new": c.items_new + ins.excluded.items_new})


class FeedsMixin(Database):
    """Reads and writes of feed_state and feed_day."""

    def sync_feeds(self, feeds: list[Feed], now: datetime) -> None:
        """Make the stored feed list follow the config: add new feeds, deactivate removed ones.

        A feed whose URL changed starts afresh (validators, failures, retirement cleared)."""
        wanted = {f.id: f for f in feeds}
        urls = {f.id: redact(f.url) for f in feeds}     # the URL's password stays in the config
        c = FEED_STATE.c
        with self._connect() as conn:
            self.serialise(conn, "feeds")     # instances starting together add each feed once
            stored = {r.feed_id: r
                      for r in conn.execute(select(c.feed_id, c.url, c.tier, c.active))}
            new = [{"feed_id": fid, "url": urls[fid], "tier": f.tier, "next_due_at": now}
                   for fid, f in wanted.items() if fid not in stored]
            if new:
                conn.execute(insert(FEED_STATE), new)
            for fid, f in wanted.items():
                row = stored.get(fid)
                url = urls[fid]
                if row is not None and (row.url, row.tier, row.active) != (url, f.tier, True):
                    moved = {} if row.url == url else {
                        "etag": None, "last_modified": None, "content_hash": None,
                        "retired": False, "failures": 0, "next_due_at": now}
                    conn.execute(update(FEED_STATE).where(c.feed_id == fid)
                                 .values(url=url, tier=f.tier, active=True, **moved))
            gone = [fid for fid, r in stored.items() if fid not in wanted and r.active]
            if gone:
                conn.execute(update(FEED_STATE).where(c.feed_id.in_(gone)).values(active=False))

    def due_feeds(self, now: datetime,
                  feed_ids: Iterable[str] | None = None) -> list[FeedForUpdate]:
        """Active, not retired feeds whose next poll time has come (or the ones named)."""
        c = FEED_STATE.c
        q = select(*_FOR_UPDATE).where(c.active.is_(True))
        if feed_ids is not None:
            q = q.where(c.feed_id.in_(list(feed_ids)))
        else:
            q = q.where(c.retired.is_(False), c.next_due_at.is_(None) | (c.next_due_at <= now))
        with self._connect() as conn:
            return [_for_update(r) for r in conn.execute(q)]

    def record_polls(self, polls: list[FeedPolled], now: datetime) -> None:
        """Successful polls: validators remembered, failure streaks cleared, items counted.

        One UPDATE (executemany) for all of them: a warm cycle of 5,000 feeds is one write,
        not 5,000 (the ORM's load-then-flush of each row cost ~2 ms a feed)."""
        if not polls:
            return
        params = [{"fid": p.feed_id, "etag": p.etag or None, "lm": p.last_modified or None,
                   "hash": p.content_hash or None, "status": p.status, "due": p.next_due,
                   "stored": p.stored, "now": now} for p in polls]
        with self._connect() as conn:
            conn.execute(_RECORD_POLL, params)
            self._count_days(conn, [(p.feed_id, True, p.stored) for p in polls], now)

    def record_failure(self, failed: FeedFailed, now: datetime) -> int:
        """A failed poll: reason and streak kept for ops; returns the new streak length."""
        c = FEED_STATE.c
        values: dict[str, Any] = {"last_status": failed.status, "last_error": failed.reason,
                                  "failures": c.failures + 1, "last_attempt_at": now,
                                  "next_due_at": failed.next_due}
        if failed.retire:
            values["retired"] = True
        stmt = (update(FEED_STATE).where(c.feed_id == failed.feed_id).values(**values)
                .returning(c.failures))
        with self._connect() as conn:
            failures = conn.execute(stmt).scalar()
            if failures is None:
                return 0
            self._count_days(conn, [(failed.feed_id, False, 0)], now)
            return int(failures)

    def _count_days(self, conn: Connection, polls: list[tuple[str, bool, int]],
                    now: datetime) -> None:
        """Count each poll (ok or failed, new items) on its feed's UTC day, in one upsert."""
        conn.execute(_count_day(self.dialect),
                     [{"feed_id": fid, "day": now.date(), "polls_ok": int(ok),
                       "polls_failed": int(not ok), "items_new": n} for fid, ok, n in polls])

    def feed_health(self) -> list[FeedStatus]:
        """Every active feed's state, worst first."""
        c = FEED_STATE.c
        with self._connect() as conn:
            rows = conn.execute(select(FEED_STATE).where(c.active.is_(True))).all()
        out = [FeedStatus(r.feed_id, r.url, r.tier, r.last_status, r.last_error, r.failures,
                          r.last_success_at, r.last_attempt_at, r.next_due_at, r.items_total,
                          r.retired) for r in rows]
        return sorted(out, key=lambda f: (-f.failures, f.feed_id))

    def observed_days(self, since: datetime, until: datetime) -> dict[str, int]:
        """Per feed, the UTC days in [since, until] with at least one successful poll."""
        c = FEED_DAY.c
        q = (select(c.feed_id, func.count())
             .where(c.polls_ok > 0, c.day >= since.date(), c.day <= until.date())
             .group_by(c.feed_id))
        with self._connect() as conn:
            return {fid: int(n) for fid, n in conn.execute(q)}

    def poll_counts(self, since: datetime | None = None) -> list[PollCounts]:
        """Per feed, its polls (ok, failed) and new items on the UTC days from `since` on
        (all days when None)."""
        c = FEED_DAY.c
        q = select(c.feed_id, func.sum(c.polls_ok), func.sum(c.polls_failed),
                   func.sum(c.items_new)).group_by(c.feed_id).order_by(c.feed_id)
        if since is not None:
            q = q.where(c.day >= since.date())
        with self._connect() as conn:
            return [PollCounts(fid, int(ok or 0), int(bad or 0), int(new or 0))
                    for fid, ok, bad, new in conn.execute(q)]

    # --- several instances: feed leases ------------------------------------------------------

    def lease_due_feeds(self, now: datetime, owner: str, until: datetime, limit: int,
                        expired: datetime | None = None) -> list[FeedForUpdate]:
        """Lease up to `limit` feeds due at `now` that nobody holds to `owner` until `until`
        (a lease ended before `expired`, default `now`, is free).

        PostgreSQL picks the rows with FOR UPDATE SKIP LOCKED, so instances leasing at the
        same moment get disjoint batches without waiting for each other; a lease whose
        holder died is free again once it expires. On SQLite the single UPDATE is atomic."""
        c = FEED_STATE.c
        pick = (select(c.feed_id).where(*_leasable(now, expired or now))
                .order_by(c.next_due_at, c.feed_id).limit(limit).with_for_update(skip_locked=True))
        stmt = (update(FEED_STATE).where(c.feed_id.in_(pick.scalar_subquery()))
                .values(lease_owner=owner, lease_until=until).returning(c.feed_id))
        with self._connect() as conn:
            ids = list(conn.execute(stmt).scalars())
            if not ids:
                return []
            rows = [_for_update(r) for r in conn.execute(
                select(*_FOR_UPDATE).where(c.feed_id.in_(ids)))]
        return sorted(rows, key=lambda r: (r.next_due_at is not None, r.next_due_at, r.feed_id))

    def count_leasable(self, now: datetime, expired: datetime) -> int:
        """How many feeds lease_due_feeds could still hand out: sizes a poll's parse workers."""
        with self._connect() as conn:
            return int(conn.execute(select(func.count()).where(*_leasable(now, expired)))
                       .scalar() or 0)

    def release_leases(self, owner: str, feed_ids: Iterable[str] | None = None) -> int:
        """Give leases back (done, or stopping): the feeds' due times decide what comes next.
        Returns how many were held."""
        c = FEED_STATE.c
        stmt = update(FEED_STATE).where(c.lease_owner == owner)
        if feed_ids is not None:
            stmt = stmt.where(c.feed_id.in_(list(feed_ids)))
        with self._connect() as conn:
            return int(conn.execute(stmt.values(lease_owner=None, lease_until=None)).rowcount or 0)
