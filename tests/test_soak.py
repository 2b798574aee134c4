"""kill -9 at random moments across many cycles: nothing corrupt, doubled, lost or sent twice.

Feeds on a 127.0.0.1 server change before every cycle (a sliding window: items appear, then
drop off the feed). Each cycle is a fresh process running `run_once` on the same SQLite file
and file outbox (see tests/soak_worker.py); most are SIGKILLed after a random delay drawn
from a seeded RNG, the rest complete. After every cycle, killed or not, the database must
pass `PRAGMA integrity_check`, hold every item once, keep every item a completed cycle stored,
have the matches of every stored item, remember no validators of a feed version whose items
are not all stored, and hold each digest once per recipient, written to the outbox at most
once and, after a completed cycle, delivered.
"""

from __future__ import annotations

import asyncio
import email
import functools
import hashlib
import os
import queue
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import policy
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, at
from tests.feedserver import FeedServer, child_env
from tests.test_pipeline import context, serve_fixtures, write_config
from watcher.config import load_config
from watcher.context import Context
from watcher.deliver import outbox
from watcher.ingest.parse import parse_feed
from watcher.ingest.poll import poll
from watcher.judge.match import Matcher
from watcher.models import Match
from watcher.service import prepare_digest

SEED = 20251106
KILLS = 40                       # kills that landed mid-cycle (a late kill finds it done)
MAX_CYCLES = 100
KILL_SHARE = 0.8
FEEDS = ("wire", "gazette", "regional")
WINDOW, SHIFT = 16, 4            # items per feed version; new items per version
RECIPIENTS = ["a@example.org", "b@example.org"]
T0 = at("2026-03-02T00:00")      # a Monday; a cycle every 20 h: a new digest period every ~8
STEP = timedelta(hours=20)
LINE_TIMEOUT = 60.0


def feed_body(fid: str, version: int) -> bytes:
    """Version `version` of a feed: WINDOW items, SHIFT newer than the previous version's."""
    first = version * SHIFT
    items = []
    for n in range(first, first + WINDOW):
        title = [f"Azerbaijan joins the Abraham Accords, {fid} report {n}",
                 f"Protesters rally in Almaty against the accords, {fid} {n}",
                 f"Markets close higher in Astana, note {n}"][n % 3]
        items.append(f"<item><title>{title}</title><link>https://{fid}.example.com/{n}</link>"
                     f"<guid>{fid}-{n}</guid><description>Item {n} of {fid}.</description>"
                     f"<pubDate>Mon, 02 Mar 2026 00:00:00 GMT</pubDate></item>")
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>{fid}</title>{''.join(items)}</channel></rss>").encode()


@dataclass
class Served:
    """What the server has handed out: each version's items, by body hash and by ETag."""

    by_hash: dict[str, tuple[str, set[str]]] = field(default_factory=dict)
    by_etag: dict[str, tuple[str, set[str]]] = field(default_factory=dict)
    current: dict[str, set[str]] = field(default_factory=dict)   # feed → its items now

    def publish(self, server: FeedServer, version: int, feeds: tuple[str, ...] = FEEDS,
                body_of: Callable[[str, int], bytes] | None = None) -> None:
        for fid in feeds:
            body = (body_of or feed_body)(fid, version)
            keys = {i.key for i in parse_feed(fid, body, base_url=server.url(f"/{fid}.rss")).items}
            digest = hashlib.sha256(body).hexdigest()
            self.by_hash[digest] = (fid, keys)
            self.by_etag['"' + digest[:16] + '"'] = (fid, keys)
            self.current[fid] = keys
            server.add(f"/{fid}.rss", body)


class Worker:
    """The fork server, driven line by line, every read bounded by a timeout."""

    def __init__(self, config: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.soak_worker", str(config)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     env=env, cwd=ROOT)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.strip())

    def _ask(self, line: str) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return int(self.lines.get(timeout=LINE_TIMEOUT))

    def cycle(self, now: datetime, kill_after: float | None) -> tuple[int, float]:
        """Run one cycle; SIGKILL it after `kill_after` s. (exit code, seconds it ran)."""
        started = time.monotonic()
        pid = self._ask(f"RUN {now.isoformat()}")
        if kill_after is not None:
            time.sleep(kill_after)
            # The cycle and its parse workers, as systemd kills a service's control group. A
            # finished child is an unreaped zombie, its group still there: harmless.
            os.killpg(pid, signal.SIGKILL)
        code = self._ask("WAIT")
        return code, time.monotonic() - started

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


def start_worker(tmp_path: Path, feeds: dict[str, str], fetch_timeout: str) -> tuple[Worker, Path]:
    """The fork server for a config of `feeds` (id → URL), polled every 10 minutes."""
    data = yaml.safe_load((ROOT / "tests" / "fixtures" / "mini.yaml").read_text(encoding="utf-8"))
    data["feeds"] = [{"id": fid, "url": url, "every": "10m", "tier": "outlet"}
                     for fid, url in feeds.items()]
    data["digest"]["recipients"] = RECIPIENTS
    config = tmp_path / "indicators.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    env = child_env(WATCHER_STATE_DIR=str(tmp_path / "state"), WATCHER_FETCH_TIMEOUT=fetch_timeout,
                    PYTHONPATH=str(ROOT))
    return Worker(config, env), config


@pytest.fixture
def worker(tmp_path: Path, feed_server: FeedServer) -> Iterator[tuple[Worker, Path]]:
    w, config = start_worker(tmp_path, {fid: feed_server.url(f"/{fid}.rss") for fid in FEEDS}, "10")
    yield w, config
    w.close()


@dataclass
class Soak:
    """A soak in progress: its worker, what was served and kept, how its cycles ended."""

    worker: Worker
    config: Path
    state: Path
    served: Served = field(default_factory=Served)
    kept: set[tuple[str, str]] = field(default_factory=set)
    durations: list[float] = field(default_factory=list)
    kills: int = 0
    completed: int = 0

    def __post_init__(self) -> None:
        self.matcher = Matcher(load_config(self.config))

    def kill_delay(self, rng: random.Random, share: float, k: int) -> float | None:
        """When to kill cycle k: about `share` of them, at a random point of a usual cycle;
        never the first two (they measure how long a cycle takes)."""
        if k < 2 or rng.random() >= share:
            return None
        return rng.uniform(0, statistics.median(self.durations[1:] or self.durations))

    def cycle(self, now: datetime, delay: float | None, label: str) -> bool:
        """One cycle and its checks; whether it completed (False: killed)."""
        code, seconds, keys = cycle_and_check(self.worker, self.state, now, delay, self.kept,
                                              self.matcher, self.served,
                                              load_config(self.config), label)
        if code != 0:
            self.kills += 1
            return False
        self.completed += 1
        self.kept = keys                       # a completed cycle's items must stay
        if delay is None:                      # a true duration, not the wait before a kill
            self.durations.append(seconds)
        return True


@pytest.mark.sqlite_only("its children run on a SQLite file it checks with integrity_check")
def test_kill_9_at_random_moments_loses_doubles_and_resends_nothing(
        worker: tuple[Worker, Path], feed_server: FeedServer, tmp_path: Path) -> None:
    soak = Soak(*worker, tmp_path / "state")
    rng = random.Random(SEED)
    k = -1
    while soak.kills < KILLS and k < MAX_CYCLES:
        k += 1
        soak.served.publish(feed_server, k)
        soak.cycle(T0 + k * STEP, soak.kill_delay(rng, KILL_SHARE, k), f"cycle {k}")
    print(f"\nsoak: {soak.kills} kills, {soak.completed} completed cycles, median cycle "
          f"{statistics.median(soak.durations):.2f} s, {len(soak.kept)} items kept")
    assert soak.kills >= KILLS and soak.completed >= 5


def cycle_and_check(w: Worker, state: Path, now: datetime, delay: float | None,
                    kept: set[tuple[str, str]], matcher: Matcher, served: Served, config: Any,
                    label: str) -> tuple[int, float, set[tuple[str, str]]]:
    """One cycle (killed after `delay` s), then what every cycle must leave: an intact
    database, every item once with its matches, none a completed cycle stored lost, each
    digest written once per recipient, and after a completed cycle every digest delivered.
    Returns the exit code, the seconds it ran and the stored item keys."""
    code, seconds = w.cycle(now, delay)
    assert code in (0, -signal.SIGKILL), f"{label} failed with exit code {code}"
    db = sqlite3.connect(state / "watcher.db")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",), label
        keys = check_items(db, kept, matcher, served)
        check_outbox(db, state / "outbox")
        if code == 0:
            check_delivered(db, state / "outbox", now, config)
    finally:
        db.close()
    return code, seconds, keys


def check_items(db: sqlite3.Connection, kept: set[tuple[str, str]], matcher: Matcher,
                served: Served) -> set[tuple[str, str]]:
    """Items once each, none lost, each with its matches, validators never ahead of items."""
    rows = db.execute("SELECT id, feed_id, key, title, summary FROM item").fetchall()
    keys = {(r[1], r[2]) for r in rows}
    assert len(keys) == len(rows), "an item is stored twice"
    assert kept <= keys, f"lost {len(kept - keys)} item(s) a completed cycle stored"
    stored: dict[int, set[str]] = defaultdict(set)
    for item_id, indicator in db.execute("SELECT item_id, indicator FROM match"):
        stored[item_id].add(indicator)
    for item_id, _fid, key, title, summary in rows:
        wanted = expected_matches(matcher, title, summary)
        assert stored.get(item_id, set()) == wanted, f"item {key}: matches {stored.get(item_id)}"
    for fid, etag, content_hash in db.execute("SELECT feed_id, etag, content_hash FROM feed_state"):
        for version in (served.by_hash.get(content_hash or ""), served.by_etag.get(etag or "")):
            if version is not None:
                assert version[0] == fid
                missing = {(fid, key) for key in version[1]} - keys
                assert not missing, f"{fid}: validators remembered, {len(missing)} items not stored"
    return keys


@functools.cache
def _expected(matcher: Matcher, title: str, summary: str) -> frozenset[str]:
    return frozenset(m.indicator for m in matcher.match(title, summary))


def expected_matches(matcher: Matcher, title: str, summary: str) -> set[str]:
    """What the matcher says for an item (cached: items never change once stored)."""
    return set(_expected(matcher, title, summary))


def check_outbox(db: sqlite3.Connection, outbox: Path) -> None:
    """A digest is written for every recipient or none, and every file is one outbox row."""
    rows = db.execute("SELECT period, recipient, message_id, status FROM outbox "
                      "WHERE kind = 'digest'").fetchall()
    by_period: dict[str, set[str]] = defaultdict(set)
    for period, recipient, _mid, _status in rows:
        by_period[period].add(recipient)
    for period, recipients in by_period.items():
        assert recipients == set(RECIPIENTS), f"{period}: digest written for {recipients} only"
    ids = {mid for _p, _r, mid, _s in rows}
    files = [email.message_from_bytes(p.read_bytes(), policy=policy.default)["Message-ID"]
             for p in outbox.glob("*.eml")] if outbox.exists() else []
    assert len(files) == len(set(files)), "a digest file written twice"
    assert set(files) <= ids, "a digest file without its outbox row"


def check_delivered(db: sqlite3.Connection, outbox: Path, now: datetime, config: object) -> None:
    """After a completed cycle every digest so far is sent, and this period's exists."""
    from watcher.report.periods import period_of
    period = period_of(config, now)  # type: ignore[arg-type]
    rows = db.execute("SELECT period, message_id, status FROM outbox").fetchall()
    assert {r[0] for r in rows if r[0] == period}, f"no digest for {period}"
    assert all(status == "sent" for _p, _m, status in rows), rows
    files = {email.message_from_bytes(p.read_bytes(), policy=policy.default)["Message-ID"]
             for p in outbox.glob("*.eml")}
    assert files == {mid for _p, mid, _s in rows}


# --- the same guarantees, at the exact worst moment -------------------------------------------
# The soak's kills land where they land; these two put the failure right between the writes
# that must stay together (what a kill there would do), deterministically.


class ExplodingMatcher(Matcher):
    """Fails on its n-th item, as a crash in the middle of storing a feed would."""

    def __init__(self, config: Any, fail_at: int) -> None:
        super().__init__(config)
        self.calls, self.fail_at = 0, fail_at

    def match(self, title: str, summary: str = "") -> list[Match]:
        self.calls += 1
        if self.calls == self.fail_at:
            raise RuntimeError("crash between storing items and their matches")
        return super().match(title, summary)


def test_a_crash_between_items_and_matches_keeps_nothing_of_that_feed(
        feed_server: FeedServer, state_env: Path, tmp_path: Path) -> None:
    serve_fixtures(feed_server)
    ctx = context(write_config(tmp_path, feed_server))
    crashing = Context(ctx.config, ctx.settings, ctx.store, ExplodingMatcher(ctx.config, 2),
                       ctx.clock)
    first = asyncio.run(poll(crashing))
    # The crash is recorded on its feed (issue 16), which keeps nothing; the others are stored.
    [crashed] = first.failed
    stored = {s.item.feed_id for s in ctx.store.iter_items()}
    health = {f.feed_id: f.last_success_at for f in ctx.store.feed_health()}
    assert all((fid in stored) == (done is not None) for fid, done in health.items())
    assert stored == set(health) - {crashed}
    before = ctx.store.count_items()
    later = Context(ctx.config, ctx.settings, ctx.store, ctx.matcher,
                    lambda: ctx.clock() + timedelta(hours=1))
    report = asyncio.run(poll(later))              # after its backoff: all stored
    assert report.new_items == 9 - before and ctx.store.count_items() == 9
    assert {m.item_id for m in ctx.store.matched_items()} == {
        s.id for s in ctx.store.iter_items() if ctx.matcher.match(s.item.title, s.item.summary)}


def test_a_crash_while_writing_the_digest_leaves_no_recipient_without_one(
        feed_server: FeedServer, state_env: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    serve_fixtures(feed_server)
    path = write_config(tmp_path, feed_server)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["digest"]["recipients"] = RECIPIENTS
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    ctx = context(path)
    real, calls = outbox.build_email, []

    def build_then_crash(msg: Any) -> Any:
        calls.append(msg.recipient)
        if len(calls) == 2:
            raise RuntimeError("crash after the first recipient's copy")
        return real(msg)

    monkeypatch.setattr(outbox, "build_email", build_then_crash)
    with pytest.raises(RuntimeError):
        prepare_digest(ctx)
    assert ctx.store.messages() == []
    monkeypatch.setattr(outbox, "build_email", real)
    assert prepare_digest(ctx) == 2
    assert sorted(m.recipient for m in ctx.store.messages()) == RECIPIENTS
