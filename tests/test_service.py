"""`watcher run` as ops run it: a real process, systemd notifications, signals, catch-up digest."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.feedserver import child_env
from tests.test_pipeline import E2E, serve_fixtures, write_config


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify.sock"))
    sock.settimeout(0.2)
    yield sock
    sock.close()


def start(
    config: Path, state: Path, notify: socket.socket, tmp_path: Path
) -> subprocess.Popen[str]:
    env = child_env(WATCHER_STATE_DIR=str(state), NOTIFY_SOCKET=str(tmp_path / "notify.sock"),
                    WATCHDOG_USEC="2000000", WATCHDOG_PID="")
    return subprocess.Popen([sys.executable, "-m", "watcher", "run", "--config", str(config)],
                            env=env, stderr=subprocess.PIPE, text=True)


def wait_for(predicate: Callable[[], bool], seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def notifications(sock: socket.socket, until: str, seconds: float = 15) -> list[str]:
    got: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not any(until in g for g in got):
        try:
            got.append(sock.recv(4096).decode())
        except TimeoutError:
            pass
    return got


def stop(proc: subprocess.Popen[str]) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    return code, proc.stderr.read() if proc.stderr else ""


def test_service_notifies_polls_sends_catch_up_digest_and_stops_on_sigterm(
        feed_server: Any, notify_socket: socket.socket, tmp_path: Path) -> None:
    serve_fixtures(feed_server)
    config, state = write_config(tmp_path, feed_server), tmp_path / "state"
    proc = start(config, state, notify_socket, tmp_path)
    try:
        got = notifications(notify_socket, "READY=1")
        assert any("READY=1" in g for g in got), got
        assert wait_for(lambda: len(list((state / "outbox").glob("*.eml"))) == 1)
        assert any("WATCHDOG=1" in g for g in notifications(notify_socket, "WATCHDOG=1", 5))
    finally:
        code, err = stop(proc)
    assert code == 0, err
    assert "watcher stopped" in err and len(feed_server.requests) >= 3
    # restarted in the same period: the digest already went out, none is sent again
    proc = start(config, state, notify_socket, tmp_path)
    try:
        notifications(notify_socket, "READY=1")
        time.sleep(1.5)
    finally:
        code, err = stop(proc)
    assert code == 0 and len(list((state / "outbox").glob("*.eml"))) == 1


def test_sighup_takes_a_valid_config_and_refuses_an_invalid_one(
        feed_server: Any, notify_socket: socket.socket, tmp_path: Path) -> None:
    serve_fixtures(feed_server)
    config, state = write_config(tmp_path, feed_server), tmp_path / "state"
    proc = start(config, state, notify_socket, tmp_path)
    try:
        notifications(notify_socket, "READY=1")
        good = config.read_text(encoding="utf-8")
        config.write_text(good.replace("weight: 1", "weight: [1"), encoding="utf-8")
        proc.send_signal(signal.SIGHUP)
        assert any("reload refused" in g for g in notifications(notify_socket, "reload refused"))
        config.write_text(good.replace("wire.rss", "wire2.rss"), encoding="utf-8")
        feed_server.add(
            "/wire2.rss", b"<rss version='2.0'><channel><title>t</title></channel></rss>"
        )
        proc.send_signal(signal.SIGHUP)
        assert wait_for(lambda: "/wire2.rss" in feed_server.paths(), 15)
    finally:
        code, err = stop(proc)
    assert code == 0
    assert "reload refused, keeping the running config" in err and "indicators.yaml:" in err
    assert "reloaded" in err


def db_rows(state: Path, sql: str) -> list[tuple[Any, ...]]:
    import sqlite3
    with sqlite3.connect(state / "watcher.db") as conn:
        rows = conn.execute(sql).fetchall()
    conn.close()
    return rows


def test_sigterm_during_a_slow_poll_keeps_what_was_stored_and_exits_0_within_10_s(
        feed_server: Any, notify_socket: socket.socket, tmp_path: Path) -> None:
    """A feed that never answers would hold the poll for the 60 s fetch deadline; SIGTERM
    must not wait for it: the stored feeds stay stored, the slow one stays due."""
    serve_fixtures(feed_server)
    feed_server.add("/outlet.rss", b"", delay=600)              # hung: answers at shutdown only
    config, state = write_config(tmp_path, feed_server), tmp_path / "state"
    proc = start(config, state, notify_socket, tmp_path)
    try:
        notifications(notify_socket, "READY=1")
        assert wait_for(lambda: feed_server.in_flight >= 1 and len(feed_server.requests) >= 2)
        assert wait_for(lambda: (state / "watcher.db").exists() and db_rows(
            state, "SELECT count(*) FROM feed_state WHERE last_success_at IS NOT NULL")[0][0] == 2)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=10)
        took = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
    err = proc.stderr.read() if proc.stderr else ""
    assert code == 0 and took < 10, (code, took, err)
    assert "stopping: 1 feed(s) left for the next run" in err and "watcher stopped" in err
    stored = dict(db_rows(state, "SELECT feed_id, count(*) FROM item GROUP BY feed_id"))
    assert set(stored) == {"wire", "regional"}
    assert db_rows(state, "SELECT last_attempt_at FROM feed_state WHERE feed_id = 'gazette'") \
        == [(None,)]                                                  # untouched: still due
    assert db_rows(state, "PRAGMA integrity_check") == [("ok",)]


def test_sighup_polls_added_feeds_and_stops_removed_ones(
        feed_server: Any, notify_socket: socket.socket, tmp_path: Path) -> None:
    serve_fixtures(feed_server)
    feed_server.add("/extra.rss", (E2E / "wire.rss").read_bytes())
    config, state = write_config(tmp_path, feed_server), tmp_path / "state"
    proc = start(config, state, notify_socket, tmp_path)
    try:
        notifications(notify_socket, "READY=1")
        assert wait_for(lambda: (state / "watcher.db").exists() and db_rows(
            state, "SELECT count(*) FROM feed_state WHERE last_success_at IS NOT NULL")[0][0] == 3)
        # make two feeds due again, as they would be an hour later …
        import sqlite3
        with sqlite3.connect(state / "watcher.db") as conn:
            conn.execute("UPDATE feed_state SET next_due_at = '2000-01-01 00:00:00.000000' "
                         "WHERE feed_id IN ('wire', 'gazette')")
        conn.close()
        # … then drop gazette and add extra: the reload's poll takes wire and extra, not gazette
        data = yaml.safe_load(config.read_text(encoding="utf-8"))
        data["feeds"] = [f for f in data["feeds"] if f["id"] != "gazette"] + [
            {"id": "extra", "url": feed_server.url("/extra.rss"), "every": "1h"}]
        config.write_text(yaml.safe_dump(data), encoding="utf-8")
        proc.send_signal(signal.SIGHUP)
        assert wait_for(lambda: "/extra.rss" in feed_server.paths()
                        and feed_server.paths().count("/wire.rss") == 2)
        time.sleep(0.5)
    finally:
        code, err = stop(proc)
    assert code == 0, err
    assert feed_server.paths().count("/outlet.rss") == 1
    assert db_rows(state, "SELECT feed_id, active FROM feed_state ORDER BY feed_id") == [
        ("extra", 1), ("gazette", 0), ("regional", 1), ("wire", 1)]
    assert "reloaded" in err


def test_notify_never_blocks_when_nobody_reads(notify_socket: socket.socket, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A full notify queue (systemd stuck, or a test not reading) must not hang the service:
    the heartbeat thread would block and SIGTERM would wait for it forever."""
    import threading

    from watcher.systemd import notify
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify.sock"))
    sent: list[bool] = []
    sender = threading.Thread(target=lambda: sent.extend(notify("WATCHDOG=1") for _ in range(40)),
                              daemon=True)                 # the queue holds about ten
    sender.start()
    sender.join(timeout=5)
    assert not sender.is_alive(), "notify blocked on a full queue"
    assert sent[0] and not all(sent)
