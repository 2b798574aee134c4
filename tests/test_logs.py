"""What ops read: one log line per event with feed id, counts and durations; never a secret;
`watcher status` says what runs next."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.conftest import at
from tests.feedserver import FeedServer, child_env
from tests.smtpserver import RawSmtpServer, SmtpServer
from tests.test_pipeline import context, serve_fixtures, write_config
from watcher.cli import main
from watcher.context import Context
from watcher.ingest.poll import poll
from watcher.service import prepare_digest

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


def run_cycle(config: Path, state: Path, smtp: SmtpServer | RawSmtpServer, *flags: str) -> str:
    """`watcher run --once` with both secrets in its environment; its stderr (the log)."""
    env = child_env(
        WATCHER_STATE_DIR=str(state),
        WATCHER_SMTP_PASSWORD=ENV_SECRET,
        WATCHER_SMTP_URL=f"smtp://alice:{quote(URL_SECRET, safe='')}@127.0.0.1:{smtp.port}",
    )
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
    assert any(
        line.startswith(
            "feed gazette failed (1 in a row): server error (503 status code); next try"
        )
        for line in lines
    )
    assert any(line.startswith("poll: polled 3 feed(s): 0 unchanged, 1 failed, 7 new item(s)")
               and line.endswith(" s") for line in lines)
    assert any(
        line.startswith("digest 2026-W11: FOLLOW-UP; 1 message(s) written") for line in lines
    )


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
    from watcher.report.periods import next_digest_at
    ctx: Context = context(write_config(tmp_path, feed_server))
    # Tuesday 10 Mar 2026 06:00 UTC → Monday 16 Mar 07:00 Almaty (UTC+5) = 02:00 UTC
    assert next_digest_at(ctx.config, at("2026-03-10T06:00")) == at("2026-03-16T02:00")
    # just before the slot: that same Monday
    assert next_digest_at(ctx.config, at("2026-03-16T01:59")) == at("2026-03-16T02:00")


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_json_logs_of_the_service_name_a_failing_job_and_its_exception(
        feed_server: FeedServer, tmp_path: Path) -> None:
    """A real `watcher run --log-format json` whose digest job cannot write its report."""
    serve_fixtures(feed_server)
    config = write_config(tmp_path, feed_server)
    state = tmp_path / "state"
    state.mkdir()
    (state / "reports").write_text("a file where the reports folder should be")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
    env.update(WATCHER_STATE_DIR=str(state), WATCHER_ALLOW_PRIVATE="127.0.0.1")
    log_path = tmp_path / "stderr.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "watcher", "--log-format", "json", "run",
                                 "--config", str(config)], env=env, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.5)        # the catch-up digest runs at start; give it its moment
            if b'"job": "digest"' in Path(log_path).read_bytes():
                break
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    lines = json_lines(Path(log_path).read_text(encoding="utf-8"))
    assert lines and all(r["ts"] and r["logger"] for r in lines)
    (failed,) = [r for r in lines if r.get("job") == "digest"]
    assert failed["level"] == "error" and failed["exc_type"] == "WatcherError"
    assert failed["msg"].startswith("digest failed: cannot write the full report ")


def test_json_logs_carry_the_traceback_of_a_job_that_fails_by_a_bug(
        feed_server: FeedServer, state_env: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    from watcher.logs import setup_logging
    from watcher.scheduler import Service
    serve_fixtures(feed_server)
    ctx = context(write_config(tmp_path, feed_server))

    def judge() -> None:        # a job with a bug in it
        return {"a": 1}["b"]    # type: ignore[return-value]

    setup_logging("INFO", "json")
    Service(ctx, ctx.settings.config_path)._guard(judge)()    # type: ignore[operator]
    logging.getLogger("watcher").info("%d feed(s) polled", 3, extra={"feed": "wire", "new": 4})
    bug, info = json_lines(capsys.readouterr().err)
    assert bug["level"] == "error" and bug["job"] == "judge"
    assert (bug["exc_type"], bug["exc_message"]) == ("KeyError", "'b'")
    assert bug["traceback"].startswith("Traceback (most recent call last):")
    assert 'return {"a": 1}["b"]' in bug["traceback"]
    assert (info["msg"], info["feed"], info["new"]) == ("3 feed(s) polled", "wire", 4)


def test_a_server_echoing_the_login_leaks_it_nowhere(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    """A 535 that quotes the AUTH lines: not in the log, `watcher status` or outbox.last_error."""
    serve_fixtures(feed_server)
    config = write_config(tmp_path, feed_server)
    state = tmp_path / "state"
    with RawSmtpServer(echo_auth=True) as server:
        log = run_cycle(config, state, server, "-v")
    assert "535 5.7.8 authentication failed: " in log and "AUTH PLAIN ***" in log
    assert "without TLS: the password of alice would be sent in clear" in log
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
    env["WATCHER_STATE_DIR"] = str(state)
    status = [subprocess.run([sys.executable, "-m", "watcher", "status", *flags, "--config",
                              str(config)], env=env, capture_output=True, text=True, timeout=120,
                             check=True).stdout for flags in ([], ["--json"])]
    assert "retrying: " in status[0] and "AUTH PLAIN ***" in status[0]
    with sqlite3.connect(state / "watcher.db") as db:
        (stored,) = db.execute("SELECT last_error FROM outbox").fetchone()
    db.close()
    assert "AUTH PLAIN ***" in stored
    for text in (log, *status, stored):
        for secret in (*forms(ENV_SECRET), *forms(URL_SECRET)):
            assert secret not in text, secret
