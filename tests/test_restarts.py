"""Real `watcher` processes started together, killed and restarted on one database.

Two `run --once` on a brand-new state dir race through the migrations and the first feed
sync; a service killed with SIGKILL leaves leases behind that its restart takes back at once.
"""

from __future__ import annotations

import itertools
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text

from tests.feedserver import FeedServer
from tests.test_pipeline import E2E, NOW, context, serve_fixtures, write_config
from watcher.scheduler import Service
from watcher.store import Instance

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


@pytest.mark.parametrize("attempt", range(3))
def test_two_run_once_on_a_brand_new_state_dir_both_succeed(
        feed_server: FeedServer, tmp_path: Path, database_url: str, attempt: int) -> None:
    """They both migrated and both inserted every feed: on SQLite one died with IntegrityError."""
    serve_fixtures(feed_server)
    config = long_config(tmp_path, feed_server, EXTRA_FEEDS)
    state = tmp_path / "state"
    env = environment(state, WATCHER_DATABASE_URL=database_url)
    logs = [tmp_path / f"run{n}.log" for n in range(2)]
    procs = []
    for log in logs:
        with log.open("wb") as out:         # a file, not a pipe: 1,000 failing feeds log a lot
            procs.append(subprocess.Popen([sys.executable, "-m", "watcher", "run", "--once",
                                           "--config", str(config)], env=env,
                                          stdout=out, stderr=subprocess.STDOUT))
    for proc, log in zip(procs, logs):
        code = proc.wait(timeout=300)
        output = log.read_text(encoding="utf-8")
        assert code == 0 and "Traceback" not in output, output[-3000:]
    engine = create_engine(database_url)
    with engine.connect() as db:
        feeds = db.execute(text("SELECT count(*) FROM feed_state")).scalar()
        items = tuple(
            db.execute(text("SELECT count(*), count(DISTINCT feed_id || key) FROM item")).one()
        )
        digests = db.execute(text("SELECT count(*) FROM outbox WHERE kind = 'digest'")).scalar()
        states = list(
            db.execute(text("SELECT state FROM criterion_transition ORDER BY id")).scalars()
        )
    engine.dispose()
    assert feeds == 3 + EXTRA_FEEDS
    assert items == (9, 9)                          # every item of the three feeds, once
    # One digest, once. An alert may stand beside it: a process that judged while the other
    # had stored only part of the first poll saw the criterion move (not a duplicate).
    assert digests == 1 and len(list((state / "outbox").glob("digest.*.eml"))) == 1
    assert len(list((state / "outbox").glob("alert.*.eml"))) <= 1
    assert all(a != b for a, b in itertools.pairwise(states))    # no state stored twice in a row


def test_a_watch_that_has_seen_nothing_records_no_state_and_its_first_reading_alerts_nothing(
        feed_server: FeedServer, tmp_path: Path, database_url: str) -> None:
    """Past the 12-month mark a first cycle whose feeds all failed stored HIGH-WATER, so the
    first poll that landed alerted 'HIGH-WATER → FOLLOW-UP': a change nobody saw happen (two
    run --once racing on a new state dir did the same, one judging while the other held every
    lease)."""
    config = write_config(tmp_path, feed_server)          # nothing served yet: every feed fails
    state = tmp_path / "state"
    env = environment(state, WATCHER_DATABASE_URL=database_url)

    def watcher(*args: str) -> None:
        done = subprocess.run([sys.executable, "-m", "watcher", *args, "--config", str(config)],
                              check=False, env=env, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-2000:]

    def transitions() -> list[str]:
        engine = create_engine(database_url)
        with engine.connect() as db:
            states = list(db.execute(text("SELECT state FROM criterion_transition")).scalars())
        engine.dispose()
        return states

    watcher("run", "--once")
    assert transitions() == []
    serve_fixtures(feed_server)
    for feed in ("wire", "regional", "gazette"):
        watcher("poll", "--feed", feed)
    watcher("run", "--once")
    assert "FOLLOW-UP" in transitions()
    assert not list((state / "outbox").glob("alert.*.eml"))


def test_a_service_restarted_after_kill_9_polls_its_own_leased_feeds_at_once(
        feed_server: FeedServer, tmp_path: Path, database_url: str) -> None:
    """The killed service held the lease of a feed it was fetching; its successor (same
    WATCHER_INSTANCE_ID) waited the whole lease (300 s), and renewed it with every heartbeat."""
    serve_fixtures(feed_server)
    feed_server.add("/slow.rss", (E2E / "wire.rss").read_bytes(), delay=60)
    config = write_config(tmp_path, feed_server)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["feeds"].append({"id": "slow", "url": feed_server.url("/slow.rss"), "every": "1h",
                          "tier": "outlet"})
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    env = environment(tmp_path / "state", WATCHER_INSTANCE_ID="kz-watch-1",
                      WATCHER_DATABASE_URL=database_url)
    first = service(config, env, tmp_path / "first.log")
    try:
        wait_for(lambda: len(feed_server.requests) == 3 and feed_server.in_flight == 1, 60)
    finally:
        first.kill()                                    # SIGKILL mid-fetch: the lease stays
        first.wait(timeout=30)
    feed_server.routes["/slow.rss"].delay = 0
    second = service(config, env, tmp_path / "second.log")
    try:
        wait_for(lambda: feed_server.statuses("/slow.rss") == [200], 30)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=60)
    log = (tmp_path / "second.log").read_text(encoding="utf-8")
    # the whole batch leased with it (4 feeds) comes back; the others are not due anyway
    assert re.search(r"took back \d feed lease\(s\) left by the previous run of kz-watch-1", log), (
        log
    )


def service(config: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`watcher run` in its own process, its log in a file."""
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "watcher", "run", "--config", str(config)],
                                env=env, stdout=out, stderr=subprocess.STDOUT)


def wait_for(condition: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not within {seconds} s"
        time.sleep(0.2)


def test_leases_are_left_alone_while_another_live_service_has_the_same_id(
        feed_server: FeedServer, state_env: Path, tmp_path: Path) -> None:
    """Two services started with one id on one host (a mistake): the second must not take
    the first one's leases from under it; once the first is gone, it does."""
    serve_fixtures(feed_server)
    ctx = context(write_config(tmp_path, feed_server))
    me = ctx.settings.instance_id
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        ctx.store.heartbeat(Instance(me, socket.gethostname(), other.pid, "test"), NOW,
                            NOW + timedelta(minutes=5))
        assert len(ctx.store.lease_due_feeds(NOW, me, NOW + timedelta(minutes=5), 10)) == 3
        assert Service(ctx, ctx.settings.config_path).take_back_leases() == 0
    finally:
        other.kill()
        other.wait(timeout=30)
    assert Service(ctx, ctx.settings.config_path).take_back_leases() == 3
