"""What every cycle needs, built once at start (and again on reload): the typed context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from watcher.config import Config
from watcher.judge.match import Matcher
from watcher.judge.publisher import load_suffix_list
from watcher.settings import Settings
from watcher.store import Store


def utcnow() -> datetime:
    """The real clock; tests and replays pass their own."""
    return datetime.now(UTC)


@dataclass
class Context:
    """What a cycle needs; built once at start and rebuilt on reload."""

    config: Config
    settings: Settings
    store: Store
    matcher: Matcher
    clock: Callable[[], datetime] = utcnow
    run_id: int | None = None        # this process's service_run row, when it is the service
    read_only: bool = False          # a command that only looks: nothing is written

    @classmethod
    def open(cls, config: Config, settings: Settings,
             clock: Callable[[], datetime] = utcnow, read_only: bool = False) -> Context:
        """The store opened (and migrated), its feed list synced with the config; read-only:
        an existing database at this schema, opened so that nothing can be written."""
        store = Store(settings.database_url, busy_timeout=settings.db_busy_timeout,
                      read_only=read_only)
        if not read_only:
            store.sync_feeds(config.feeds, clock())
            load_suffix_list()
        return cls(config, settings, store, Matcher(config), clock, read_only=read_only)
