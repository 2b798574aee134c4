"""Storage: the only module that touches ORM rows (DESIGN §7).

Migrations run on open; SQLite runs in WAL mode with a busy timeout so the service and a
CLI command can share the file. Every write is one short transaction.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, bindparam, event, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DatabaseError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import NullPool
from sqlmodel import Session, create_engine

from watcher.config import Feed
from watcher.db.tables import (
    AlertedRow,
    CriterionTransitionRow,
    FeedDayRow,
    FeedStateRow,
    IngestIssueRow,
    InstanceRow,
    ItemRow,
    MatchRow,
    OutboxRow,
    ServiceRunRow,
    SilenceRow,
)
from watcher.dbcheck import check_database, damaged, is_damage
from watcher.errors import StoreError, redact
from watcher.events import host_of
from watcher.models import CriterionState, FeedStatus, Item, Match, MatchedItem

MIGRATIONS = Path(__file__).parent / "db" / "migrations"


@dataclass(frozen=True)
class StoredItem:
    """An item as stored, with its row id (what `match` and `explain` work on)."""

    id: int
    item: Item
    host: str
    seen_at: datetime


@dataclass(frozen=True)
class UnchangedFeed:
    """A poll that found nothing new: what `record_unchanged` writes for it."""

    feed_id: str
    status: int
    etag: str | None
    last_modified: str | None
    content_hash: str | None
    next_due: datetime


@dataclass(frozen=True)
class OutboxMessage:
    """A message waiting in the outbox, exactly as it will be sent."""

    id: int
    kind: str
    period: str
    recipient: str
    message_id: str
    subject: str
    raw: bytes
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime


@dataclass(frozen=True)
class InstanceStatus:
    """One watcher process sharing the database, as `watcher status` shows it."""

    id: str
    host: str | None
    pid: int | None
    started_at: datetime | None
    heartbeat_at: datetime | None
    stopped_at: datetime | None
    leases: int                 # feeds it holds now (lease not expired)
    alive: bool                 # a heartbeat recent enough that its leases still count


def _leasable(c: Any, now: datetime, expired: datetime) -> list[Any]:
    """Active, not retired, due at `now`, and nobody's lease runs past `expired`."""
    return [c.active.is_(True), c.retired.is_(False),
            c.next_due_at.is_(None) | (c.next_due_at <= now),
            c.lease_until.is_(None) | (c.lease_until <= expired)]


def _sqlite_pragmas(busy_timeout: float) -> Callable[[Any, Any], None]:
    """The per-connection settings: WAL, foreign keys, and how long to wait for a lock."""
    def connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")   # first: WAL may wait
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()
    return connect


def make_engine(url: str, busy_timeout: float = 10.0) -> Engine:
    """Engine with the settings each backend needs; creates the SQLite file's folder."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas(busy_timeout))
    return engine


def _migration_engine(url: str, busy_timeout: float) -> Engine:
    """SQLite engine whose transactions really include DDL (SQLAlchemy's pysqlite recipe).

    Python's sqlite3 commits each CREATE/ALTER on its own, so a migration failing half-way
    would keep half a schema. Here the driver's own transaction handling is off and every
    transaction starts with BEGIN IMMEDIATE: the whole upgrade commits or rolls back."""
    engine = create_engine(url, poolclass=NullPool)
    pragmas = _sqlite_pragmas(busy_timeout)

    def connect(dbapi_conn: Any, record: Any) -> None:
        pragmas(dbapi_conn, record)
        dbapi_conn.isolation_level = None

    event.listen(engine, "connect", connect)
    event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
    return engine


def _db_error(exc: SQLAlchemyError, busy_timeout: float) -> str:
    """The database's complaint in words an operator acts on."""
    text = str(getattr(exc, "orig", None) or exc)
    if "locked" in text or "busy" in text:
        return f"database is locked: another process held it longer than {busy_timeout:g} s"
    if "full" in text:
        return "database or disk is full"
    return f"{type(exc).__name__}: {text}"


class Store:
    """Typed reads and writes over the database; opening it applies pending migrations."""

    def __init__(self, url: str, busy_timeout: float = 10.0) -> None:
        self.url = url
        self.busy_timeout = busy_timeout
        self._local = threading.local()     # the open transaction() of each thread
        try:
            self.engine = make_engine(url, busy_timeout)
            self.integrity = check_database(self.engine, busy_timeout)   # before any write
            self.migrate()
        except StoreError:
            raise
        except SQLAlchemyError as exc:
            if is_damage(exc):
                raise damaged(self._file(), [str(getattr(exc, "orig", None) or exc)]) from exc
            raise StoreError(f"cannot open database: {_db_error(exc, busy_timeout)}") from exc
        except ImportError as exc:      # postgresql+psycopg:// without the driver installed
            raise StoreError(f"cannot open database: its driver {exc.name!r} is not installed "
                             "(PostgreSQL: pip install 'watcher[postgres]')") from exc
        except Exception as exc:   # a broken migration: say so plainly; -v shows the traceback
            raise StoreError(f"database migration failed, the schema is unchanged: "
                             f"{type(exc).__name__}: {exc}") from exc

    def _file(self) -> str:
        """The database file's name for messages (never the URL: it may hold a password)."""
        engine = getattr(self, "engine", None)
        return str(engine.url.database) if engine is not None else "(not opened)"

    def migrate(self) -> None:
        """Bring the schema to the newest revision in one transaction: all of it or none.

        A migration that fails leaves the old schema and data exactly as they were."""
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        sqlite = self.engine.dialect.name == "sqlite"
        engine = _migration_engine(self.url, self.busy_timeout) if sqlite else self.engine
        try:
            with engine.begin() as conn:
                if engine.dialect.name == "postgresql":   # instances starting together: one migrates
                    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('watcher:migrate'))"))
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        finally:
            if engine is not self.engine:
                engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on any error.

        Inside `transaction()` it is that transaction's session: the outer block commits."""
        current: Session | None = getattr(self._local, "session", None)
        if current is not None:
            yield current
            return
        with Session(self.engine, expire_on_commit=False) as s:
            try:
                yield s
                s.commit()
            except DatabaseError as exc:
                s.rollback()
                if is_damage(exc):          # a page SQLite found malformed: stop writing
                    raise damaged(self._file(), [str(exc.orig or exc)]) from exc
                if not isinstance(exc, OperationalError):
                    raise
                raise StoreError(f"{_db_error(exc, self.busy_timeout)}: nothing was written; "
                                 "the next cycle retries") from exc
            except BaseException:
                s.rollback()
                raise

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Several writes as one transaction: a crash or an error keeps all of them or none.

        A feed's new items, their matches and its validators go together, so a kill between
        them can never leave items without matches or validators ahead of unstored items."""
        if getattr(self._local, "session", None) is not None:
            yield                           # already inside one: it decides
            return
        with self.session() as s:
            self._local.session = s
            try:
                yield
            finally:
                self._local.session = None

    def close(self) -> None:
        self.engine.dispose()

    # --- feeds --------------------------------------------------------------------------

    def sync_feeds(self, feeds: list[Feed], now: datetime) -> None:
        """Make the stored feed list follow the config: add new feeds, deactivate removed ones."""
        wanted = {f.id: f for f in feeds}
        with self.session() as s:
            self._serialise(s, "feeds")     # instances starting together add each feed once
            rows = {r.feed_id: r for r in s.exec(select(FeedStateRow)).scalars()}
            for fid, feed in wanted.items():
                row = rows.get(fid)
                url = redact(feed.url)      # the URL's password stays in indicators.yaml
                if row is None:
                    s.add(FeedStateRow(feed_id=fid, url=url, tier=feed.tier, next_due_at=now))
                    continue
                if row.url != url:
                    row.etag = row.last_modified = row.content_hash = None
                    row.retired, row.failures, row.next_due_at = False, 0, now
                row.url, row.tier, row.active = url, feed.tier, True
            for fid, row in rows.items():
                if fid not in wanted:
                    row.active = False

    def due_feeds(self, now: datetime, feed_ids: Iterable[str] | None = None) -> list[FeedStateRow]:
        """Active, not retired feeds whose next poll time has come (or the ones named)."""
        with self.session() as s:
            q = select(FeedStateRow).where(FeedStateRow.active.is_(True))  # type: ignore[attr-defined]
            if feed_ids is not None:
                q = q.where(FeedStateRow.feed_id.in_(list(feed_ids)))  # type: ignore[attr-defined]
            else:
                q = q.where(FeedStateRow.retired.is_(False),  # type: ignore[attr-defined]
                            (FeedStateRow.next_due_at.is_(None)) | (FeedStateRow.next_due_at <= now))  # type: ignore[union-attr,operator]
            return list(s.exec(q).scalars())

    def record_poll(self, feed_id: str, *, now: datetime, next_due: datetime, status: int,
                    etag: str | None, last_modified: str | None, content_hash: str | None,
                    stored: int) -> None:
        """A successful poll: validators remembered, failure streak cleared."""
        self._record_polls([UnchangedFeed(feed_id, status, etag, last_modified, content_hash,
                                          next_due)], now, stored)

    def record_unchanged(self, polls: list[UnchangedFeed], now: datetime) -> None:
        """Many unchanged polls in one statement and one transaction (what record_poll does
        for each, minus the item count): a warm cycle of 5,000 feeds is one write, not 5,000."""
        self._record_polls(polls, now, 0)

    def _record_polls(self, polls: list[UnchangedFeed], now: datetime, stored: int) -> None:
        """One UPDATE (executemany) on the Core table: the ORM's load-then-flush of each row
        cost ~2 ms a feed (profile of a cold 1,000-feed poll)."""
        if not polls:
            return
        t = FeedStateRow.__table__  # type: ignore[attr-defined]
        stmt = (update(t).where(t.c.feed_id == bindparam("fid"))
                .values(etag=func.coalesce(bindparam("etag"), t.c.etag),
                        last_modified=func.coalesce(bindparam("lm"), t.c.last_modified),
                        content_hash=func.coalesce(bindparam("hash"), t.c.content_hash),
                        last_status=bindparam("status"), last_error=None, failures=0,
                        last_attempt_at=now, last_success_at=now, next_due_at=bindparam("due"),
                        items_total=t.c.items_total + stored))
        params = [{"fid": p.feed_id, "etag": p.etag or None, "lm": p.last_modified or None,
                   "hash": p.content_hash or None, "status": p.status, "due": p.next_due}
                  for p in polls]
        with self.session() as s:
            s.connection().execute(stmt, params)
            self._count_days(s, [(p.feed_id, stored) for p in polls], now)

    def _count_days(self, s: Session, polls: list[tuple[str, int]], now: datetime) -> None:
        """_count_day for many successful polls in one upsert (executemany), not a load and
        a flush each: a warm cycle stays one write per table."""
        t = FeedDayRow.__table__  # type: ignore[attr-defined]
        ins = (pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert)(t)
        stmt = ins.on_conflict_do_update(
            index_elements=["feed_id", "day"],
            set_={"polls_ok": t.c.polls_ok + 1, "items_new": t.c.items_new + ins.excluded.items_new})
        s.connection().execute(stmt, [{"feed_id": fid, "day": now.date(), "polls_ok": 1,
                                       "polls_failed": 0, "items_new": n} for fid, n in polls])

    def record_failure(self, feed_id: str, *, now: datetime, status: int | None, reason: str,
                       next_due: datetime, retire: bool = False) -> int:
        """A failed poll: reason and streak kept for ops; returns the new streak length."""
        with self.session() as s:
            row = s.get(FeedStateRow, feed_id)
            if row is None:
                return 0
            row.last_status, row.last_error = status, reason
            row.failures += 1
            row.last_attempt_at, row.next_due_at = now, next_due
            row.retired = row.retired or retire
            _count_day(s, feed_id, now, ok=False, items=0)
            return row.failures

    def feed_health(self) -> list[FeedStatus]:
        """Every active feed's state, worst first."""
        with self.session() as s:
            rows = s.exec(select(FeedStateRow).where(FeedStateRow.active.is_(True))).scalars()  # type: ignore[attr-defined]
            out = [FeedStatus(r.feed_id, r.url, r.tier, r.last_status, r.last_error, r.failures,
                              r.last_success_at, r.last_attempt_at, r.next_due_at, r.items_total,
                              r.retired) for r in rows]
        return sorted(out, key=lambda f: (-f.failures, f.feed_id))

    def observed_days(self, since: datetime, until: datetime) -> dict[str, int]:
        """Per feed, the UTC days in [since, until] with at least one successful poll."""
        c: Any = FeedDayRow.__table__.c  # type: ignore[attr-defined]
        q = (select(c.feed_id, func.count())
             .where(c.polls_ok > 0, c.day >= since.date(), c.day <= until.date())
             .group_by(c.feed_id))
        with self.session() as s:
            return {fid: int(n) for fid, n in s.execute(q)}

    def items_seen(self, since: datetime, until: datetime) -> int:
        """Items first stored in [since, until]."""
        c: Any = ItemRow.__table__.c  # type: ignore[attr-defined]
        q = select(func.count()).select_from(ItemRow).where(c.seen_at >= since, c.seen_at <= until)
        with self.session() as s:
            return int(s.execute(q).scalar() or 0)

    # --- items and matches ----------------------------------------------------------------

    def add_items(self, items: list[Item], now: datetime) -> list[StoredItem]:
        """Insert the items not stored yet, in one transaction; return only the new ones."""
        if not items:
            return []
        unique = list({(i.feed_id, i.key): i for i in items}.values())
        rows = [{"feed_id": i.feed_id, "key": i.key, "title": i.title, "summary": i.summary,
                 "url": i.url, "host": _host(i), "published": i.published, "seen_at": now,
                 "lang": i.lang, "source": i.source} for i in unique]
        # One multi-row INSERT … ON CONFLICT DO NOTHING RETURNING: only new rows come back.
        # On the Core table: the ORM's bulk path cost ~15 µs a row in bookkeeping (profile).
        t = ItemRow.__table__  # type: ignore[attr-defined]
        stmt = self._insert_ignore(t, ["feed_id", "key"]).returning(t.c.id, t.c.feed_id, t.c.key)
        with self.session() as s:
            ids = {(fid, key): rid for rid, fid, key in s.connection().execute(stmt, rows)}
        return [StoredItem(ids[(i.feed_id, i.key)], i, r["host"], now)  # type: ignore[arg-type]
                for i, r in zip(unique, rows) if (i.feed_id, i.key) in ids]

    def _insert_ignore(self, table: Any, keys: list[str]) -> Any:
        dialect = self.engine.dialect.name
        if dialect == "sqlite":
            return sqlite_insert(table).on_conflict_do_nothing(index_elements=keys)
        if dialect == "postgresql":
            return pg_insert(table).on_conflict_do_nothing(index_elements=keys)
        return insert(table)

    def add_matches(self, matches: dict[int, list[Match]]) -> int:
        """Record each item's matches (replacing earlier ones, so a rematch is exact)."""
        count = 0
        with self.session() as s:
            # One DELETE for the batch, not one an item (rematch of 100k items: 100k statements).
            table = MatchRow.__table__  # type: ignore[attr-defined]
            if matches:
                s.execute(table.delete().where(table.c.item_id.in_(list(matches))))
            for item_id, ms in matches.items():
                for m in ms:
                    s.add(MatchRow(item_id=item_id, indicator=m.indicator, strength=m.strength,
                                   certainty=m.certainty.value, evidence=_evidence(m)))
                    count += 1
        return count

    def matched_items(self, since: datetime | None = None) -> list[MatchedItem]:
        """Every stored match with its item and feed tier: the input to `events.cluster`."""
        from watcher.models import Certainty, Hit
        q = (select(MatchRow, ItemRow, FeedStateRow.tier)
             .join(ItemRow, ItemRow.id == MatchRow.item_id)  # type: ignore[arg-type]
             .join(FeedStateRow, FeedStateRow.feed_id == ItemRow.feed_id, isouter=True))  # type: ignore[arg-type]
        if since is not None:
            q = q.where(ItemRow.seen_at >= since)  # type: ignore[operator]
        out = []
        with self.session() as s:
            for mrow, irow, tier in s.execute(q):
                ev = mrow.evidence
                match = Match(mrow.indicator, mrow.strength, Certainty(mrow.certainty),
                              tuple(Hit(**h) for h in ev.get("hits", [])), tuple(ev.get("cues", [])))
                out.append(MatchedItem(irow.id, irow.feed_id, irow.title, irow.url,
                                       irow.published or irow.seen_at, irow.seen_at, irow.host,
                                       tier or "outlet", match, irow.summary))
        return out

    def iter_items(self, since: datetime | None = None, batch: int = 1000) -> Iterator[StoredItem]:
        """All stored items in id order, read in batches (for rematch and explain)."""
        # Core rows, not ORM objects: building 100k ItemRow instances was 2.7 of 4.2 s of a
        # profiled 100k-item rematch (the rows are read-only here).
        table = ItemRow.__table__  # type: ignore[attr-defined]
        last = 0
        while True:
            with self.session() as s:
                q = select(table).where(table.c.id > last).order_by(table.c.id).limit(batch)
                if since is not None:
                    q = q.where(table.c.seen_at >= since)
                rows = s.execute(q).all()
            if not rows:
                return
            for r in rows:
                yield _stored(r)  # type: ignore[arg-type]
            last = rows[-1].id or last

    def find_item(self, ref: str) -> StoredItem | None:
        """An item by row id or by URL."""
        with self.session() as s:
            q = select(ItemRow).where(ItemRow.id == int(ref)) if ref.isdigit() else \
                select(ItemRow).where(ItemRow.url == ref)  # type: ignore[arg-type]
            row = s.exec(q).scalars().first()
            return _stored(row) if row else None

    def prune_unmatched(self, before: datetime) -> int:
        """Delete items first seen before `before` that matched no indicator; returns how many.

        Matched items are evidence and are kept for ever; per-day poll counts (coverage) live
        in feed_day, so they do not shrink with the items."""
        items = ItemRow.__table__  # type: ignore[attr-defined]
        matches = MatchRow.__table__  # type: ignore[attr-defined]
        unmatched = ~select(matches.c.item_id).where(matches.c.item_id == items.c.id).exists()
        with self.session() as s:
            done = s.execute(items.delete().where(items.c.seen_at < before, unmatched))
            return int(done.rowcount or 0)  # type: ignore[attr-defined]

    def count_items(self) -> int:
        with self.session() as s:
            return int(s.execute(select(func.count()).select_from(ItemRow)).scalar() or 0)

    # --- criterion ----------------------------------------------------------------------

    def last_state(self) -> CriterionState | None:
        with self.session() as s:
            row = s.exec(select(CriterionTransitionRow).order_by(
                CriterionTransitionRow.id.desc())).scalars().first()  # type: ignore[union-attr]
            return CriterionState(row.state) if row else None

    def record_transition(self, state: CriterionState, at: datetime, detail: str) -> bool:
        """Store a change of state; the same state twice in a row is not a transition."""
        with self.session() as s:
            self._serialise(s, "criterion")     # two instances judging at once store it once
            last = s.exec(select(CriterionTransitionRow).order_by(
                CriterionTransitionRow.id.desc())).scalars().first()  # type: ignore[union-attr]
            if last is not None and last.state == state.value:
                return False
            s.add(CriterionTransitionRow(state=state.value, previous=last.state if last else None,
                                         at=at, detail=detail))
            return True

    def transitions(self) -> list[tuple[str, str | None, datetime, str]]:
        with self.session() as s:
            rows = s.exec(select(CriterionTransitionRow).order_by(CriterionTransitionRow.id)).scalars()  # type: ignore[arg-type]
            return [(r.state, r.previous, r.at, r.detail) for r in rows]

    # --- outbox -------------------------------------------------------------------------

    def enqueue(self, *, kind: str, period: str, recipient: str, message_id: str, subject: str,
                raw: bytes, now: datetime) -> bool:
        """Write the message before any send; False if this (kind, period, recipient) exists."""
        stmt = self._insert_ignore(OutboxRow, ["kind", "period", "recipient"]).values(
            kind=kind, period=period, recipient=recipient, message_id=message_id, subject=subject,
            raw=raw, status="pending", attempts=0, created_at=now, next_attempt_at=now)
        with self.session() as s:
            return bool(s.execute(stmt).rowcount)

    def has_message(self, kind: str, period: str) -> bool:
        with self.session() as s:
            q = select(OutboxRow.id).where(OutboxRow.kind == kind, OutboxRow.period == period)  # type: ignore[arg-type]
            return s.execute(q).first() is not None

    def pending(self, now: datetime) -> list[OutboxMessage]:
        """Messages due for a (re)try, oldest first."""
        with self.session() as s:
            q = (select(OutboxRow).where(OutboxRow.status == "pending",
                                         (OutboxRow.next_attempt_at.is_(None)) | (OutboxRow.next_attempt_at <= now))  # type: ignore[union-attr,operator]
                 .order_by(OutboxRow.id))  # type: ignore[arg-type]
            return [_message(r) for r in s.exec(q).scalars()]

    def messages(self, status: str | None = None) -> list[OutboxMessage]:
        with self.session() as s:
            q = select(OutboxRow).order_by(OutboxRow.id)  # type: ignore[arg-type]
            if status is not None:
                q = q.where(OutboxRow.status == status)
            return [_message(r) for r in s.exec(q).scalars()]

    def last_digest_at(self) -> datetime | None:
        """When the newest digest was written to the outbox: 'new' in a digest means since then."""
        with self.session() as s:
            q = select(func.max(OutboxRow.created_at)).where(OutboxRow.kind == "digest")
            value = s.execute(q).scalar()
        return value  # type: ignore[no-any-return]

    def claim_message(self, now: datetime, owner: str, until: datetime) -> OutboxMessage | None:
        """The oldest message due for a send that no live instance is sending, claimed by
        `owner` until `until`: with N instances each message is sent by one of them.

        A claim whose holder died expires and the message is sent again (same Message-ID)."""
        table = OutboxRow.__table__  # type: ignore[attr-defined]
        pick = (select(table.c.id)
                .where(table.c.status == "pending",
                       table.c.next_attempt_at.is_(None) | (table.c.next_attempt_at <= now),
                       table.c.claimed_until.is_(None) | (table.c.claimed_until <= now)
                       | (table.c.claimed_by == owner))     # mine from before a crash/restart
                .order_by(table.c.id).limit(1).with_for_update(skip_locked=True))
        stmt = (update(table).where(table.c.id.in_(pick.scalar_subquery()))
                .values(claimed_by=owner, claimed_until=until).returning(table.c.id))
        with self.session() as s:
            claimed = s.execute(stmt).scalar()
            row = s.get(OutboxRow, claimed) if claimed is not None else None
            return _message(row) if row is not None else None

    def mark_sent(self, message_id: int, now: datetime) -> None:
        self._update_message(message_id, status="sent", sent_at=now, last_error=None,
                             attempts=OutboxRow.attempts + 1)

    def mark_failed(self, message_id: int, now: datetime, error: str, *, permanent: bool,
                    retry_in: timedelta) -> None:
        """A failed send: retried later, or given up for good when the server said so."""
        self._update_message(message_id, status="failed" if permanent else "pending",
                             last_error=error[:500], attempts=OutboxRow.attempts + 1,
                             next_attempt_at=now + retry_in)

    def _update_message(self, message_id: int, **values: Any) -> None:
        values.update(claimed_by=None, claimed_until=None)      # the send is over: claim released
        with self.session() as s:
            s.execute(update(OutboxRow).where(OutboxRow.id == message_id).values(**values))  # type: ignore[arg-type]

    # --- several instances: feed leases and heartbeats ------------------------------------

    def lease_due_feeds(self, now: datetime, owner: str, until: datetime, limit: int,
                        expired: datetime | None = None) -> list[FeedStateRow]:
        """Lease up to `limit` feeds due at `now` that nobody holds to `owner` until `until`
        (a lease ended before `expired`, default `now`, is free).

        PostgreSQL picks the rows with FOR UPDATE SKIP LOCKED, so instances leasing at the
        same moment get disjoint batches without waiting for each other; a lease whose
        holder died is free again once it expires. On SQLite the single UPDATE is atomic."""
        table = FeedStateRow.__table__  # type: ignore[attr-defined]
        c = table.c
        pick = (select(c.feed_id).where(*_leasable(c, now, expired or now))
                .order_by(c.next_due_at, c.feed_id).limit(limit).with_for_update(skip_locked=True))
        stmt = (update(table).where(c.feed_id.in_(pick.scalar_subquery()))
                .values(lease_owner=owner, lease_until=until).returning(c.feed_id))
        with self.session() as s:
            ids = list(s.execute(stmt).scalars())
            if not ids:
                return []
            rows = s.execute(select(FeedStateRow).where(
                FeedStateRow.feed_id.in_(ids))).scalars()  # type: ignore[attr-defined]
            return sorted(rows, key=lambda r: (r.next_due_at is not None, r.next_due_at, r.feed_id))

    def count_leasable(self, now: datetime, expired: datetime) -> int:
        """How many feeds lease_due_feeds could still hand out: sizes a poll's parse workers."""
        c = FeedStateRow.__table__.c  # type: ignore[attr-defined]
        with self.session() as s:
            return int(s.execute(select(func.count()).where(*_leasable(c, now, expired))).scalar() or 0)

    def release_leases(self, owner: str, feed_ids: Iterable[str] | None = None) -> int:
        """Give leases back (done, or stopping): the feeds' due times decide what comes next.
        Returns how many were held."""
        c = FeedStateRow.__table__.c  # type: ignore[attr-defined]
        stmt = update(FeedStateRow.__table__).where(c.lease_owner == owner)  # type: ignore[attr-defined]
        if feed_ids is not None:
            stmt = stmt.where(c.feed_id.in_(list(feed_ids)))
        with self.session() as s:
            return int(s.execute(stmt.values(lease_owner=None, lease_until=None)).rowcount or 0)  # type: ignore[attr-defined]

    def heartbeat(self, instance: str, now: datetime, until: datetime, *, host: str, pid: int,
                  version: str, stopping: bool = False) -> None:
        """Say this instance is alive and extend what it holds; on a clean stop, let go of it."""
        feeds, outbox = FeedStateRow.__table__, OutboxRow.__table__  # type: ignore[attr-defined]
        with self.session() as s:
            row = s.get(InstanceRow, instance)
            if row is None:
                row = InstanceRow(id=instance, host=host, pid=pid, version=version,
                                  started_at=now, heartbeat_at=now)
                s.add(row)
            if (row.host, row.pid) != (host, pid):          # a restart: this run, not the last
                row.host, row.pid, row.version, row.started_at = host, pid, version, now
            row.heartbeat_at, row.stopped_at = now, now if stopping else None
            if stopping:
                s.execute(update(feeds).where(feeds.c.lease_owner == instance)
                          .values(lease_owner=None, lease_until=None))
                return
            s.execute(update(feeds).where(feeds.c.lease_owner == instance,
                                          feeds.c.lease_until > now).values(lease_until=until))
            s.execute(update(outbox).where(outbox.c.claimed_by == instance,
                                           outbox.c.claimed_until > now).values(claimed_until=until))

    def instances(self, now: datetime, alive_since: datetime,
                  seen_since: datetime) -> list[InstanceStatus]:
        """Instances seen since `seen_since` and every holder of a live lease, with lease counts."""
        c = FeedStateRow.__table__.c  # type: ignore[attr-defined]
        with self.session() as s:
            leases = dict(s.execute(select(c.lease_owner, func.count())
                                    .where(c.lease_owner.is_not(None), c.lease_until > now)
                                    .group_by(c.lease_owner)).all())
            rows = {r.id: r for r in s.execute(select(InstanceRow).where(
                InstanceRow.heartbeat_at >= seen_since)).scalars()}  # type: ignore[arg-type]
        out = [InstanceStatus(r.id, r.host, r.pid, r.started_at, r.heartbeat_at, r.stopped_at,
                              leases.get(r.id, 0),
                              r.stopped_at is None and r.heartbeat_at >= alive_since)
               for r in rows.values()]
        out += [InstanceStatus(owner, None, None, None, None, None, n, True)
                for owner, n in leases.items() if owner not in rows]
        return sorted(out, key=lambda i: (not i.alive, i.id))

    def _serialise(self, s: Session, name: str) -> None:
        """One transaction at a time past this point (until commit), for a read-then-write
        that processes starting together must not both do (two `run --once` on a new state
        dir both inserted every feed: IntegrityError). PostgreSQL: an advisory lock per name.
        SQLite: the database's write lock, taken now by a write that changes nothing, so the
        reads that follow already see what the other process committed."""
        if self.engine.dialect.name == "postgresql":
            s.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"),
                      {"name": f"watcher:{name}"})
        elif self.engine.dialect.name == "sqlite":
            s.execute(text("UPDATE alembic_version SET version_num = version_num WHERE 0"))

    def size_bytes(self) -> int | None:
        """The database's size on disk, for `watcher status`."""
        if self.engine.dialect.name == "postgresql":
            with self.session() as s:
                return int(s.execute(text("SELECT pg_database_size(current_database())")).scalar() or 0)
        if self.engine.dialect.name != "sqlite" or not self.engine.url.database:
            return None
        path = Path(self.engine.url.database)
        return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


    # --- service runs, ingest issues (digest health) ----------------------------------------

    def record_start(self, now: datetime, pid: int, mode: str) -> int:
        """A service start; its id is touched while it runs, so uptime survives a SIGKILL."""
        with self.session() as s:
            row = ServiceRunRow(started_at=now, last_seen_at=now, pid=pid, mode=mode)
            s.add(row)
            s.flush()
            return row.id or 0

    def touch_run(self, run_id: int, now: datetime) -> None:
        with self.session() as s:
            s.execute(update(ServiceRunRow).where(ServiceRunRow.id == run_id)  # type: ignore[arg-type]
                      .values(last_seen_at=now))

    def service_runs(self, since: datetime | None) -> list[tuple[datetime, datetime]]:
        """(started, last seen) of every run that was alive after `since`, oldest first."""
        with self.session() as s:
            q = select(ServiceRunRow).order_by(ServiceRunRow.started_at)  # type: ignore[arg-type]
            if since is not None:
                q = q.where(ServiceRunRow.last_seen_at >= since)  # type: ignore[arg-type,operator,unused-ignore]
            return [(r.started_at, r.last_seen_at) for r in s.execute(q).scalars()]

    def record_issue(self, feed_id: str, now: datetime, detail: str) -> None:
        with self.session() as s:
            s.add(IngestIssueRow(feed_id=feed_id, at=now, detail=detail[:500]))

    def issues(self, since: datetime | None) -> list[tuple[str, datetime, str]]:
        """Feed documents read with errors since `since`: (feed id, when, what)."""
        with self.session() as s:
            q = select(IngestIssueRow).order_by(IngestIssueRow.id)  # type: ignore[arg-type]
            if since is not None:
                q = q.where(IngestIssueRow.at > since)  # type: ignore[arg-type,operator,unused-ignore]
            return [(r.feed_id, r.at, r.detail) for r in s.execute(q).scalars()]

    # --- alerts and silences -------------------------------------------------------------

    def transition_log(self) -> list[tuple[int, str, str | None, datetime, str]]:
        """Every criterion transition with its id: (id, state, previous, at, detail)."""
        with self.session() as s:
            rows = s.execute(select(CriterionTransitionRow).order_by(CriterionTransitionRow.id)).scalars()  # type: ignore[arg-type]
            return [(r.id or 0, r.state, r.previous, r.at, r.detail) for r in rows]

    def alerted(self) -> dict[str, set[int]]:
        """What alerts already covered: subject (indicator or "criterion") → refs."""
        out: dict[str, set[int]] = {}
        with self.session() as s:
            q = select(AlertedRow.subject, AlertedRow.ref)  # type: ignore[call-overload]
            for subject, ref in s.execute(q):
                out.setdefault(subject, set()).add(ref)
        return out

    def enqueue_alert(self, *, key: str, messages: list[dict[str, Any]],
                      covered: list[tuple[str, int, str]], now: datetime) -> int:
        """Queue an alert's messages and mark what it covers in ONE transaction.

        Either the alert is in the outbox and its events are marked, or neither: a crash
        between the two can neither lose the alert nor send it twice."""
        marks = self._insert_ignore(AlertedRow, ["subject", "ref"])
        rows = self._insert_ignore(OutboxRow, ["kind", "period", "recipient"])
        written = 0
        with self.session() as s:
            for subject, ref, status in covered:
                s.execute(marks.values(subject=subject, ref=ref, alert_key=key, status=status, at=now))
            for m in messages:
                written += s.execute(rows.values(
                    kind="alert", period=key, status="pending", attempts=0, created_at=now,
                    next_attempt_at=now, **m)).rowcount or 0  # type: ignore[attr-defined]
        return written

    def set_silence(self, indicator: str, until: datetime, reason: str, now: datetime) -> None:
        """Silence (or re-silence) one indicator's alerts until `until`."""
        with self.session() as s:
            row = s.get(SilenceRow, indicator)
            if row is None:
                s.add(SilenceRow(indicator=indicator, until=until, reason=reason, created_at=now))
            else:
                row.until, row.reason, row.created_at = until, reason, now

    def remove_silence(self, indicator: str) -> bool:
        with self.session() as s:
            row = s.get(SilenceRow, indicator)
            if row is not None:
                s.delete(row)
            return row is not None

    def silences(self, now: datetime | None = None) -> list[tuple[str, datetime, str, datetime]]:
        """(indicator, until, reason, since) of each silence, only the active ones if `now`."""
        with self.session() as s:
            q = select(SilenceRow).order_by(SilenceRow.indicator)
            if now is not None:
                q = q.where(SilenceRow.until > now)  # type: ignore[arg-type,operator,unused-ignore]
            return [(r.indicator, r.until, r.reason, r.created_at) for r in s.execute(q).scalars()]


def _count_day(s: Session, feed_id: str, now: datetime, *, ok: bool, items: int) -> None:
    row = s.get(FeedDayRow, (feed_id, now.date()))
    if row is None:
        row = FeedDayRow(feed_id=feed_id, day=now.date(), polls_ok=0, polls_failed=0, items_new=0)
        s.add(row)
    row.polls_ok += ok
    row.polls_failed += not ok
    row.items_new += items


def _host(item: Item) -> str:
    if item.source:
        host = host_of(item.source) if "://" in item.source else item.source.strip().lower()
        if host:
            return host
    return host_of(item.url) or item.feed_id


def _evidence(m: Match) -> dict[str, Any]:
    return {"hits": [{"term": h.term, "field": h.field, "clause": h.clause} for h in m.hits],
            "cues": list(m.cues)}


def _stored(r: ItemRow) -> StoredItem:
    item = Item(r.feed_id, r.key, r.title, r.summary, r.url, r.published, r.lang, r.source)
    return StoredItem(r.id or 0, item, r.host, r.seen_at)


def _message(r: OutboxRow) -> OutboxMessage:
    return OutboxMessage(r.id or 0, r.kind, r.period, r.recipient, r.message_id, r.subject, r.raw,
                         r.status, r.attempts, r.last_error, r.created_at)


def content_key(*parts: str) -> str:
    """Stable hash for identities built from content."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
