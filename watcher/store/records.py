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


@dataclass(frozen=True)
class PollCounts:
    """One feed's polls (successful, failed) and new items over a span of UTC days: the
    workbench's feeds page and /metrics."""

    feed_id: str
    polls_ok: int
    polls_failed: int
    items_new: int


@dataclass(frozen=True)
class ArticleWanted:
    """An item wants its article's lead (enrichment): `url` is where the article is, or the
    item's own link with status `undecodable` when a Google News link hides it."""

    item_id: int
    url: str
    status: str = "pending"           # pending | undecodable


@dataclass(frozen=True)
class ArticleFetched:
    """One article fetch's outcome: its lead, or why it failed."""

    url: str
    at: datetime
    lead: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class ArticleHealth:
    """The enrichment's figures for `watcher status`: articles by status, the latest failure."""

    pending: int
    ok: int
    failed: int
    undecodable: int
    last_failure: str | None = None
    last_failure_at: datetime | None = None


@dataclass(frozen=True)
class ArticleState:
    """The article an item wants (enrichment) and how its fetch went, for `watcher explain`."""

    url: str
    status: str                       # pending | ok | failed | undecodable
    reason: str | None = None
    fetched_at: datetime | None = None

    def line(self) -> str:
        """One line: where the lead comes from, or why there is none."""
        what = {"ok": "its lead is the summary below (enrichment)",
                "pending": "waiting to be fetched (enrichment)",
                "undecodable": "a Google News link that cannot be decoded offline: not fetched",
                }.get(self.status, f"fetch failed: {self.reason}; the item is as the feed gave it")
        when = f" on {self.fetched_at:%Y-%m-%d %H:%M} UTC" if self.fetched_at else ""
        return f"article {self.url}{when}: {what}"


@dataclass(frozen=True)
class PollCycle:
    """The latest poll cycle of the service: when it ended, how long it took (/metrics)."""

    ended_at: datetime
    seconds: float
