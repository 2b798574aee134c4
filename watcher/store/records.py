"""The typed records the store hands out and takes in (frozen; never an ORM row or a tuple).

Records the pure core and the report read too (StoredItem, Transition, Silence, …) live in
`watcher.models`; these are the ones only the edges (poll, outbox, status) use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class FeedForUpdate:
    """A feed due for a poll: where to fetch it, its validators and its failure streak."""

    feed_id: str
    url: str
    etag: str | None
    last_modified: str | None
    content_hash: str | None
    failures: int
    next_due_at: datetime | None


@dataclass(frozen=True)
class ItemText:
    """A stored item's text and row id: all that matching it again needs (`watcher rematch`)."""

    id: int
    title: str
    summary: str


@dataclass(frozen=True)
class MatchOutcome:
    """What a match decided about an item, without its evidence: rematch compares these."""

    indicator: str
    certainty: str


@dataclass(frozen=True)
class FeedPolled:
    """A successful poll (new items or none): what `record_polls` writes for it."""

    feed_id: str
    status: int
    etag: str | None
    last_modified: str | None
    content_hash: str | None
    next_due: datetime
    stored: int = 0                   # new items it stored


@dataclass(frozen=True)
class FeedFailed:
    """A failed poll: the reason shown to ops, when to try again, and whether to give up."""

    feed_id: str
    status: int | None
    reason: str
    next_due: datetime
    retire: bool = False              # 410 Gone: no more polls until the URL changes


@dataclass(frozen=True)
class OutboxDraft:
    """A message before it is queued: the outbox row `enqueue` writes, bytes and all."""

    kind: str                         # digest | alert
    period: str
    recipient: str
    message_id: str
    subject: str
    raw: bytes


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
class Instance:
    """This watcher process, as its heartbeat records it."""

    id: str
    host: str
    pid: int
    version: str


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
