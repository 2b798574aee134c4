"""`watcher run` as ops run it: a real process, systemd notifications, signals, catch-up digest."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.test_pipeline import serve_fixtures, write_config


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify.sock"))
    sock.settimeout(0.2)
    yield sock
    sock.close()


def start(config: Path, state: Path, notify: socket.socket, tmp_path: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
    env.update(WATCHER_STATE_DIR=str(state), NOTIFY_SOCKET=str(tmp_path / "notify.sock"),
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
        except socket.timeout:
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
        feed_server.add("/wire2.rss", b"<rss version='2.0'><channel><title>t</title></channel></rss>")
        proc.send_signal(signal.SIGHUP)
        assert wait_for(lambda: "/wire2.rss" in feed_server.paths(), 15)
    finally:
        code, err = stop(proc)
    assert code == 0
    assert "reload refused, keeping the running config" in err and "indicators.yaml:" in err
    assert "reloaded" in err
