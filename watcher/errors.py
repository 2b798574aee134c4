"""The one exception family watcher raises on purpose.

    WatcherError                 base: the CLI prints its message and exits 1
     ├── ConfigError             indicators.yaml or the environment is wrong (names file:line)
     ├── FeedError               one feed could not be fetched or read (recorded on the feed)
     ├── StoreError              the database refused a write or a migration
     │     ├── DamagedDatabaseError      the SQLite file failed its integrity check: restore it
     │     └── NoDatabaseError           a command that only reads found no database
     └── DeliveryError           a message could not be handed to SMTP or the outbox dir
           └── PermanentDeliveryError   the server said no for good (5xx): do not retry
"""

from __future__ import annotations

import re

# scheme://user:password@ or scheme://token@ anywhere in a text, up to the authority's last @
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)([^/?#\s]*)@")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")     # PostgreSQL refuses NUL; no codec writes U+D800


def redact(text: object) -> str:
    """Credentials in every URL of `text` shown as user:***@ (a bare user, often a token, as
    ***@): what logs, the database, reports and messages may hold of a feed URL (issue 16).
    Anything else is shown as str() shows it: this runs in error paths, bugs included."""
    def hide(m: re.Match[str]) -> str:
        user, colon, _password = m.group(2).partition(":")
        return m.group(1) + (f"{user}:***@" if colon else "***@")
    return _USERINFO.sub(hide, str(text))


def storable(text: str) -> str:
    """Text any database takes: NUL and lone surrogates (a hostile feed's, quoted in an
    error) become U+FFFD."""
    return _UNSTORABLE.sub("\ufffd", text)


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
        self.problems = [redact(p) for p in problems]   # a feed URL may hold a password
        super().__init__("\n".join(self.problems))


class FeedError(WatcherError):
    """A feed failed; `reason` is what the feed's state shows to analysts and ops. Neither
    it nor `url` holds the feed URL's credentials: they are stored, logged and mailed."""

    def __init__(self, url: str, reason: str, status: int | None = None,
                 retry_after: float | None = None) -> None:
        self.url = storable(redact(url))
        self.reason = storable(redact(reason))
        self.status = status
        self.retry_after = retry_after
        super().__init__(f"{self.url}: {self.reason}")

    def __reduce__(self) -> tuple[type[FeedError], tuple[str, str, int | None, float | None]]:
        """Picklable with every field: feeds are parsed in worker processes."""
        return type(self), (self.url, self.reason, self.status, self.retry_after)


class StoreError(WatcherError):
    """The database could not be opened, migrated or written."""

    hint = "check WATCHER_DATABASE_URL, disk space and permissions"


class DamagedDatabaseError(StoreError):
    """The SQLite file is damaged (its integrity check failed, or SQLite found a malformed
    page): nothing more is written to it, so a backup can replace it without losing more."""

    hint = ("stop watcher and restore the file from a backup: deploy/README.md, "
            "'Back up and restore'")


class NoDatabaseError(StoreError):
    """A command that only reads (status, explain, digest --preview) found no database: it
    creates none (issue 18)."""

    hint = ("`watcher run` creates it; if it lives elsewhere, set WATCHER_STATE_DIR or "
            "WATCHER_DATABASE_URL")


class DeliveryError(WatcherError):
    """A message was not delivered this time; it stays in the outbox and is retried."""

    hint = "check WATCHER_SMTP_URL and the mail server"


class PermanentDeliveryError(DeliveryError):
    """The mail server rejected the message for good (5xx); it is not retried."""


def damage_in(exc: BaseException) -> DamagedDatabaseError | None:
    """The DamagedDatabaseError behind an error that wrapped it (e.g. "poll stopped at feed
    X: ..."), so the service stops and the CLI prints the restore hint, not the wrapper's."""
    seen: BaseException | None = exc
    for _ in range(10):             # a cause chain is short; never loop on a cycle
        if seen is None or isinstance(seen, DamagedDatabaseError):
            return seen
        seen = seen.__cause__
    return None
