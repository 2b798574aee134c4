"""Alerts and digests to Apprise channels (WATCHER_NOTIFY_URLS), via a webhook on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import at
from tests.test_alerts import alert_config
from tests.test_pipeline import context, serve_fixtures
from watcher.deliver.outbox import deliver_pending
from watcher.service import run_once
from watcher.settings import load_settings


class Hook:
    """A webhook receiver: records JSON posts; `status` makes it fail on demand."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.status = 200
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(min(int(self.headers.get("Content-Length", 0)), 1 << 20))
                if hook.status == 200:
                    hook.posts.append({"path": self.path, **json.loads(body)})
                self.send_response(hook.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"json://127.0.0.1:{self.server.server_address[1]}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook() -> Iterator[Hook]:
    h = Hook()
    yield h
    h.close()


def test_alert_and_digest_reach_each_channel_once(feed_server: Any, hook: Hook, state_env: Path,
                                                  tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    serve_fixtures(feed_server)
    monkeypatch.setenv("WATCHER_NOTIFY_URLS", f"{hook.url('/team-a')}, {hook.url('/team-b')}")
    monkeypatch.setenv("WATCHER_REPORT_URL", "https://intranet.example.org/watcher")
    config = alert_config(tmp_path, feed_server)
    run_once(context(config))
    assert sorted((p["path"], p["title"].split(" · ")[0].split(":")[0]) for p in hook.posts) == [
        ("/team-a", "[watcher] 2026-W11"), ("/team-a", "[watcher] ALERT"),
        ("/team-b", "[watcher] 2026-W11"), ("/team-b", "[watcher] ALERT")]
    digest = next(p for p in hook.posts if p["title"].startswith("[watcher] 2026-W11"))
    alert = next(p for p in hook.posts if p["title"].startswith("[watcher] ALERT"))
    # short bodies: the verdict and the week (the digest), the happenings (the alert); the
    # title is not repeated and the type follows the news: follow-up is good news
    assert digest["message"].startswith("FOLLOW-UP: measurable follow-up seen 10 Feb 2026")
    assert "This week: 4 new, 2 counting" in digest["message"]
    assert "TIMELINE" not in digest["message"] and len(digest["message"]) < 1000
    assert digest["title"] not in digest["message"] and alert["title"] not in alert["message"]
    assert alert["message"].splitlines()[0].startswith(
        alert["title"].removeprefix("[watcher] ALERT: ").split("…")[0])
    assert "COUNTS for" in alert["message"] and len(alert["message"]) < 1500
    assert digest["type"] == alert["type"] == "success"
    # a link to the full report closes each post when the reports are served
    assert digest["message"].endswith("\nhttps://intranet.example.org/watcher/digest-2026-W11.html")
    assert alert["message"].splitlines()[-1].startswith("https://intranet.example.org/watcher")
    rows = context(config).store.messages()
    channels = {m.recipient for m in rows if m.recipient.startswith("apprise:json:")}
    assert len(channels) == 2 and not any("127.0.0.1" in c for c in channels)  # no URL stored
    run_once(context(config, lambda: at("2026-03-10T08:00")))
    assert len(hook.posts) == 4                                                  # no repeat


def test_a_failing_channel_is_retried_without_repeating_the_others(
        feed_server: Any, hook: Hook, smtp_server: Any, state_env: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    serve_fixtures(feed_server)
    monkeypatch.setenv("WATCHER_NOTIFY_URLS", hook.url("/team"))
    monkeypatch.setenv("WATCHER_SMTP_URL", smtp_server.url)
    config = alert_config(tmp_path, feed_server)
    hook.status = 503
    run_once(context(config))
    assert hook.posts == [] and len(smtp_server.messages) == 2       # mail went, the hook did not
    ctx = context(config, lambda: at("2026-03-10T07:00"))
    hook.status = 200
    assert deliver_pending(ctx) == (2, 0)
    assert deliver_pending(context(config, lambda: at("2026-03-11T07:00"))) == (0, 0)
    assert len(hook.posts) == 2 and len(smtp_server.messages) == 2


def test_notify_urls_are_split_on_commas_and_spaces_and_never_shown() -> None:
    s = load_settings({"WATCHER_NOTIFY_URLS": "json://h/a, tgram://bot:tok/chat  json://h/b"})
    assert s.notify_urls == ("json://h/a", "tgram://bot:tok/chat", "json://h/b")
    assert "tok" not in repr(s)
