"""Logs as journald reads them (issue 18): under systemd, stderr is a Unix stream socket whose
device and inode JOURNAL_STREAM names; then each line starts with its syslog priority and has
no timestamp. WATCHER_LOG_LEVEL is honoured."""

from __future__ import annotations

import logging
import os
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

from tests.feedserver import FeedServer, child_env
from tests.test_pipeline import serve_fixtures, write_config
from watcher.logs import JsonFormatter, log_formatter, to_journal

STAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


def run_once(config: Path, state: Path, stderr: int | socket.socket, **env: str) -> str:
    """`watcher run --once` with its stderr on `stderr`; its stdout."""
    result = subprocess.run([sys.executable, "-m", "watcher", "run", "--once", "--config",
                             str(config)], env=child_env(WATCHER_STATE_DIR=str(state), **env),
                            stdout=subprocess.PIPE, stderr=stderr, text=True, timeout=120,
                            check=True)
    return result.stdout


def journal_run(config: Path, state: Path, **env: str) -> list[str]:
    """The service's stderr through a Unix stream socket, as systemd connects it to the
    journal, with JOURNAL_STREAM naming that socket; the lines the journal would read."""
    theirs, ours = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    stat = os.fstat(theirs.fileno())
    received = bytearray()
    reader = threading.Thread(target=lambda: _drain(ours, received), daemon=True)
    reader.start()
    try:
        run_once(config, state, theirs, JOURNAL_STREAM=f"{stat.st_dev}:{stat.st_ino}", **env)
    finally:
        theirs.close()
        reader.join(timeout=30)
        ours.close()
    return received.decode("utf-8").splitlines()


def _drain(sock: socket.socket, into: bytearray) -> None:
    while chunk := sock.recv(65536):
        into.extend(chunk)


def test_under_journald_warnings_carry_priority_4_and_no_timestamp(
        feed_server: FeedServer, tmp_path: Path) -> None:
    serve_fixtures(feed_server)
    feed_server.add("/outlet.rss", b"down", status=503)
    config = write_config(tmp_path, feed_server)
    lines = journal_run(config, tmp_path / "state")
    assert lines and all(re.match(r"<[2-7]>", line) for line in lines), lines
    assert not any(STAMP.search(line) for line in lines)
    failed = [line for line in lines if "feed gazette failed" in line]
    assert len(failed) == 1 and failed[0].startswith("<4>WARNING feed gazette failed (1 in a row)")
    assert any(line.startswith("<6>INFO poll: polled 3 feed(s)") for line in lines)


def test_journal_stream_naming_another_file_changes_nothing(
        feed_server: FeedServer, tmp_path: Path) -> None:
    """A command started from the service's shell inherits JOURNAL_STREAM with its stderr
    elsewhere (here a file): its lines stay plain, with their timestamps."""
    serve_fixtures(feed_server)
    feed_server.add("/outlet.rss", b"down", status=503)
    config = write_config(tmp_path, feed_server)
    other = os.stat(config)
    log = tmp_path / "stderr.log"
    with log.open("wb") as stderr:
        run_once(config, tmp_path / "state", stderr.fileno(),
                 JOURNAL_STREAM=f"{other.st_dev}:{other.st_ino}")
    lines = log.read_text(encoding="utf-8").splitlines()
    warning = next(line for line in lines if "feed gazette failed" in line)
    assert STAMP.match(warning) and " WARNING feed gazette failed" in warning
    assert not any(line.startswith("<") for line in lines)


def test_log_level_error_silences_info_and_warnings(feed_server: FeedServer,
                                                    tmp_path: Path) -> None:
    serve_fixtures(feed_server)
    feed_server.add("/outlet.rss", b"down", status=503)
    config = write_config(tmp_path, feed_server)
    quiet = journal_run(config, tmp_path / "quiet", WATCHER_LOG_LEVEL="ERROR")
    chatty = journal_run(config, tmp_path / "chatty", WATCHER_LOG_LEVEL="info")
    assert quiet == []
    assert any(line.startswith("<6>INFO ") for line in chatty)
    assert any(line.startswith("<4>WARNING ") for line in chatty)


def test_json_lines_for_the_journal_keep_their_traceback_at_the_error_priority() -> None:
    """A JSON line is one line, so its prefix covers its traceback; text tracebacks get the
    prefix on every line, so none of them is read as info."""
    try:
        raise KeyError("b")
    except KeyError:
        record = logging.LogRecord("watcher", logging.ERROR, __file__, 1, "job %s failed",
                                   ("judge",), sys.exc_info())
    text = log_formatter("text", journal=True).format(record).splitlines()
    assert text[0] == "<3>ERROR job judge failed" and len(text) > 3
    assert all(line.startswith("<3>") for line in text)
    (line,) = log_formatter("json", journal=True).format(record).splitlines()
    assert line.startswith('<3>{"') and '"traceback": "Traceback' in line
    assert isinstance(log_formatter("json", journal=False), JsonFormatter)


def test_to_journal_needs_the_very_stream(tmp_path: Path) -> None:
    path = tmp_path / "f"
    with path.open("w") as f:
        stat = os.fstat(f.fileno())
        assert to_journal(f, {"JOURNAL_STREAM": f"{stat.st_dev}:{stat.st_ino}"})
        assert not to_journal(f, {"JOURNAL_STREAM": f"{stat.st_dev}:{stat.st_ino + 1}"})
        assert not to_journal(f, {"JOURNAL_STREAM": "garbage"}) and not to_journal(f, {})
