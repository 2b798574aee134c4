"""A feed URL's credentials (http://user:password@host/…) stay secret (issue 16).

They reach the feed's own server as Basic auth and nothing else: not the database file (the
feed's state, the outbox rows), not the digest in the outbox and reports/, not the log, not
`watcher status`. Everywhere a feed's URL is shown it reads user:***@host. The cycle is a real
`watcher run --once` against a server on 127.0.0.1, writing a real SQLite file and outbox.
"""

from __future__ import annotations

import base64
import email
import subprocess
import sys
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
import yaml

from tests.feedserver import FeedServer, child_env
from tests.test_pipeline import serve_fixtures, write_config

PASSWORD = "Pa55-w0rd-9f3k"
LEAKS = [PASSWORD, base64.b64encode(f"reader:{PASSWORD}".encode()).decode()]


def run(command: list[str], config: Path, state: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "watcher", *command, "--config", str(config)],
                          env=child_env(WATCHER_STATE_DIR=str(state)), capture_output=True,
                          text=True, timeout=120, check=False)


def every_file(state: Path) -> dict[Path, bytes]:
    """The database (with its WAL), the outbox and the reports, as bytes."""
    return {p: p.read_bytes() for p in state.rglob("*") if p.is_file()}


def digest_texts(state: Path) -> list[str]:
    """The digest emails' text and HTML parts, decoded (a base64 part would hide a grep)."""
    texts = []
    for path in (state / "outbox").glob("*.eml"):
        msg = email.message_from_bytes(
            path.read_bytes(), _class=EmailMessage, policy=policy.default
        )
        texts += [
            part.get_content() for part in msg.walk() if part.get_content_maintype() == "text"
        ]
    return texts


@pytest.mark.sqlite_only("reads the SQLite file itself")
def test_a_feed_urls_password_reaches_its_server_and_nowhere_else(
        feed_server: FeedServer, tmp_path: Path) -> None:
    serve_fixtures(feed_server)
    feed_server.add("/private.rss", b"down for maintenance", status=503, content_type="text/plain")
    config = write_config(tmp_path, feed_server)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    url = feed_server.url("/private.rss").replace("http://", f"http://reader:{PASSWORD}@")
    data["feeds"].append({"id": "private", "url": url, "every": "30m", "tier": "outlet"})
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    state = tmp_path / "state"

    cycle = run(["run", "--once", "-v"], config, state)      # the feed fails: its URL is shown
    status = run(["status"], config, state)
    assert cycle.returncode == 0 and status.returncode == 0, cycle.stderr + status.stderr

    sent = [seen.headers.get("Authorization") for seen in feed_server.requests
            if seen.path == "/private.rss"]
    assert sent == ["Basic " + LEAKS[1]]                     # the feed's own server got them
    files = every_file(state)
    assert any(p.suffix == ".eml" for p in files) and any(p.suffix == ".html" for p in files)
    for leak in LEAKS:
        for path, content in files.items():
            assert leak.encode() not in content, f"{leak} in {path}"
        for text in (*digest_texts(state), cycle.stderr, cycle.stdout, status.stdout):
            assert leak not in text
    shown = f"reader:***@127.0.0.1:{feed_server.port}/private.rss"
    assert any(shown in text for text in digest_texts(state))   # the text health section says which


def test_the_stored_url_shows_user_stars_and_an_old_plain_one_is_rewritten(
        state_env: Path, database_url: str) -> None:
    from sqlalchemy import text

    from tests.conftest import at
    from watcher.config import Feed
    from watcher.store import Store
    store = Store(database_url)
    feed = Feed(id="f", url=f"https://reader:{PASSWORD}@feeds.example.org/f.rss")
    store.sync_feeds([feed], at("2026-03-10"))
    assert [f.url for f in store.feed_health()] == ["https://reader:***@feeds.example.org/f.rss"]
    with store.engine.begin() as conn:          # as a version before issue 16 stored it
        conn.execute(text("UPDATE feed_state SET url = :u"), {"u": feed.url})
    store.sync_feeds([feed], at("2026-03-11"))  # every start: the plain URL is gone
    assert [f.url for f in store.feed_health()] == ["https://reader:***@feeds.example.org/f.rss"]


@pytest.mark.parametrize(("text", "shown"), [
    ("http://reader:pw@h.example/f", "http://reader:***@h.example/f"),
    ("https://TOKEN@h.example/f", "https://***@h.example/f"),            # a token as the user
    ("http://u:p@ss@h.example/f?next=a@b", "http://u:***@h.example/f?next=a@b"),
    ("timed out: see http://a:b@x/ and https://c:d@y/", "timed out: see http://a:***@x/ and https://c:***@y/"),
    ("http://h.example/a@b", "http://h.example/a@b"),
])
def test_feed_errors_show_credentials_as_user_stars(text: str, shown: str) -> None:
    from watcher.errors import FeedError
    error = FeedError(text, f"failed at {text}")
    assert (error.url, error.reason, str(error)) == (shown, f"failed at {shown}",
                                                     f"{shown}: failed at {shown}")
