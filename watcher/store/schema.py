"""The tables (DESIGN §7), declared with SQLModel and queried as Core `Table`s (the handles
at the end). Changes here need a migration in migrations/versions/."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Index,
    LargeBinary,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC: SQLite has no time zones, PostgreSQL gets the same."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


def _utc(nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


class FeedStateRow(SQLModel, table=True):
    """What we remember of each feed between polls."""

    __tablename__ = "feed_state"
    feed_id: str = Field(primary_key=True)
    url: str
    tier: str = "outlet"
    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None
    last_status: int | None = None
    last_error: str | None = None
    failures: int = 0
    last_attempt_at: datetime | None = _utc()
    last_success_at: datetime | None = _utc()
    next_due_at: datetime | None = _utc()
    items_total: int = 0
    retired: bool = False
    active: bool = True
    lease_owner: str | None = None            # the instance polling it now (migration 0006)
    lease_until: datetime | None = _utc()     # after this another instance may take it over


class ItemRow(SQLModel, table=True):
    """One feed entry, stored once however often it is polled."""

    __tablename__ = "item"
    __table_args__ = (UniqueConstraint("feed_id", "key", name="uq_item_feed_key"),)
    id: int | None = Field(default=None, primary_key=True)
    feed_id: str = Field(index=True)
    key: str
    title: str = Field(sa_column=Column(Text, nullable=False))
    summary: str = Field(sa_column=Column(Text, nullable=False))
    url: str
    host: str
    published: datetime | None = _utc()
    seen_at: datetime = _utc(nullable=False, index=True)
    lang: str | None = None
    source: str | None = None
    publisher: str | None = None              # the publisher's name (migration 0008)


class MatchRow(SQLModel, table=True):
    """An item's match against one indicator, with its evidence."""

    __tablename__ = "match"
    __table_args__ = (UniqueConstraint("item_id", "indicator", name="uq_match_item_indicator"),)
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="item.id", index=True)
    indicator: str = Field(index=True)
    strength: float
    certainty: str
    evidence: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class CriterionTransitionRow(SQLModel, table=True):
    """Each change of the criterion's state, stored once: the whole criterion's (track NULL),
    each track's, and each step of the accession's formalization (track "formalization")."""

    __tablename__ = "criterion_transition"
    id: int | None = Field(default=None, primary_key=True)
    state: str
    previous: str | None = None
    at: datetime = _utc(nullable=False)
    detail: str = ""
    track: str | None = Field(default=None, index=True)


class DecisionRow(SQLModel, table=True):
    """An analyst's call on an event, kept on its reports (item ids) so that it follows the
    happening through rematch and growth; undone, not deleted, so the record stays."""

    __tablename__ = "decision"
    id: int | None = Field(default=None, primary_key=True)
    items: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    action: str                       # confirm | dismiss
    decided_by: str
    at: datetime = _utc(nullable=False)
    note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    undone_at: datetime | None = _utc()
    undone_by: str | None = None


class OutboxRow(SQLModel, table=True):
    """One message per (kind, period, recipient), written before it is sent."""

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("kind", "period", "recipient", name="uq_outbox_message"),
                      Index("ix_outbox_status", "status"))
    id: int | None = Field(default=None, primary_key=True)
    kind: str
    period: str
    recipient: str
    message_id: str
    subject: str
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    status: str = "pending"          # pending | sent | failed
    attempts: int = 0
    last_error: str | None = None
    created_at: datetime = _utc(nullable=False)
    next_attempt_at: datetime | None = _utc()
    sent_at: datetime | None = _utc()
    claimed_by: str | None = None             # the instance sending it now (migration 0006)
    claimed_until: datetime | None = _utc()


class InstanceRow(SQLModel, table=True):
    """A watcher process sharing the database: its heartbeat shows it is alive."""

    __tablename__ = "instance"
    id: str = Field(primary_key=True)
    host: str
    pid: int
    version: str
    started_at: datetime = _utc(nullable=False)
    heartbeat_at: datetime = _utc(nullable=False)
    stopped_at: datetime | None = _utc()


# --- issue #4: alerts, silences, service uptime, ingest problems (migration 0004_alerts) ---

class ServiceRunRow(SQLModel, table=True):
    """One start of the service and the last moment it was seen alive: uptime in the digest."""

    __tablename__ = "service_run"
    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime = _utc(nullable=False, index=True)
    last_seen_at: datetime = _utc(nullable=False)
    pid: int = 0
    mode: str = "run"                # run | once


class IngestIssueRow(SQLModel, table=True):
    """A feed document read with errors (items after the error may be lost)."""

    __tablename__ = "ingest_issue"
    id: int | None = Field(default=None, primary_key=True)
    feed_id: str
    at: datetime = _utc(nullable=False, index=True)
    detail: str = ""


class AlertedRow(SQLModel, table=True):
    """An item (or a criterion transition) an alert already covered: never alerted twice."""

    __tablename__ = "alerted"
    __table_args__ = (UniqueConstraint("subject", "ref", name="uq_alerted_subject_ref"),)
    id: int | None = Field(default=None, primary_key=True)
    subject: str                     # indicator id, or "criterion"
    ref: int                         # item id, or criterion_transition id
    alert_key: str                   # the outbox period of the alert that covered it
    status: str = "queued"           # queued | silenced
    at: datetime = _utc(nullable=False)


class SilenceRow(SQLModel, table=True):
    """No alerts for this indicator (or "criterion") until `until`; the digest lists it."""

    __tablename__ = "silence"
    indicator: str = Field(primary_key=True)
    until: datetime = _utc(nullable=False)
    reason: str = ""
    created_at: datetime = _utc(nullable=False)


class FeedDayRow(SQLModel, table=True):
    """What one feed gave on one UTC day: the record of how much of the watch was observed."""

    __tablename__ = "feed_day"
    feed_id: str = Field(primary_key=True)
    day: date = Field(primary_key=True)
    polls_ok: int = 0
    polls_failed: int = 0
    items_new: int = 0


class ArticleRow(SQLModel, table=True):
    """An article whose lead an item wants (enrichment, issue 13), fetched once: the cache."""

    __tablename__ = "article"
    url: str = Field(primary_key=True)       # the publisher's article (a Google News link decoded)
    status: str = Field(index=True)          # pending | ok | failed | undecodable
    lead: str | None = Field(default=None, sa_column=Column(Text))
    reason: str | None = None                # why it failed
    wanted_at: datetime = _utc(nullable=False, index=True)
    fetched_at: datetime | None = _utc()


class ArticleItemRow(SQLModel, table=True):
    """Which items want which article (items of several feeds may share one)."""

    __tablename__ = "article_item"
    item_id: int = Field(primary_key=True)
    url: str = Field(index=True)


# --- the same tables as SQLAlchemy Core handles: the store queries only these ---------------

def _table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


FEED_STATE = _table("feed_state")
FEED_DAY = _table("feed_day")
ITEM = _table("item")
MATCH = _table("match")
CRITERION_TRANSITION = _table("criterion_transition")
DECISION = _table("decision")
OUTBOX = _table("outbox")
ALERTED = _table("alerted")
SILENCE = _table("silence")
INSTANCE = _table("instance")
SERVICE_RUN = _table("service_run")
INGEST_ISSUE = _table("ingest_issue")
ARTICLE = _table("article")
ARTICLE_ITEM = _table("article_item")
