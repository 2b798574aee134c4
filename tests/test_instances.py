"""Several watcher instances on one database: leases, send claims, heartbeats, takeover.

The first tests run on either backend (one process, two Contexts with different instance
ids). The multi-process ones start three real `watcher run` services on one PostgreSQL
database against a loopback feed server and a real SMTP server, and count what the servers
saw: they need PostgreSQL and run in `make test-postgres`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from sqlalchemy import create_engine, text

from tests.conftest import ROOT, at, postgres_database
from tests.feedserver import FeedServer, child_env
from tests.smtpserver import SmtpServer
from tests.test_pipeline import context, serve_fixtures, write_config
from watcher.context import Context
from watcher.deliver.outbox import deliver_pending
from watcher.ingest import poll as pipeline
from watcher.ingest.poll import poll
from watcher.service import prepare_digest
from watcher.store import Instance

NOW = at("2026-03-10T06:00")
RECIPIENTS = ["a@example.org", "b@example.org"]


def as_instance(ctx: Context, name: str, clock: Callable[[], datetime] | None = None) -> Context:
    """The same database seen by another instance (its own id; the same or another clock)."""
    settings = dataclasses.replace(ctx.settings, instance_id=name, lease_seconds=300, lease_batch=2)
    return Context(ctx.config, settings, ctx.store, ctx.matcher, clock or ctx.clock)


# --- one process, any backend ----------------------------------------------------------------

def test_leases_split_due_feeds_and_expire(feed_server: FeedServer, state_env: Path,
                                           tmp_path: Path) -> None:
    serve_fixtures(feed_server)
    ctx = context(write_config(tmp_path, feed_server))
    until = NOW + timedelta(minutes=5)
    a = ctx.store.lease_due_feeds(NOW, "a", until, limit=2)
    b = ctx.store.lease_due_feeds(NOW, "b", until, limit=2)
    assert len(a) == 2 and len(b) == 1                       # three feeds, never one twice
    assert not {r.feed_id for r in a} & {r.feed_id for r in b}
    assert ctx.store.lease_due_feeds(NOW, "c", until, limit=5) == []
    # a dies: its leases are free once they expire, not before
    assert ctx.store.lease_due_feeds(NOW, "c", until, 5, expired=until - timedelta(seconds=1)) == []
    taken = ctx.store.lease_due_feeds(NOW, "c", until + timedelta(minutes=5), 5, expired=until)
    assert {r.feed_id for r in taken} == {r.feed_id for r in a + b}
    ctx.store.release_leases("c")
    assert len(ctx.store.lease_due_feeds(NOW, "d", until, 5)) == 3


def test_a_feed_leased_by_another_instance_is_not_polled(
        feed_server: FeedServer, state_env: Path, tmp_path: Path) -> None:
    serve_fixtures(feed_server)
    ctx = context(write_config(tmp_path, feed_server))
    other = as_instance(ctx, "other")
    (held,) = other.store.lease_due_feeds(NOW, "other", NOW + timedelta(minutes=5), limit=1)
    report = asyncio.run(poll(as_instance(ctx, "me")))
    assert report.polled == 2
    assert urlsplit(held.url).path not in feed_server.paths()
    # "other" is gone; after its lease expires the feed is polled, and only that one
    later = as_instance(ctx, "me", clock=lambda: NOW + timedelta(minutes=6))
    report = asyncio.run(poll(later))
    assert report.polled == 1 and report.new_items > 0
    assert feed_server.paths().count(urlsplit(held.url).path) == 1


def test_a_warm_poll_over_several_lease_batches_polls_every_feed_once(
        feed_server: FeedServer, state_env: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Unchanged feeds are written in one batch per lease batch, before its leases go back:
    a released feed still due would be leased again and the poll would end short."""
    serve_fixtures(feed_server)
    ctx = context(write_config(tmp_path, feed_server))
    asyncio.run(poll(as_instance(ctx, "me")))                     # cold: three feeds stored
    later = NOW + timedelta(hours=1)
    feed_server.requests.clear()
    # one feed in flight, leased one at a time: each batch is done before the next is leased
    monkeypatch.setattr(pipeline, "PIPELINE", 1)
    me = as_instance(ctx, "me", clock=lambda: later)
    me.settings = dataclasses.replace(me.settings, lease_batch=1)
    warm = asyncio.run(poll(me))
    assert (warm.polled, warm.unchanged, warm.new_items, warm.left) == (3, 3, 0, 0)
    assert sorted(Counter(feed_server.paths()).values()) == [1, 1, 1]
    # each one's next poll time was written: nothing is due again at the same moment
    assert asyncio.run(poll(as_instance(ctx, "me", clock=lambda: later))).polled == 0
    assert ctx.store.lease_due_feeds(later + timedelta(hours=2), "x", later + timedelta(hours=3),
                                     limit=5, expired=later)           # no lease left held


def test_two_instances_delivering_at_once_send_each_message_once(
        feed_server: FeedServer, smtp_server: SmtpServer, state_env: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    serve_fixtures(feed_server)
    monkeypatch.setenv("WATCHER_SMTP_URL", smtp_server.url)
    path = tmp_path / "indicators.yaml"
    write_config(tmp_path, feed_server)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["digest"]["recipients"] = RECIPIENTS * 1 + [f"r{i}@example.org" for i in range(8)]
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    ctx = context(path)
    assert prepare_digest(ctx) == 10
    assert prepare_digest(as_instance(ctx, "b")) == 0           # the outbox's unique key
    results: list[tuple[int, int]] = []
    threads = [threading.Thread(target=lambda c=c: results.append(deliver_pending(c)))
               for c in (as_instance(ctx, "a"), as_instance(ctx, "b"), as_instance(ctx, "c"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sum(sent for sent, _ in results) == 10
    got = Counter(r for m in smtp_server.messages for r in m.rcpt_tos)
    assert set(got.values()) == {1} and len(got) == 10
    assert all(m.status == "sent" and m.attempts == 1 for m in ctx.store.messages())


def test_a_send_claim_of_a_dead_instance_expires_and_the_message_goes_out(
        feed_server: FeedServer, state_env: Path, tmp_path: Path) -> None:
    serve_fixtures(feed_server)
    ctx = context(write_config(tmp_path, feed_server))
    assert prepare_digest(ctx) == 1
    claimed = ctx.store.claim_message(NOW, "dead", NOW + timedelta(minutes=5))
    assert claimed is not None
    assert deliver_pending(as_instance(ctx, "b")) == (0, 0)             # held: not sent twice
    assert deliver_pending(as_instance(ctx, "b"), NOW + timedelta(minutes=6)) == (1, 0)


def test_status_shows_instances_their_leases_and_heartbeats(
        feed_server: FeedServer, state_env: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    from watcher.cli import main
    serve_fixtures(feed_server)
    config = write_config(tmp_path, feed_server)
    ctx = context(config)
    now = datetime.now(UTC)
    until = now + timedelta(minutes=5)
    ctx.store.heartbeat(Instance("host-a:1", "host-a", 1, "t"), now - timedelta(seconds=3), until)
    ctx.store.lease_due_feeds(now, "host-a:1", until, limit=2)
    ctx.store.heartbeat(Instance("host-b:2", "host-b", 2, "t"), now - timedelta(hours=2),
                        until)                                           # silent for 2 h
    ctx.store.heartbeat(Instance("host-c:3", "host-c", 3, "t"), now, until, stopping=True)
    assert main(["status", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "instances: 1 alive, 2 feed lease(s) held" in out
    assert re.search(r"host-a:1 +alive +leases 2 +last heartbeat .* \([34] s ago\)", out), out
    assert re.search(r"host-b:2 +silent +leases 0", out) and re.search(r"host-c:3 +stopped", out)
    assert main(["status", "--json", "--config", str(config)]) == 0
    instances = {i["id"]: i for i in json.loads(capsys.readouterr().out)["instances"]}
    assert instances["host-a:1"]["alive"] and instances["host-a:1"]["leases"] == 2
    assert not instances["host-b:2"]["alive"] and instances["host-c:3"]["stopped_at"]


# --- three real services on one PostgreSQL -------------------------------------------------------

FEEDS = 300


def rss(i: int, n: int = 2) -> bytes:
    items = "".join(f"<item><title>Feed {i} story {k}</title><link>http://127.0.0.1/{i}/{k}</link>"
                    f"<guid>f{i}-{k}</guid><description>plain news {k}</description></item>"
                    for k in range(n))
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>f{i}</title>'
            f"<link>http://127.0.0.1/{i}</link><description>d</description>{items}"
            "</channel></rss>").encode()


@dataclasses.dataclass
class Cluster:
    """Three `watcher run` processes (a, b, c) on one database, with their logs."""

    url: str
    config: Path
    env: dict[str, str]
    procs: dict[str, subprocess.Popen[str]] = dataclasses.field(default_factory=dict)

    def start(self, name: str) -> None:
        env = self.env | {"WATCHER_INSTANCE_ID": name}
        log = open(self.config.parent / f"{name}.log", "w", encoding="utf-8")  # noqa: SIM115
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "watcher", "run", "--config", str(self.config)],
            env=env, stderr=log, stdout=subprocess.DEVNULL, text=True)

    def start_all(self) -> None:
        """a, b and c at the same moment on an empty database: they race to migrate it too."""
        for name in "abc":
            self.start(name)
        assert wait_until(lambda: all("watcher started" in self.log(n) for n in "abc"), 60), \
            "\n".join(self.log(n)[-1500:] for n in "abc")

    def log(self, name: str) -> str:
        return (self.config.parent / f"{name}.log").read_text(encoding="utf-8")

    def query(self, sql: str) -> list[Any]:
        engine = create_engine(self.url)
        try:
            with engine.connect() as conn:
                return list(conn.execute(text(sql)))
        finally:
            engine.dispose()

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def cluster(feed_server: FeedServer, smtp_server: SmtpServer, tmp_path: Path) -> Iterator[Cluster]:
    data = yaml.safe_load((ROOT / "tests" / "fixtures" / "mini.yaml").read_text(encoding="utf-8"))
    data["feeds"] = [{"id": f"f{i:03d}", "url": feed_server.url(f"/f{i:03d}.rss"), "every": "1m",
                      "tier": "outlet"} for i in range(FEEDS)]
    data["digest"]["recipients"] = RECIPIENTS
    config = tmp_path / "indicators.yaml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    with postgres_database() as url:
        env = child_env(WATCHER_DATABASE_URL=url, WATCHER_STATE_DIR=str(tmp_path / "state"),
                        WATCHER_SMTP_URL=smtp_server.url, WATCHER_SENDER="watcher@example.org",
                        WATCHER_POLL_TICK="1", WATCHER_LEASE_BATCH="20",
                        WATCHER_FETCH_TIMEOUT="20", PYTHONPATH=str(ROOT))
        c = Cluster(url, config, env)
        try:
            yield c
        finally:
            c.stop_all()


def requests_per_feed(server: FeedServer) -> Counter[str]:
    return Counter(seen.path for seen in list(server.requests))


def wait_until(predicate: Callable[[], bool], seconds: float, step: float = 0.2) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


@pytest.mark.postgres_only
def test_three_instances_poll_each_feed_once_per_interval_and_send_one_digest(
        cluster: Cluster, feed_server: FeedServer, smtp_server: SmtpServer) -> None:
    for i in range(FEEDS):
        feed_server.add(f"/f{i:03d}.rss", rss(i), delay=0.02)
    cluster.env["WATCHER_LEASE_SECONDS"] = "30"
    cluster.start_all()
    first: dict[str, float] = {}
    second: dict[str, float] = {}

    def watch() -> bool:                        # when each feed got its 1st and 2nd request
        now = time.monotonic()
        for path, n in requests_per_feed(feed_server).items():
            first.setdefault(path, now)
            if n >= 2:
                second.setdefault(path, now)
        return len(second) == FEEDS

    assert wait_until(lambda: watch() or len(first) == FEEDS, 40), f"{len(first)} feeds polled"
    status = subprocess.run([sys.executable, "-m", "watcher", "status", "--json", "--config",
                             str(cluster.config)], env=cluster.env, capture_output=True,
                            text=True, timeout=60, check=True)
    alive = [i for i in json.loads(status.stdout)["instances"] if i["alive"]]
    assert sorted(i["id"] for i in alive) == ["a", "b", "c"], status.stdout
    assert wait_until(watch, 100), f"{FEEDS - len(second)} feed(s) not polled a second time"
    time.sleep(3)                                 # any extra request would land now
    counts = requests_per_feed(feed_server)
    cluster.stop_all()

    assert len(counts) == FEEDS and set(counts.values()) == {2}, Counter(counts.values())
    gaps = [second[p] - first[p] for p in counts]
    # the next poll is due 1 min after the start of the poll that fetched it (a tick is 1 s)
    assert min(gaps) > 55, min(gaps)
    per_instance = {
        name: sum(int(n) for n in re.findall(r"poll: polled (\d+) feed", cluster.log(name)))
        for name in "abc"
    }
    assert sum(per_instance.values()) == 2 * FEEDS and all(per_instance.values()), per_instance
    items, total = cluster.query("SELECT (SELECT count(*) FROM item), "
                                 "(SELECT sum(items_total) FROM feed_state)")[0]
    assert items == total == 2 * FEEDS           # each item stored once, counted once
    assert cluster.query("SELECT count(*) FROM feed_state WHERE lease_owner IS NOT NULL") == [(0,)]
    got = Counter(r for m in smtp_server.messages for r in m.rcpt_tos)
    assert got == Counter(RECIPIENTS), got        # one digest per recipient, not three
    assert cluster.query("SELECT status, attempts, count(*) FROM outbox GROUP BY 1, 2") == \
        [("sent", 1, 2)]
    print(f"\nthree instances, {FEEDS} feeds every 1 min: requests per feed per interval "
          f"{min(counts.values()) // 2}; feeds polled per instance {per_instance}; "
          f"interval between a feed's polls {min(gaps):.1f}–{max(gaps):.1f} s")


@pytest.mark.postgres_only
def test_a_killed_instances_feeds_are_taken_over_after_its_lease_expires(
        cluster: Cluster, feed_server: FeedServer) -> None:
    feeds = 120
    for i in range(FEEDS):
        feed_server.add(f"/f{i:03d}.rss", rss(i), delay=0.4 if i < feeds else 0)
    lease = 4.0
    cluster.env.update(WATCHER_LEASE_SECONDS=str(lease), WATCHER_LEASE_BATCH="10")
    cluster.start_all()

    def held_by_a() -> list[Any]:
        return cluster.query("SELECT feed_id, lease_until FROM feed_state WHERE lease_owner = 'a'")

    assert wait_until(lambda: len(held_by_a()) >= 5, 60, step=0.05), cluster.log("a")[-2000:]
    cluster.procs["a"].send_signal(signal.SIGKILL)                 # mid-cycle, leases held
    killed = time.monotonic()
    cluster.procs["a"].wait()
    leases = dict(held_by_a())       # feed → its lease's end, naive UTC as PostgreSQL keeps it
    held = set(leases)                # (the pipeline leases batch after batch: ends differ)
    assert held
    ids = ",".join(f"'{f}'" for f in held)
    taken_at: dict[str, datetime] = {}    # feed → first moment seen no longer a's
    all_taken: list[float] = []

    def done() -> bool:
        (moment, open_feeds), = cluster.query(
            "SELECT now() AT TIME ZONE 'utc', (SELECT count(*) FROM feed_state "
            "WHERE last_success_at IS NULL OR lease_owner = 'a')")
        for (fid,) in cluster.query(f"SELECT feed_id FROM feed_state WHERE feed_id IN ({ids}) "
                                    "AND (lease_owner IS NULL OR lease_owner <> 'a')"):
            taken_at.setdefault(fid, moment)
        if len(taken_at) == len(held) and not all_taken:
            all_taken.append(time.monotonic() - killed)
        return bool(open_feeds == 0)

    assert wait_until(done, 60, step=0.05), "a's feeds were not taken over"
    takeover = time.monotonic() - killed
    # nobody touched one of a's feeds while its lease ran: each was taken after it expired
    early = {fid: (taken_at[fid], leases[fid]) for fid in taken_at if taken_at[fid] < leases[fid]}
    assert len(taken_at) == len(held) and not early, early
    after = min((taken_at[f] - leases[f]).total_seconds() for f in held)
    counts = requests_per_feed(feed_server)
    cluster.stop_all()
    assert len(counts) == FEEDS                                    # every feed polled
    twice = {p.strip("/").removesuffix(".rss") for p, n in counts.items() if n > 1}
    assert twice <= held, twice - held                  # only a's unfinished feeds, again
    assert max(counts.values()) <= 2
    items, total = cluster.query("SELECT (SELECT count(*) FROM item), "
                                 "(SELECT sum(items_total) FROM feed_state)")[0]
    assert items == total == 2 * FEEDS
    print(f"\nkill -9 of one of three instances holding {len(held)} lease(s) "
          f"(WATCHER_LEASE_SECONDS={lease:g}): each taken over at least "
          f"{after:.1f} s after its lease expired, all of "
          f"them {all_taken[0]:.1f} s after the kill; every feed polled {takeover:.1f} s after "
          f"the kill; {len(twice)} feed(s) "
          "requested twice (in flight when it died)")
