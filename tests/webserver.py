"""A real `watcher web` on 127.0.0.1 over a real database, for the workbench's tests.

The database is the replay archive's (tests/fixtures/replay-archive, ingested with `watcher
replay --into-live`) with one hostile report added (a script, bidi overrides and a
`javascript:` link in a feed's title and link), and without the water deal's second source,
so that deal is a candidate awaiting review. Users: `analyst` (may decide) and `reader`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import ON_POSTGRES, ROOT, postgres_database

ARCHIVE = ROOT / "tests" / "fixtures" / "replay-archive"
SHIPPED = ROOT / "indicators.yaml"
SECOND_REPORT = Path("times-of-israel") / "2026-02-11.xml"
PASSWORD = "correct horse battery"
HOSTILE_TITLE = ("Kazakhstan and Israel sign desalination agreement "
                 "<script>document.title='pwned'</script> \u202egnp.exe\u202c "
                 "<img src=x onerror=\"document.title='pwned'\">")
HOSTILE = f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>regional-blog</title>
<link>https://regional-blog.example.org</link>
<item><title>{HOSTILE_TITLE.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')}</title>
<link>javascript:document.title='pwned'</link>
<guid isPermaLink="false">regional-blog-hostile</guid>
<pubDate>Mon, 02 Mar 2026 10:00:00 +0000</pubDate>
<description>&lt;a href="javascript:alert(1)"&gt;click&lt;/a&gt;</description></item>
</channel></rss>
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def watcher(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    """Run the real command line; its stdout (a failure shows its stderr)."""
    done = subprocess.run([sys.executable, "-m", "watcher", *args, "--config", str(SHIPPED)],
                          env=env, input=stdin, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@contextmanager
def watch_database(tmp: Path) -> Iterator[dict[str, str]]:
    """The environment of a state dir holding the archive's watch (SQLite, or PostgreSQL in
    the PostgreSQL run) and a users file with `analyst` and `reader`."""
    with (postgres_database() if ON_POSTGRES else _nothing()) as url:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WATCHER_", "CRED"))}
        env.update(WATCHER_STATE_DIR=str(tmp / "state"), WATCHER_WEB_USERS=str(tmp / "users"),
                   PYTHONPATH=str(ROOT))
        if url:
            env["WATCHER_DATABASE_URL"] = url
        archive = tmp / "archive"
        shutil.copytree(ARCHIVE, archive)
        (archive / SECOND_REPORT).unlink()
        (archive / "regional-blog" / "2026-03-02.xml").write_text(HOSTILE, encoding="utf-8")
        watcher(env, "replay", str(archive), "--as-of", "2026-03-31", "--into-live")
        watcher(env, "web", "user", "add", "analyst", "--password-stdin", stdin=PASSWORD)
        watcher(env, "web", "user", "add", "reader", "--read-only", "--password-stdin",
                stdin=PASSWORD)
        yield env


@contextmanager
def _nothing() -> Iterator[str]:
    yield ""


@contextmanager
def serve(env: dict[str, str], *flags: str, config: Path = SHIPPED) -> Iterator[str]:
    """`watcher web` on a free loopback port until the block ends; yields its base URL."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "watcher", "web", "--listen",
                             f"127.0.0.1:{port}", "--config", str(config), *flags],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (proc.stdout.read() if proc.stdout else b"").decode()
            try:
                urllib.request.urlopen(f"{base}/style.css", timeout=5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "watcher web did not start"
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
        if proc.stdout:
            proc.stdout.close()
