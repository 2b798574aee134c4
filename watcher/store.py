"""Storage: the only module that touches ORM rows (DESIGN §7).

Migrations run on open; SQLite runs in WAL mode with a busy timeout so the service and a
CLI command can share the file. Every write is one short transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, event, func, insert, select, update
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, create_engine

from watcher.config import Feed
from watcher.db.tables import (CriterionTransitionRow, FeedDayRow, FeedStateRow, ItemRow, MatchRow,
                               OutboxRow)
from watcher.errors import StoreError
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


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def make_engine(url: str) -> Engine:
    """Engine with the settings each backend needs; creates the SQLite file's folder."""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


class Store:
    """Typed reads and writes over the database; opening it applies pending migrations."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            self.engine = make_engine(url)
            self.migrate()
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open database: {exc.__class__.__name__}: {exc.orig if hasattr(exc, 'orig') else exc}") from exc

    def migrate(self) -> None:
        """Bring the schema to the newest revision; each migration is its own transaction."""
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on any error."""
        with Session(self.engine, expire_on_commit=False) as s:
            try:
                yield s
                s.commit()
            except OperationalError as exc:
                s.rollback()
                raise StoreError(f"database write failed: {exc.orig}") from exc
            except BaseException:
                s.rollback()
                raise

    def close(self) -> None:
        self.engine.dispose()

    # --- feeds --------------------------------------------------------------------------

    def sync_feeds(self, feeds: list[Feed], now: datetime) -> None:
        """Make the stored feed list follow the config: add new feeds, deactivate removed ones."""
        wanted = {f.id: f for f in feeds}
        with self.session() as s:
            rows = {r.feed_id: r for r in s.exec(select(FeedStateRow)).scalars()}
            for fid, feed in wanted.items():
                row = rows.get(fid)
                if row is None:
                    s.add(FeedStateRow(feed_id=fid, url=feed.url, tier=feed.tier, next_due_at=now))
                    continue
                if row.url != feed.url:
                    row.etag = row.last_modified = row.content_hash = None
                    row.retired, row.failures, row.next_due_at = False, 0, now
                row.url, row.tier, row.active = feed.url, feed.tier, True
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
        with self.session() as s:
            row = s.get(FeedStateRow, feed_id)
            if row is None:
                return
            row.etag, row.last_modified = etag or row.etag, last_modified or row.last_modified
            row.content_hash = content_hash or row.content_hash
            row.last_status, row.last_error, row.failures = status, None, 0
            row.last_attempt_at, row.last_success_at, row.next_due_at = now, now, next_due
            row.items_total += stored
            _count_day(s, feed_id, now, ok=True, items=stored)

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
        rows = [dict(feed_id=i.feed_id, key=i.key, title=i.title, summary=i.summary, url=i.url,
                     host=_host(i), published=i.published, seen_at=now, lang=i.lang,
                     source=i.source) for i in unique]
        stmt = self._insert_ignore(ItemRow, ["feed_id", "key"])
        with self.session() as s:
            ids = [s.execute(stmt.values(**r).returning(ItemRow.id)).scalar()  # type: ignore[arg-type]
                   for r in rows]
        return [StoredItem(rid, item, r["host"], now)  # type: ignore[arg-type]
                for rid, item, r in zip(ids, unique, rows) if rid is not None]

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
            for item_id, ms in matches.items():
                s.execute(MatchRow.__table__.delete().where(MatchRow.item_id == item_id))  # type: ignore[attr-defined]
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
        last = 0
        while True:
            with self.session() as s:
                q = select(ItemRow).where(ItemRow.id > last).order_by(ItemRow.id).limit(batch)  # type: ignore[arg-type,operator]
                if since is not None:
                    q = q.where(ItemRow.seen_at >= since)  # type: ignore[operator]
                rows = list(s.exec(q).scalars())
            if not rows:
                return
            for r in rows:
                yield _stored(r)
            last = rows[-1].id or last

    def find_item(self, ref: str) -> StoredItem | None:
        """An item by row id or by URL."""
        with self.session() as s:
            q = select(ItemRow).where(ItemRow.id == int(ref)) if ref.isdigit() else \
                select(ItemRow).where(ItemRow.url == ref)  # type: ignore[arg-type]
            row = s.exec(q).scalars().first()
            return _stored(row) if row else None

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
        with self.session() as s:
            s.execute(update(OutboxRow).where(OutboxRow.id == message_id).values(**values))  # type: ignore[arg-type]

    def size_bytes(self) -> int | None:
        """The database file's size on disk (SQLite), for `watcher status`."""
        if self.engine.dialect.name != "sqlite" or not self.engine.url.database:
            return None
        path = Path(self.engine.url.database)
        return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


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
