"""Delivery you can rely on: one digest per recipient and period through kills and outages.

The kill tests run the real CLI in a subprocess and SIGKILL it while the SMTP server on
127.0.0.1 holds a reply back, so the process dies at a known point of the SMTP dialogue.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import at
from tests.feedserver import child_env
from tests.test_pipeline import context, received, serve_fixtures, write_config
from watcher.cli import main
from watcher.context import Context
from watcher.deliver.outbox import MAX_ATTEMPTS, deliver_pending
from watcher.ingest.poll import poll
from watcher.service import prepare_digest

WAIT = 30.0


def run_once(config: Path, state: Path, smtp_url: str) -> subprocess.Popen[str]:
    env = child_env(WATCHER_STATE_DIR=str(state), WATCHER_SMTP_URL=smtp_url)
    return subprocess.Popen([sys.executable, "-m", "watcher", "run", "--once", "--config",
                             str(config)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def outbox(state: Path) -> list[tuple[str, str, str, int]]:
    with sqlite3.connect(state / "watcher.db") as db:
        return list(db.execute("SELECT kind, status, message_id, attempts FROM outbox"))


def kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=WAIT)
    assert proc.returncode == -signal.SIGKILL


def finish(proc: subprocess.Popen[str]) -> str:
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return out


def test_killed_after_the_outbox_row_and_before_the_send_the_digest_arrives_once(
        feed_server: Any, smtp_server: Any, state_env: Path, tmp_path: Path) -> None:
    serve_fixtures(feed_server)
    config = write_config(tmp_path, feed_server)
    smtp_server.hold_rcpt = True                  # connected, but nothing accepted yet
    first = run_once(config, state_env, smtp_server.url)
    try:
        assert smtp_server.rcpt_seen.wait(WAIT), "the digest was never sent"
        (row,) = outbox(state_env)
        assert row[:2] == ("digest", "pending")   # written, not sent
        kill(first)
    finally:
        if first.poll() is None:
            first.kill()
    smtp_server.hold_rcpt = False
    assert smtp_server.messages == []
    out = finish(run_once(config, state_env, smtp_server.url))
    assert "delivered 1 message(s)" in out
    (msg,) = received(smtp_server)
    assert msg["Message-ID"] == row[2]
    assert outbox(state_env) == [("digest", "sent", row[2], 1)]
    finish(run_once(config, state_env, smtp_server.url))
    assert len(smtp_server.messages) == 1


def test_killed_after_the_server_accepted_it_is_resent_once_with_the_same_message_id(
        feed_server: Any, smtp_server: Any, state_env: Path, tmp_path: Path) -> None:
    """The documented at-least-once window: the server has the message, we never heard 250."""
    serve_fixtures(feed_server)
    config = write_config(tmp_path, feed_server)
    smtp_server.hold_data = True
    first = run_once(config, state_env, smtp_server.url)
    try:
        assert smtp_server.data_seen.wait(WAIT)
        kill(first)
    finally:
        if first.poll() is None:
            first.kill()
    smtp_server.hold_data = False
    finish(run_once(config, state_env, smtp_server.url))
    a, b = received(smtp_server)
    assert a["Message-ID"] == b["Message-ID"]           # a duplicate any client can detect
    assert a.as_bytes() == b.as_bytes()                 # and byte for byte the same message
    finish(run_once(config, state_env, smtp_server.url))
    assert len(smtp_server.messages) == 2


def polled(feed_server: Any, smtp_server: Any, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Context]:
    """Fixture feeds polled into a fresh database, mail going to the test SMTP server."""
    serve_fixtures(feed_server)
    monkeypatch.setenv("WATCHER_SMTP_URL", smtp_server.url)
    config = write_config(tmp_path, feed_server)
    ctx = context(config)
    asyncio.run(poll(ctx))
    return config, ctx


def test_digest_waits_out_an_outage_of_several_attempts_and_arrives_once(
        feed_server: Any, smtp_server: Any, state_env: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    config, ctx = polled(feed_server, smtp_server, tmp_path, monkeypatch)
    smtp_server.stop()
    assert prepare_digest(ctx) == 1
    minutes = [0, 5, 15, 35]                      # each try once the backoff has passed
    for n, m in enumerate(minutes, 1):
        assert deliver_pending(ctx, at(f"2026-03-10T06:{m:02d}")) == (0, 1)
        assert deliver_pending(ctx, at(f"2026-03-10T06:{m:02d}")) == (0, 0)   # not hammered
        (row,) = ctx.store.messages("pending")
        assert row.attempts == n and "Connection refused" in (row.last_error or "")
    capsys.readouterr()
    assert main(["status", "--config", str(config)]) == 0
    assert "4 failed attempt(s), retrying" in capsys.readouterr().out
    smtp_server.start()
    assert deliver_pending(ctx, at("2026-03-10T08:00")) == (1, 0)
    assert deliver_pending(ctx, at("2026-03-11T08:00")) == (0, 0)
    (msg,) = received(smtp_server)
    assert msg["Message-ID"] == row.message_id


def test_a_permanent_refusal_is_not_retried_and_shows_in_status_and_the_next_digest(
        feed_server: Any, smtp_server: Any, state_env: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    config, ctx = polled(feed_server, smtp_server, tmp_path, monkeypatch)
    smtp_server.reply = "550 5.1.1 mailbox unavailable"
    prepare_digest(ctx)
    assert deliver_pending(ctx) == (0, 1)
    assert deliver_pending(ctx, at("2026-03-12T06:00")) == (0, 0)      # never tried again
    capsys.readouterr()
    assert main(["status", "--config", str(config)]) == 0
    status = capsys.readouterr().out
    assert "1 failed" in status
    assert ("! digest 2026-W11 to analyst@example.org not delivered, given up after 1 attempt(s): "
            "550 5.1.1 mailbox unavailable") in status
    smtp_server.reply = None
    later = context(config, lambda: at("2026-03-16T06:00"))
    prepare_digest(later)
    assert deliver_pending(later) == (1, 0)
    (msg,) = received(smtp_server)
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert ("undelivered digest 2026-W11 to analyst@example.org: 550 5.1.1 mailbox unavailable"
            in text)


def test_a_transient_failure_is_given_up_after_the_attempt_limit(
        feed_server: Any, smtp_server: Any, state_env: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    serve_fixtures(feed_server)
    monkeypatch.setenv("WATCHER_SMTP_URL", smtp_server.url)
    ctx = context(write_config(tmp_path, feed_server))
    smtp_server.rcpt_reply = "451 4.3.0 try again later"
    prepare_digest(ctx)
    for day in range(1, MAX_ATTEMPTS + 3):
        deliver_pending(ctx, at(f"2026-03-{10 + day:02d}T06:00"))
    (row,) = ctx.store.messages()
    assert row.status == "failed" and row.attempts == MAX_ATTEMPTS
    assert "451" in (row.last_error or "")
