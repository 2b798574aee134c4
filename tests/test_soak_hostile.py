"""The hostile soak (issue 16): one hostile feed among 50 healthy ones, kill -9 every few cycles.

Each cycle the hostile feed does something else, drawn from a seeded RNG out of every
hostile behaviour watcher met: dates past year 9999, headers dripped a byte at a time, a
redirect to a private address or to 169.254.169.254, a gzip bomb, an endless body, a hung
server, 5,000 items, a billion laughs, feedparser's crashers, references to no character,
lone surrogates and NULs, invalid UTF-8, deep nesting, garbage. The 50 healthy feeds change
before every cycle. Each cycle is a fresh process running `run_once` (tests/soak_worker.py,
the fork server of tests/test_soak.py, whose checks are reused), SIGKILLed after a random
delay about one cycle in three.

After every cycle the database passes `integrity_check`, holds every item once with its
matches and no item a completed cycle stored is lost, and every digest is written once per
recipient; after a completed cycle, every healthy feed's current items are stored, every
digest so far is delivered once, and the hostile feed is recorded: read, or failing with an
expected reason (never "unexpected error"), or backing off. The private server on 127.0.0.2
is never asked for anything.

The normal suite runs 8 cycles (SOAK_CYCLES); `make soak` runs 200 and prints the figures.
Every behaviour also runs in the normal suite on its own: tests/test_faults.py,
tests/test_boundary.py, tests/test_fetch_guards.py.
"""

from __future__ import annotations

import gzip
import os
import random
import sqlite3
import statistics
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from tests.feedserver import FeedServer
from tests.hostile_docs import FIXED
from tests.test_parse import many_items
from tests.test_soak import (
    SHIFT,
    STEP,
    T0,
    WINDOW,
    Served,
    Soak,
    Worker,
    feed_body,
    start_worker,
)

SEED = 20260310
CYCLES = int(os.environ.get("SOAK_CYCLES", "8"))
KILL_SHARE = 1 / 3
HEALTHY = tuple(f"h{n:02d}" for n in range(50))
FETCH_TIMEOUT = "2"
BOMB = gzip.compress(b"\0" * (20 * 1024 * 1024), compresslevel=9)   # 20 MiB of zeros in ~20 KB
Behaviour = Callable[[FeedServer, FeedServer], None]


def healthy_body(fid: str, version: int) -> bytes:
    """Version `version` of a healthy feed: WINDOW items, SHIFT new ones, each dated when it
    appeared; one in 16 matches an indicator, as news mostly does not (every item alike and
    matching would make one event of thousands: see the report of issue 16 on clustering)."""
    first = version * SHIFT
    items = []
    for n in range(first, first + WINDOW):
        when = T0 + (n // SHIFT) * STEP
        title = (f"Uzbekistan joins the Abraham Accords, {fid} report {n}" if n % 16 == 0 else
                 f"{fid} market note {n}: grain {n % 7}, cotton {n % 11}, oil {n % 13}")
        items.append(f"<item><title>{title}</title><link>https://{fid}.example.com/{n}</link>"
                     f'<guid isPermaLink="false">{fid}-{n}</guid>'
                     f"<pubDate>{when:%a, %d %b %Y %H:%M:%S} GMT</pubDate></item>")
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>{fid}</title>{''.join(items)}</channel></rss>").encode()


def serve_fixed(name: str) -> Behaviour:
    body, content_type = FIXED[name]
    return lambda server, _private: server.add("/hostile", body, content_type=content_type)


BEHAVIOURS: dict[str, Behaviour] = {
    **{name: serve_fixed(name) for name in FIXED},
    "slow-headers": lambda s, _p: s.add("/hostile", feed_body("slow", 0), drip=0.3),
    "hung": lambda s, _p: s.add("/hostile", feed_body("hung", 0), delay=60),
    "private-redirect": lambda s, p: s.add("/hostile", redirect_to=p.url("/admin/secret-feed")),
    "metadata-redirect": lambda s, _p: s.add(
        "/hostile", redirect_to="http://169.254.169.254/latest/meta-data/"),
    "gzip-bomb": lambda s, _p: s.add("/hostile", BOMB, compress=False,
                                     headers={"Content-Encoding": "gzip"}),
    "endless": lambda s, _p: s.add("/hostile", b"<item><title>padding</title></item>\n",
                                   stream=64 * 1024 * 1024),
    "flood": lambda s, _p: s.add("/hostile", many_items(5000, dated=True)),
}


def behaviours(rng: random.Random) -> Iterator[str]:
    """Every behaviour once in a shuffled round, round after round."""
    while True:
        names = sorted(BEHAVIOURS)
        rng.shuffle(names)
        yield from names


@pytest.fixture
def private_server() -> Iterator[FeedServer]:
    with FeedServer(host="127.0.0.2") as server:
        server.add("/admin/secret-feed", feed_body("secret", 0))
        yield server


@pytest.fixture
def hostile_worker(tmp_path: Path, feed_server: FeedServer) -> Iterator[tuple[Worker, Path]]:
    feeds = {fid: feed_server.url(f"/{fid}.rss") for fid in HEALTHY}
    w, config = start_worker(tmp_path, {**feeds, "hostile": feed_server.url("/hostile")},
                             FETCH_TIMEOUT)
    yield w, config
    w.close()


@pytest.mark.sqlite_only("its children run on a SQLite file it checks with integrity_check")
def test_a_hostile_feed_among_50_healthy_ones_through_kill_9_loses_nothing(
        hostile_worker: tuple[Worker, Path], feed_server: FeedServer,
        private_server: FeedServer, tmp_path: Path) -> None:
    soak = Soak(*hostile_worker, tmp_path / "state")
    rng = random.Random(SEED)
    seen, outcomes = Counter[str](), Counter[str]()
    for k, behaviour in zip(range(CYCLES), behaviours(rng), strict=False):
        soak.served.publish(feed_server, k, HEALTHY, healthy_body)
        BEHAVIOURS[behaviour](feed_server, private_server)
        seen[behaviour] += 1
        now = T0 + k * STEP
        if not soak.cycle(now, soak.kill_delay(rng, KILL_SHARE, k), f"cycle {k} ({behaviour})"):
            continue
        db = sqlite3.connect(soak.state / "watcher.db")
        try:
            check_healthy(db, soak.served, soak.kept)
            outcomes[f"{behaviour}: {hostile_outcome(db, now)}"] += 1
        finally:
            db.close()
    assert private_server.requests == [], "a redirect reached the private server"
    report(seen, outcomes, soak)
    assert len(soak.durations) >= 2 and (CYCLES < 20 or soak.kills >= CYCLES // 5)


def check_healthy(db: sqlite3.Connection, served: Served, keys: set[tuple[str, str]]) -> None:
    """After a completed cycle every healthy feed is stored up to its current version."""
    for fid in HEALTHY:
        missing = {(fid, key) for key in served.current[fid]} - keys
        assert not missing, f"{fid}: {len(missing)} current item(s) not stored"
    failing = db.execute("SELECT feed_id, last_error FROM feed_state WHERE failures > 0 "
                         "AND feed_id != 'hostile'").fetchall()
    assert failing == [], failing


def hostile_outcome(db: sqlite3.Connection, now: datetime) -> str:
    """How the hostile feed ended this completed cycle: read, failed (why), or not due."""
    attempt, success, failures, error = db.execute(
        "SELECT last_attempt_at, last_success_at, failures, last_error FROM feed_state "
        "WHERE feed_id = 'hostile'").fetchone()
    stamp = now.replace(tzinfo=None)
    if attempt is None or datetime.fromisoformat(attempt) != stamp:
        return "backing off"
    if success is not None and datetime.fromisoformat(success) == stamp:
        assert failures == 0
        return "read"
    assert failures > 0 and error and not error.startswith("unexpected error"), error
    return f"failed: {error[:60]}"


def report(seen: Counter[str], outcomes: Counter[str], soak: Soak) -> None:
    """The soak's figures (make soak prints them; -s in the normal suite)."""
    db = sqlite3.connect(soak.state / "watcher.db")
    try:
        sent = db.execute("SELECT COUNT(*), COUNT(DISTINCT period) FROM outbox "
                          "WHERE kind = 'digest' AND status = 'sent'").fetchone()
    finally:
        db.close()
    print(f"\nhostile soak: {CYCLES} cycles, {soak.kills} killed by kill -9, {soak.completed} "
          f"completed; median cycle {statistics.median(soak.durations):.2f} s, longest "
          f"{max(soak.durations):.2f} s; {len(soak.kept)} items kept; digests sent: {sent[0]} "
          f"message(s) for {sent[1]} period(s)")
    print("behaviours served:", dict(sorted(seen.items())))
    for outcome, count in sorted(outcomes.items()):
        print(f"  {count:>4}  {outcome}")
