"""Log lines to stderr, as text or as one JSON object a line (--log-format).

Under systemd, stderr is a stream into the journal and JOURNAL_STREAM names it
("device:inode"). Then every line starts with its syslog priority, `<4>` for a warning
(sd-daemon(3)), so `journalctl -p warning` finds the warnings, and carries no timestamp of
its own (the journal stamps each line). The variable alone is not trusted: a command run
from the service's shell inherits it with its stderr elsewhere, so the stream must be the
one it names, as systemd.exec(5) advises.

The JSON lines are our own formatter: it already keeps what a log shipper needs (the
`extra=` fields, the exception's type, message and whole traceback), in the field names
deploy/README.md documents; python-json-logger would add a dependency to say the same.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TextIO

# What every LogRecord has; anything else on a record came from `extra=` and is logged too.
_RECORD_FIELDS = (frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None)))
                  | {"message", "asctime"})


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, the `extra=` fields, and for a
    failure its exception (exc_type, exc_message, traceback) so a log shipper keeps it."""

    def format(self, record: logging.LogRecord) -> str:
        out = {k: v for k, v in vars(record).items() if k not in _RECORD_FIELDS}
        out.update(ts=datetime.fromtimestamp(record.created, UTC).isoformat(),
                   level=record.levelname.lower(), logger=record.name, msg=record.getMessage())
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            out.update(exc_type=type(exc).__name__, exc_message=str(exc),
                       traceback=self.formatException(record.exc_info))
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return json.dumps(out, ensure_ascii=False, default=str)


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever sys.stderr is at the time (tests and daemons swap it)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass


class JournalFormatter(logging.Formatter):
    """Another formatter's text, each line prefixed with the record's syslog priority: the
    journal reads the prefix of every line, so a traceback's lines keep the error's."""

    def __init__(self, inner: logging.Formatter) -> None:
        super().__init__()
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        prefix = f"<{syslog_priority(record.levelno)}>"
        return "\n".join(prefix + line for line in self.inner.format(record).split("\n"))


def syslog_priority(levelno: int) -> int:
    """logging's level → syslog's priority: 3 error, 4 warning, 6 info, 7 debug (2 critical)."""
    if levelno >= logging.CRITICAL:
        return 2
    if levelno >= logging.ERROR:
        return 3
    if levelno >= logging.WARNING:
        return 4
    return 6 if levelno >= logging.INFO else 7


def to_journal(stream: TextIO, env: Mapping[str, str]) -> bool:
    """Whether `stream` is the journal stream JOURNAL_STREAM names (its device and inode)."""
    try:
        device, inode = (int(part) for part in env.get("JOURNAL_STREAM", "").split(":"))
        stat = os.fstat(stream.fileno())
    except (ValueError, OSError, AttributeError):   # unset, malformed, or no file behind it
        return False
    return (stat.st_dev, stat.st_ino) == (device, inode)


def log_formatter(fmt: str, journal: bool) -> logging.Formatter:
    """Text or JSON lines; for the journal, priority prefixes and no timestamp of our own."""
    if fmt == "json":
        return JournalFormatter(JsonFormatter()) if journal else JsonFormatter()
    if journal:
        return JournalFormatter(logging.Formatter("%(levelname)s %(message)s"))
    return logging.Formatter("%(asctime)s %(levelname)s %(message)s")


def setup_logging(level: str, fmt: str, env: Mapping[str, str] | None = None) -> None:
    """Every logger to stderr at `level`; the chatty libraries at WARNING."""
    handler = _StderrHandler()
    handler.setFormatter(log_formatter(fmt, to_journal(sys.stderr,
                                                       os.environ if env is None else env)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "apscheduler", "alembic", "apprise"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
