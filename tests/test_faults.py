"""Broken feeds on a real 127.0.0.1 server, polled through `ingest.poll` as the service does.

One server holds every fault the issue lists (500, 404, 410, 429 with Retry-After, a redirect
loop, a hung connection, 1 byte at a time, 50 MB, a gzip bomb, HTML, an empty body; issue 16:
headers dripped a byte at a time, redirects to a private address, to 169.254.169.254 and to
file://) next to three healthy feeds. A cycle must end in bounded time, store every healthy
item, record on each bad feed why it failed, back off more on each failure, and retire the 410
feed with a warning in the digest. WATCHER_FETCH_TIMEOUT=1 keeps the slow cases to about a
second.
"""

from __future__ import annotations

import asyncio
import email
import time
from collections import Counter
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, SHARED, at
from tests.feedserver import FeedServer
from tests.test_pipeline import E2E, serve_fixtures
from watcher.config import load_config
from watcher.context import Context
from watcher.ingest.fetch import MiB
from watcher.ingest.parse import parse_feed
from watcher.ingest.poll import PollReport, poll
from watcher.models import FeedStatus
from watcher.service import prepare_digest
from watcher.settings import load_settings

T0 = at("2026-03-10T06:00")
FETCH_TIMEOUT = "1"
BOMB = SHARED / "feeds-realworld" / "malformed" / "selfmade__gzip_bomb_100MiB.xml.gz"
HEALTHY = {"wire": "/wire.rss", "regional": "/regional.atom", "gazette": "/outlet.rss"}
HEALTHY_FILES = {"wire": "wire.rss", "regional": "regional.atom", "gazette": "outlet.rss"}

# feed id → (what the server does, what the feed's state must say)
FAULTS: dict[str, str] = {
    "err500": "server error (500 status code)",
    "missing404": "not found (404 status code)",
    "gone410": "gone (410 status code)",
    "limited429": "too many requests (429 status code)",
    "loop": "too many redirects",
    "hung": "timed out after 1 s",
    "trickle": "timed out after 1 s",
    "huge50mb": "response larger than 10 MiB",
    "gzipbomb": "response larger than 10 MiB",
    "html": "not a feed: an HTML page",
    "empty": "not a feed: empty body",
    # issue 16: headers dripped a byte every 0.2 s; redirects to private places and file://
    "slowheaders": "timed out after 1 s",
    "toprivate": ("refused: a redirect to 127.0.0.2, a loopback address the feed's URL "
                  "does not name"),
    "tometadata": "refused: a redirect to 169.254.169.254, a link-local address",
    "tofile": "redirect to an unsupported URL (file:)",
}
RETRY_AFTER = 7200


def serve_faults(server: FeedServer) -> None:
    """Each fault at its own path; the slow ones end when the server shuts down."""
    rss = (E2E / "wire.rss").read_bytes()
    server.add("/err500", b"oops", status=500, content_type="text/plain")
    server.add("/missing404", b"no", status=404, content_type="text/plain")
    server.add("/gone410", b"gone", status=410, content_type="text/plain")
    server.add("/limited429", b"slow down", status=429, content_type="text/plain",
               headers={"Retry-After": str(RETRY_AFTER)})
    server.add("/loop", redirect_to=server.url("/loop"))
    server.add("/hung", rss, delay=600)                        # accepts, never answers
    server.add("/trickle", rss, trickle=True, compress=False)  # a byte every half second
    server.add("/huge50mb", b"<item><title>padding</title></item>\n", stream=50 * MiB)
    server.add("/gzipbomb", BOMB.read_bytes(), compress=False,
               headers={"Content-Encoding": "gzip"})
    server.add("/html", (ROOT / "tests" / "fixtures" / "feeds" / "not_a_feed.html").read_bytes(),
               content_type="text/html; charset=utf-8")
    server.add("/empty", b"")
    server.add("/slowheaders", rss, drip=0.2)
    server.add("/toprivate", redirect_to=f"http://127.0.0.2:{server.port}/admin/secret-feed")
    server.add("/tometadata", redirect_to="http://169.254.169.254/latest/meta-data/")
    server.add("/tofile", redirect_to="file:///etc/passwd")
    serve_fixtures(server)


def write_fault_config(tmp: Path, server: FeedServer) -> Path:
    data = yaml.safe_load((ROOT / "tests" / "fixtures" / "mini.yaml").read_text(encoding="utf-8"))
    paths = {**HEALTHY, **{fid: f"/{fid}" for fid in FAULTS}}
    data["feeds"] = [{"id": fid, "url": server.url(path), "every": "30m", "tier": "outlet"}
                     for fid, path in paths.items()]
    path = tmp / "indicators.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def faulty(feed_server: FeedServer, state_env: Path, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Context:
    if not BOMB.exists():
        pytest.skip("shared corpus absent")
    monkeypatch.setenv("WATCHER_FETCH_TIMEOUT", FETCH_TIMEOUT)
    serve_faults(feed_server)
    config = load_config(write_fault_config(tmp_path, feed_server))
    return Context.open(config, load_settings(), clock=lambda: T0)


def cycle(ctx: Context, now: Any) -> tuple[PollReport, dict[str, FeedStatus], float]:
    """One poll at a test clock; the feed states after it; wall seconds it took."""
    ctx = Context(ctx.config, ctx.settings, ctx.store, ctx.matcher, lambda: now)
    started = time.monotonic()
    report = asyncio.run(poll(ctx))
    return report, {f.feed_id: f for f in ctx.store.feed_health()}, time.monotonic() - started


def test_one_cycle_through_every_fault_stores_the_healthy_and_says_why(
        faulty: Context, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="watcher")
    report, feeds, seconds = cycle(faulty, T0)

    print(f"\nfault cycle: {seconds:.2f} s for {report.polled} feeds")
    for fid in FAULTS:
        f = feeds[fid]
        print(f"  {fid:<11} status={f.last_status} failures={f.failures} retired={f.retired} "
              f"next={f.next_due_at - T0 if f.next_due_at else None}: {f.last_error}")
    assert seconds < 20                     # hung and trickle stop at the 1 s deadline
    assert report.polled == len(FAULTS) + len(HEALTHY)
    assert set(report.failed) == set(FAULTS)

    stored = Counter(s.item.feed_id for s in faulty.store.iter_items())
    for fid, name in HEALTHY_FILES.items():
        expected = {i.key for i in parse_feed(fid, (E2E / name).read_bytes()).items}
        assert stored[fid] == len(expected), fid
        assert feeds[fid].failures == 0 and feeds[fid].last_error is None
    assert set(stored) == set(HEALTHY)

    for fid, reason in FAULTS.items():
        f = feeds[fid]
        assert f.last_error is not None and f.last_error.startswith(reason), (fid, f.last_error)
        assert f.failures == 1 and f.last_success_at is None
        assert f.next_due_at is not None and f.next_due_at > T0
        assert f"feed {fid} failed (1 in a row): {reason}" in caplog.text
    assert feeds["limited429"].next_due_at == T0 + timedelta(seconds=RETRY_AFTER)
    assert feeds["err500"].next_due_at == T0 + timedelta(minutes=30)
    assert feeds["gone410"].retired and not any(f.retired for k, f in feeds.items()
                                                if k != "gone410")


def test_the_digest_warns_about_the_retired_and_the_failing_feeds(faulty: Context) -> None:
    cycle(faulty, T0)
    assert prepare_digest(faulty, T0) == 1
    (queued,) = faulty.store.messages()
    msg = email.message_from_bytes(queued.raw, _class=EmailMessage, policy=policy.default)
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "<strong>gone410</strong>: retired, no longer polled" in html
    assert ("gone410: retired, no longer polled: gone (410 status code); fix or remove its URL"
            in text)
    assert "err500: server error (500 status code) (1 failures in a row)" in text


def test_backoff_grows_over_consecutive_cycles_and_410_is_not_polled_again(
        faulty: Context, feed_server: FeedServer) -> None:
    now, waits = T0, {fid: [] for fid in FAULTS}   # type: dict[str, list[timedelta]]
    for _ in range(3):
        _, feeds, _ = cycle(faulty, now)
        for fid in FAULTS:
            if not feeds[fid].retired:
                assert feeds[fid].next_due_at is not None
                waits[fid].append(feeds[fid].next_due_at - now)
        now += timedelta(hours=3)           # every backed-off feed is due again by then
    print("\nwaits after 3 failures:", {k: [str(w) for w in v] for k, v in waits.items()})
    half_hour = timedelta(minutes=30)
    for fid in set(FAULTS) - {"gone410", "limited429"}:
        assert waits[fid] == [half_hour, 2 * half_hour, 4 * half_hour], fid
        assert feeds[fid].failures == 3
    assert waits["limited429"] == [timedelta(seconds=RETRY_AFTER)] * 3   # Retry-After wins
    assert feed_server.paths().count("/gone410") == 1                    # retired: not asked again
    assert feeds["wire"].failures == 0 and feed_server.statuses("/wire.rss")[1:] == [304, 304]
