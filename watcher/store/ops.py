"""Operations: service runs (uptime), ingest issues, and the instances sharing the database
(heartbeats)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, insert, select, update

from watcher.models import IngestIssue, ServiceRun
from watcher.store.base import Database
from watcher.store.records import Instance, InstanceStatus
from watcher.store.schema import (
    FEED_STATE,
    INGEST_ISSUE,
    INSTANCE,
    OUTBOX,
    SERVICE_RUN,
)


class OpsMixin(Database):
    """Reads and writes of service_run, ingest_issue and instance."""

    # --- service runs and ingest issues (the digest's health section) ----------------------

    def record_start(self, now: datetime, pid: int, mode: str) -> int:
        """A service start; its id is touched while it runs, so uptime survives a SIGKILL."""
        stmt = (insert(SERVICE_RUN).values(started_at=now, last_seen_at=now, pid=pid, mode=mode)
                .returning(SERVICE_RUN.c.id))
        with self._connect() as conn:
            return int(conn.execute(stmt).scalar() or 0)

    def touch_run(self, run_id: int, now: datetime) -> None:
        """The run is alive at `now`."""
        with self._connect() as conn:
            conn.execute(update(SERVICE_RUN).where(SERVICE_RUN.c.id == run_id)
                         .values(last_seen_at=now))

    def service_runs(self, since: datetime | None) -> list[ServiceRun]:
        """Every run that was alive after `since`, oldest first."""
        c = SERVICE_RUN.c
        q = select(c.started_at, c.last_seen_at).order_by(c.started_at)
        if since is not None:
            q = q.where(c.last_seen_at >= since)
        with self._connect() as conn:
            return [ServiceRun(r.started_at, r.last_seen_at) for r in conn.execute(q)]

    def record_issue(self, issue: IngestIssue) -> None:
        """A feed document read with errors (its detail cut to 500 characters)."""
        with self._connect() as conn:
            conn.execute(insert(INGEST_ISSUE).values(feed_id=issue.feed_id, at=issue.at,
                                                     detail=issue.detail[:500]))

    def issues(self, since: datetime | None) -> list[IngestIssue]:
        """Feed documents read with errors since `since`, in the order they were recorded."""
        c = INGEST_ISSUE.c
        q = select(c.feed_id, c.at, c.detail).order_by(c.id)
        if since is not None:
            q = q.where(c.at > since)
        with self._connect() as conn:
            return [IngestIssue(r.feed_id, r.at, r.detail) for r in conn.execute(q)]

    # --- several instances: heartbeats -------------------------------------------------------

    def heartbeat(self, me: Instance, now: datetime, until: datetime, *,
                  stopping: bool = False) -> None:
        """Say this instance is alive and extend what it holds; on a clean stop, let go of it."""
        feeds, outbox, c = FEED_STATE.c, OUTBOX.c, INSTANCE.c
        stopped = now if stopping else None
        with self._connect() as conn:
            row = conn.execute(select(c.host, c.pid).where(c.id == me.id)).first()
            if row is None:
                conn.execute(insert(INSTANCE).values(
                    id=me.id, host=me.host, pid=me.pid, version=me.version, started_at=now,
                    heartbeat_at=now, stopped_at=stopped))
            else:
                restarted = {} if (row.host, row.pid) == (me.host, me.pid) else {
                    "host": me.host, "pid": me.pid, "version": me.version, "started_at": now}
                conn.execute(update(INSTANCE).where(c.id == me.id)
                             .values(heartbeat_at=now, stopped_at=stopped, **restarted))
            if stopping:
                conn.execute(update(FEED_STATE).where(feeds.lease_owner == me.id)
                             .values(lease_owner=None, lease_until=None))
                return
            conn.execute(update(FEED_STATE).where(feeds.lease_owner == me.id,
                                                  feeds.lease_until > now)
                         .values(lease_until=until))
            conn.execute(update(OUTBOX).where(outbox.claimed_by == me.id,
                                              outbox.claimed_until > now)
                         .values(claimed_until=until))

    def instances(self, now: datetime, alive_since: datetime,
                  seen_since: datetime) -> list[InstanceStatus]:
        """Instances seen since `seen_since` and every holder of a live lease, with lease counts."""
        c = FEED_STATE.c
        with self._connect() as conn:
            leases: dict[str, int] = {
                owner: int(n) for owner, n in conn.execute(
                    select(c.lease_owner, func.count())
                    .where(c.lease_owner.is_not(None), c.lease_until > now)
                    .group_by(c.lease_owner))}
            rows = conn.execute(select(INSTANCE)
                                .where(INSTANCE.c.heartbeat_at >= seen_since)).all()
        out = [InstanceStatus(r.id, r.host, r.pid, r.started_at, r.heartbeat_at, r.stopped_at,
                              leases.get(r.id, 0),
                              r.stopped_at is None and r.heartbeat_at >= alive_since)
               for r in rows]
        known = {r.id for r in rows}
        out += [InstanceStatus(owner, None, None, None, None, None, n, True)
                for owner, n in leases.items() if owner not in known]
        return sorted(out, key=lambda i: (not i.alive, i.id))
