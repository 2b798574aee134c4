"""What ops read: one log line per event with feed id, counts and durations; never a secret;
`watcher status` says what runs next."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.conftest import at
from tests.feedserver import FeedServer, child_env
from tests.smtpserver import SmtpServer
from tests.test_pipeline import context, serve_fixtures, write_config
from watcher.cli import main
from watcher.service import Context, poll, prepare_digest

URL_SECRET = "url-pw:Q7/z@x"          # characters that need quoting in a URL
ENV_SECRET = "env-pw-K9f3!"
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def forms(secret: str, user: str = "alice") -> list[str]:
    """A secret as it could leak: plain, URL-quoted, and inside an SMTP AUTH PLAIN/LOGIN."""
    return [secret, quote(secret, safe=""),
            base64.b64encode(f"\0{user}\0{secret}".encode()).decode(),
            base64.b64encode(secret.encode()).decode()]


@pytest.fixture
def auth_smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(users={"alice": ENV_SECRET})
    server.start()
    yield server
    server.stop()


def run_cycle(config: Path, state: Path, smtp: SmtpServer, *flags: str) -> str:
    """`watcher run --once` with both secrets in its environment; its stderr (the log)."""
    env = child_env(WATCHER_STATE_DIR=str(state), WATCHER_SMTP_PASSWORD=ENV_SECRET,
                    WATCHER_SMTP_URL=f"smtp://alice:{quote(URL_SECRET, safe='')}@127.0.0.1:{smtp.port}")
    result = subprocess.run([sys.executable, "-m", "watcher", "run", "--once", "--config",
                             str(config), *flags], env=env, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout + result.stderr


def test_no_secret_reaches_the_log_sent_or_refused_text_or_json(
        feed_server: FeedServer, auth_smtp: SmtpServer, tmp_path: Path) -> None:
    serve_fixtures(feed_server)
    config = write_config(tmp_path, feed_server)
    sent = run_cycle(config, tmp_path / "a", auth_smtp, "-v", "--log-format", "json")
    assert [m.login for m in auth_smtp.messages] == ["alice"]        # the env password worked
    auth_smtp.users = {"alice": "something else"}                      # now it is refused
    refused = run_cycle(config, tmp_path / "b", auth_smtp, "-v")
    assert "not sent" in refused and "will retry" in refused
    for log in (sent, refused):
        for secret in (*forms(ENV_SECRET), *forms(URL_SECRET)):
            assert secret not in log, secret
    for line in sent.strip().splitlines():
        if line.startswith("{"):
            assert {"ts", "level", "logger", "msg"} <= json.loads(line).keys()


def test_one_line_per_feed_event_with_id_counts_and_durations(
        feed_server: FeedServer, state_env: Path, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    serve_fixtures(feed_server)
    feed_server.add("/outlet.rss", b"down", status=503)
    ctx = context(write_config(tmp_path, feed_server))
    with caplog.at_level(logging.INFO, logger="watcher"):
        asyncio.run(poll(ctx))
        prepare_digest(ctx)
    lines = [r.getMessage() for r in caplog.records if r.name == "watcher"]
    per_feed = Counter(line.split()[1].rstrip(":") for line in lines if line.startswith("feed "))
    assert per_feed == {"wire": 1, "regional": 1, "gazette": 1}       # one line each, no more
    wire = next(line for line in lines if line.startswith("feed wire:"))
    assert wire.startswith("feed wire: 4 item(s), 4 new, 3 matched; fetched in ")
    assert wire.endswith(" s") and "stored in" in wire
    assert any(line.startswith("feed gazette failed (1 in a row): server error (503 status code); next try")
               for line in lines)
    assert any(line.startswith("poll: polled 3 feed(s): 0 unchanged, 1 failed, 7 new item(s)")
               and line.endswith(" s") for line in lines)
    assert any(line.startswith("digest 2026-W11: FOLLOW-UP; 1 message(s) written") for line in lines)


def test_status_shows_the_next_poll_and_digest(
        feed_server: FeedServer, state_env: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    serve_fixtures(feed_server)
    config = write_config(tmp_path, feed_server)
    ctx = context(config)
    asyncio.run(poll(ctx))
    assert main(["status", "--json", "--config", str(config)]) == 0
    schedule = json.loads(capsys.readouterr().out)["schedule"]
    assert schedule["period_digest"] == "not written yet"
    assert main(["digest", "--config", str(config)]) == 0
    assert main(["status", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "this period (" in out and "): pending" in out
    assert "next digest: Mon " in out and " 07:00 Asia/Almaty" in out
    feed_lines = [line for line in out.splitlines() if line.startswith("  wire ")]
    assert feed_lines and " next 20" in feed_lines[0]


def test_next_digest_is_the_coming_monday_slot(state_env: Path, feed_server: FeedServer,
                                               tmp_path: Path) -> None:
    from watcher.service import next_digest_at
    ctx: Context = context(write_config(tmp_path, feed_server))
    # Tuesday 10 Mar 2026 06:00 UTC → Monday 16 Mar 07:00 Almaty (UTC+5) = 02:00 UTC
    assert next_digest_at(ctx.config, at("2026-03-10T06:00")) == at("2026-03-16T02:00")
    # just before the slot: that same Monday
    assert next_digest_at(ctx.config, at("2026-03-16T01:59")) == at("2026-03-16T02:00")
