"""Real `watcher` processes started together, killed and restarted on one SQLite file.

Two `run --once` on a brand-new state dir race through the migrations and the first feed
sync; a service killed with SIGKILL leaves leases behind that its restart takes back at once.
"""

from __future__ import annotations

import itertools
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.feedserver import FeedServer
from tests.test_pipeline import serve_fixtures, write_config

EXTRA_FEEDS = 1000     # a feed list long enough that one process's first sync overlaps the other's


def environment(state: Path, **more: str) -> dict[str, str]:
    """The environment of a watcher process: its own state dir, feeds on 127.0.0.1 allowed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
    env.update(WATCHER_STATE_DIR=str(state), WATCHER_ALLOW_PRIVATE="127.0.0.1", **more)
    return env


def long_config(tmp: Path, server: FeedServer, extra: int) -> Path:
    """The three fixture feeds plus `extra` feeds the server answers 404."""
    path = write_config(tmp, server)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["feeds"] += [{"id": f"gone{i}", "url": server.url(f"/gone/{i}.rss"), "every": "1h",
                       "tier": "outlet"} for i in range(extra)]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.sqlite_only("a brand-new SQLite state dir (PostgreSQL serialises with its own locks)")
@pytest.mark.parametrize("attempt", range(3))
def test_two_run_once_on_a_brand_new_state_dir_both_succeed(
        feed_server: FeedServer, tmp_path: Path, attempt: int) -> None:
    """They both migrated and both inserted every feed: one died with IntegrityError."""
    serve_fixtures(feed_server)
    config = long_config(tmp_path, feed_server, EXTRA_FEEDS)
    state = tmp_path / "state"
    env = environment(state)
    logs = [tmp_path / f"run{n}.log" for n in range(2)]
    procs = []
    for log in logs:
        with log.open("wb") as out:         # a file, not a pipe: 1,000 failing feeds log a lot
            procs.append(subprocess.Popen([sys.executable, "-m", "watcher", "run", "--once",
                                           "--config", str(config)], env=env,
                                          stdout=out, stderr=subprocess.STDOUT))
    for proc, log in zip(procs, logs):
        code = proc.wait(timeout=300)
        text = log.read_text(encoding="utf-8")
        assert code == 0 and "Traceback" not in text, text[-3000:]
    with sqlite3.connect(state / "watcher.db") as db:
        feeds = db.execute("SELECT count(*) FROM feed_state").fetchone()[0]
        items = db.execute("SELECT count(*), count(DISTINCT feed_id || key) FROM item").fetchone()
        digests = db.execute("SELECT count(*) FROM outbox WHERE kind = 'digest'").fetchone()[0]
        states = [r[0] for r in db.execute("SELECT state FROM criterion_transition ORDER BY id")]
    db.close()
    assert feeds == 3 + EXTRA_FEEDS
    assert items == (9, 9)                          # every item of the three feeds, once
    assert digests == 1 and len(list((state / "outbox").glob("*.eml"))) == 1
    assert all(a != b for a, b in itertools.pairwise(states))    # no state stored twice in a row
