"""Log lines to stderr, as text or as one JSON object a line (--log-format)."""

from __future__ import annotations

import json
import logging
import sys
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


def setup_logging(level: str, fmt: str) -> None:
    """Every logger to stderr at `level`; the chatty libraries at WARNING."""
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else
                         logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "apscheduler", "alembic", "apprise"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
