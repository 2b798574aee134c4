"""Shared fixtures: real servers on 127.0.0.1, a temp state dir, a fixed clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

try:
    from tests.feedserver import feed_server  # noqa: F401  (fixture)
except ImportError:  # pragma: no cover - while the module is being written
    pass
from tests.smtpserver import smtp_server  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


@pytest.fixture
def state_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh state dir (SQLite file, outbox) and no SMTP unless a test sets one."""
    for name in ("WATCHER_SMTP_URL", "WATCHER_DATABASE_URL", "WATCHER_OUTBOX_DIR",
                 "WATCHER_CONFIG", "WATCHER_SMTP_PASSWORD", "CREDENTIALS_DIRECTORY",
                 "WATCHER_SMTP_USER", "WATCHER_SENDER", "WATCHER_LOG_LEVEL", "STATE_DIRECTORY",
                 "WATCHER_FETCH_TIMEOUT", "WATCHER_DB_BUSY_TIMEOUT",
                 "WATCHER_REPORT_URL", "WATCHER_NOTIFY_URLS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WATCHER_STATE_DIR", str(tmp_path / "state"))
    yield tmp_path / "state"


def at(text: str) -> datetime:
    """A UTC moment from 'YYYY-MM-DD' or 'YYYY-MM-DDTHH:MM'."""
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
