"""The one exception family watcher raises on purpose.

    WatcherError                 base: the CLI prints its message and exits 1
     ├── ConfigError             indicators.yaml or the environment is wrong (names file:line)
     ├── FeedError               one feed could not be fetched or read (recorded on the feed)
     ├── StoreError              the database refused a write or a migration
     │     └── DamagedDatabaseError      the SQLite file failed its integrity check: restore it
     └── DeliveryError           a message could not be handed to SMTP or the outbox dir
           └── PermanentDeliveryError   the server said no for good (5xx): do not retry
"""

from __future__ import annotations


class WatcherError(Exception):
    """Base error: expected failures that get a one-line message and a hint, not a traceback."""

    hint: str = ""

    def __str__(self) -> str:
        text = super().__str__()
        return f"{text} ({self.hint})" if self.hint else text


class ConfigError(WatcherError):
    """indicators.yaml or a setting is invalid; carries every problem found, each with its line."""

    hint = "fix the file and run `watcher check`"

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class FeedError(WatcherError):
    """A feed failed; `reason` is what the feed's state shows to analysts and ops."""

    def __init__(self, url: str, reason: str, status: int | None = None,
                 retry_after: float | None = None) -> None:
        self.url = url
        self.reason = reason
        self.status = status
        self.retry_after = retry_after
        super().__init__(f"{url}: {reason}")

    def __reduce__(self) -> tuple[type[FeedError], tuple[str, str, int | None, float | None]]:
        """Picklable with every field: feeds are parsed in worker processes."""
        return type(self), (self.url, self.reason, self.status, self.retry_after)


class StoreError(WatcherError):
    """The database could not be opened, migrated or written."""

    hint = "check WATCHER_DATABASE_URL, disk space and permissions"


class DamagedDatabaseError(StoreError):
    """The SQLite file is damaged (its integrity check failed, or SQLite found a malformed
    page): nothing more is written to it, so a backup can replace it without losing more."""

    hint = "stop watcher and restore the file from a backup: deploy/README.md, 'Back up and restore'"


class DeliveryError(WatcherError):
    """A message was not delivered this time; it stays in the outbox and is retried."""

    hint = "check WATCHER_SMTP_URL and the mail server"


class PermanentDeliveryError(DeliveryError):
    """The mail server rejected the message for good (5xx); it is not retried."""
