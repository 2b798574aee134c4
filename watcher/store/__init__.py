"""Storage: the only package that touches the database (DESIGN §7).

Split by domain the way lemon24/reader splits its `_storage/`: `feeds` (feed state, coverage,
leases), `items` (items, matches, retention), `outbox` (messages, alert marks, silences) and
`ops` (service runs, ingest issues, instances), `criterion` (transitions per track, the
analysts' decisions), over `base` (engine, migrations,
transactions) and `schema` (the tables). Every query is SQLAlchemy Core; every read returns a
frozen record (`records`, or `watcher.models` for what the core reads too), every write takes
one, so no row or bare tuple leaves the package.
"""

from __future__ import annotations

from watcher.store.articles import ArticlesMixin
from watcher.store.base import redacted_url
from watcher.store.criterion import CriterionMixin
from watcher.store.feeds import FeedsMixin
from watcher.store.items import ItemsMixin
from watcher.store.ops import OpsMixin
from watcher.store.outbox import OutboxMixin
from watcher.store.records import (
    ArticleFetched,
    ArticleHealth,
    ArticleState,
    ArticleWanted,
    FeedFailed,
    FeedForUpdate,
    FeedPolled,
    Instance,
    InstanceStatus,
    MatchOutcome,
    OutboxDraft,
    OutboxMessage,
    PollCounts,
    PollCycle,
)

__all__ = ["ArticleFetched", "ArticleHealth", "ArticleState", "ArticleWanted", "FeedFailed",
           "FeedForUpdate", "FeedPolled", "Instance", "InstanceStatus", "MatchOutcome",
           "OutboxDraft", "OutboxMessage", "PollCounts", "PollCycle", "Store", "redacted_url"]


class Store(FeedsMixin, ItemsMixin, ArticlesMixin, OutboxMixin, OpsMixin, CriterionMixin):
    """Typed reads and writes over the database; opening it applies pending migrations."""
