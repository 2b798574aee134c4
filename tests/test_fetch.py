"""Fetch against a real HTTP server on 127.0.0.1: validators, gzip, failures, limits."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import socket
import time
import tracemalloc
import zlib
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.feedserver import ALLOW_PRIVATE, LAST_MODIFIED, FeedServer  # feed_server: conftest
from watcher import USER_AGENT
from watcher.errors import FeedError
from watcher.ingest.addresses import parse_policy
from watcher.ingest.fetch import (
    Fetcher,
    FetchRequest,
    FetchResult,
    MiB,
    Validators,
    backoff,
)
from watcher.ingest.response import parse_retry_after

T = TypeVar("T")
LOOPBACK = parse_policy(ALLOW_PRIVATE)[0]      # the test server's address, as the suite allows it
RSS = (Path(__file__).parent / "fixtures" / "feeds" / "news_en.rss").read_bytes()


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Each test owns its event loop: no async plugin needed."""
    return asyncio.run(coro)


async def fetch_once(url: str, validators: Validators | None = None,
                     **options: Any) -> FetchResult:
    async with Fetcher(**{"allow_private": LOOPBACK, **options}) as fetcher:
        return await fetcher.fetch(FetchRequest("feed", url, validators or Validators()))


def fetch_error(url: str, **options: Any) -> FeedError:
    with pytest.raises(FeedError) as caught:
        run(fetch_once(url, **options))
    return caught.value


# --- conditional GET ------------------------------------------------------------------------


def test_second_poll_with_validators_gets_304_and_no_body(feed_server: FeedServer) -> None:
    feed_server.add("/rss", RSS, last_modified=LAST_MODIFIED)
    first = run(fetch_once(feed_server.url("/rss")))
    second = run(fetch_once(feed_server.url("/rss"), first.validators))

    assert (first.status, first.body, first.not_modified) == (200, RSS, False)
    assert first.etag and first.last_modified == LAST_MODIFIED
    assert first.content_hash == hashlib.sha256(RSS).hexdigest()
    assert (second.status, second.body, second.not_modified) == (304, None, True)
    assert second.validators == first.validators
    assert feed_server.statuses("/rss") == [200, 304]
    assert feed_server.requests[1].headers["If-None-Match"] == first.etag


def test_last_modified_alone_gives_304(feed_server: FeedServer) -> None:
    feed_server.add("/rss", RSS, etag=False, last_modified=LAST_MODIFIED)
    first = run(fetch_once(feed_server.url("/rss")))
    second = run(fetch_once(feed_server.url("/rss"), first.validators))

    assert first.etag is None
    assert second.not_modified and second.body is None
    assert feed_server.requests[1].headers["If-Modified-Since"] == LAST_MODIFIED
    assert feed_server.statuses("/rss") == [200, 304]


def test_same_body_without_validators_is_not_modified_by_hash(feed_server: FeedServer) -> None:
    feed_server.add("/rss", RSS, etag=False)
    first = run(fetch_once(feed_server.url("/rss")))
    second = run(fetch_once(feed_server.url("/rss"), first.validators))
    feed_server.add("/rss", RSS + b"\n<!-- changed -->", etag=False)
    third = run(fetch_once(feed_server.url("/rss"), first.validators))

    assert feed_server.statuses("/rss") == [200, 200, 200]
    assert (second.status, second.body, second.not_modified) == (200, None, True)
    assert second.content_hash == first.content_hash
    assert third.body == RSS + b"\n<!-- changed -->" and not third.not_modified


def test_sends_honest_headers_and_decodes_gzip(feed_server: FeedServer) -> None:
    feed_server.add("/rss", RSS)
    result = run(fetch_once(feed_server.url("/rss")))

    seen = feed_server.requests[0].headers
    assert seen["User-Agent"] == USER_AGENT
    assert "application/rss+xml" in seen["Accept"]
    assert "gzip" in seen["Accept-Encoding"]
    assert feed_server.responses[0]["Content-Encoding"] == "gzip"
    assert int(feed_server.responses[0]["Content-Length"]) < len(RSS)
    assert result.body == RSS
    assert result.content_type == "application/rss+xml; charset=utf-8"


@pytest.mark.parametrize(("encoding", "encode"), [
    ("gzip", lambda b: gzip.compress(b)),
    ("deflate", lambda b: zlib.compress(b)),
    ("deflate", lambda b: zlib.compress(b)[2:-4]),      # raw deflate, no zlib header
    ("identity", lambda b: b),
])
def test_compressed_bodies_are_decoded(feed_server: FeedServer, encoding: str,
                                       encode: Callable[[bytes], bytes]) -> None:
    big = RSS * 200                                     # several chunks, over 256 KiB inflated
    feed_server.add("/rss", encode(big), headers={"Content-Encoding": encoding})
    assert run(fetch_once(feed_server.url("/rss"))).body == big


# --- failures -------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "reason"), [
    (404, "not found (404 status code)"),
    (410, "gone (410 status code)"),
    (500, "server error (500 status code)"),
    (403, "forbidden (403 status code)"),
])
def test_error_status_is_a_feed_error(feed_server: FeedServer, status: int, reason: str) -> None:
    feed_server.add("/rss", b"nope", status=status)
    error = fetch_error(feed_server.url("/rss"))
    assert (error.reason, error.status, error.retry_after) == (reason, status, None)
    assert error.url == feed_server.url("/rss")


def test_429_keeps_retry_after_seconds(feed_server: FeedServer) -> None:
    feed_server.add("/rss", b"slow down", status=429, headers={"Retry-After": "120"})
    error = fetch_error(feed_server.url("/rss"))
    assert (error.reason, error.status, error.retry_after) == (
        "too many requests (429 status code)", 429, 120.0)


def test_503_keeps_retry_after_date(feed_server: FeedServer) -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(hours=1), usegmt=True)
    feed_server.add("/rss", b"", status=503, headers={"Retry-After": later})
    error = fetch_error(feed_server.url("/rss"))
    assert error.reason == "server error (503 status code)"
    assert error.retry_after is not None and 3500 < error.retry_after <= 3600


def test_redirect_is_followed(feed_server: FeedServer) -> None:
    feed_server.add("/old", redirect_to="/rss")
    feed_server.add("/rss", RSS)
    result = run(fetch_once(feed_server.url("/old")))
    assert result.body == RSS
    assert (result.url, result.final_url) == (feed_server.url("/old"), feed_server.url("/rss"))
    assert feed_server.paths() == ["/old", "/rss"]


def test_redirect_loop_is_too_many_redirects(feed_server: FeedServer) -> None:
    feed_server.add("/a", redirect_to="/b")
    feed_server.add("/b", redirect_to="/a")
    error = fetch_error(feed_server.url("/a"))
    assert error.reason == "too many redirects"
    assert len(feed_server.requests) == 6          # the first request and 5 redirects


def test_slow_server_times_out(feed_server: FeedServer) -> None:
    feed_server.add("/rss", RSS, delay=5)
    started = time.monotonic()
    error = fetch_error(feed_server.url("/rss"), total_timeout=1)
    assert error.reason == "timed out after 1 s"
    assert time.monotonic() - started < 3


def test_silent_server_hits_read_timeout(feed_server: FeedServer) -> None:
    feed_server.add("/rss", RSS, delay=5)
    error = fetch_error(feed_server.url("/rss"), read_timeout=0.5)
    assert error.reason == "timed out after 0.5 s waiting for data"


def test_trickling_server_cannot_hold_a_feed(feed_server: FeedServer) -> None:
    feed_server.add("/rss", RSS, trickle=True, compress=False)   # ~1,700 s at 2 bytes/s
    started = time.monotonic()
    error = fetch_error(feed_server.url("/rss"), read_timeout=5, total_timeout=1)
    assert error.reason == "timed out after 1 s"
    assert time.monotonic() - started < 3


@pytest.mark.parametrize("compress", [True, False])
def test_oversized_body_is_refused(feed_server: FeedServer, compress: bool) -> None:
    feed_server.add("/big", b"<rss>" + b"x" * 200_000 + b"</rss>", compress=compress)
    error = fetch_error(feed_server.url("/big"), max_bytes=100 * 1024)
    assert error.reason == "response larger than 100 KiB"


def test_gzip_bomb_stops_at_the_cap_without_inflating(feed_server: FeedServer) -> None:
    feed_server.add("/bomb", gzip_of_zeros(50 * MiB), headers={"Content-Encoding": "gzip"})
    tracemalloc.start()
    try:
        error = fetch_error(feed_server.url("/bomb"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert error.reason == "response larger than 10 MiB"
    assert peak < 20 * MiB, f"peak {peak / MiB:.1f} MiB: the bomb was inflated"


def gzip_of_zeros(size: int) -> bytes:
    """A gzip member of `size` zero bytes, built a MiB at a time (~50 KB for 50 MiB)."""
    z = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = bytes(MiB)
    return b"".join(z.compress(block) for _ in range(size // MiB)) + z.flush()


def test_unreachable_port_is_connection_refused() -> None:
    error = fetch_error(f"http://127.0.0.1:{closed_port()}/rss", connect_timeout=2)
    assert error.reason == "connection refused"
    assert error.__cause__ is not None


def closed_port() -> int:
    """A local port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/rss", "http://127.0.0.1:99999/rss", "rss"])
def test_unusable_url_is_a_feed_error(url: str) -> None:
    assert fetch_error(url).reason.startswith("invalid URL")


# --- many feeds at once -----------------------------------------------------------------------


def test_fetch_many_keeps_going_past_failures(feed_server: FeedServer) -> None:
    feed_server.add("/a", RSS)
    feed_server.add("/b", RSS + b" ")
    feed_server.add("/gone", status=410)
    reqs = [FetchRequest("a", feed_server.url("/a"), Validators()),
            FetchRequest("missing", feed_server.url("/missing"), Validators()),
            FetchRequest("refused", f"http://127.0.0.1:{closed_port()}/", Validators()),
            FetchRequest("gone", feed_server.url("/gone"), Validators()),
            FetchRequest("bug", 12345, Validators()),  # type: ignore[arg-type]
            FetchRequest("b", feed_server.url("/b"), Validators())]

    results = run(fetch_many(reqs))

    a, missing, refused, gone, bug, b = results
    assert isinstance(a, FetchResult) and a.body == RSS
    assert isinstance(b, FetchResult) and b.body == RSS + b" "
    assert isinstance(missing, FeedError) and missing.status == 404
    assert isinstance(refused, FeedError) and refused.reason == "connection refused"
    assert isinstance(gone, FeedError) and gone.status == 410
    assert isinstance(bug, FeedError) and bug.reason.startswith("unexpected error")
    assert isinstance(bug.__cause__, AttributeError)


async def fetch_many(reqs: list[FetchRequest], **options: Any) -> list[FetchResult | FeedError]:
    async with Fetcher(allow_private=LOOPBACK, **options) as fetcher:
        return await fetcher.fetch_many(reqs)


def test_per_host_limit_is_respected(feed_server: FeedServer) -> None:
    feed_server.add("/slow", RSS, delay=0.3)
    reqs = [FetchRequest(f"f{i}", feed_server.url("/slow"), Validators()) for i in range(6)]
    results = run(fetch_many(reqs, per_host=2))
    assert all(isinstance(r, FetchResult) for r in results)
    assert feed_server.max_in_flight == 2


def test_global_limit_is_respected(feed_server: FeedServer) -> None:
    feed_server.add("/slow", RSS, delay=0.3)
    reqs = [FetchRequest(f"f{i}", feed_server.url("/slow"), Validators()) for i in range(6)]
    run(fetch_many(reqs, per_host=10, max_concurrency=3))
    assert feed_server.max_in_flight == 3


def test_fetch_outside_context_is_a_bug() -> None:
    with pytest.raises(RuntimeError):
        run(Fetcher().fetch(FetchRequest("f", "http://127.0.0.1/", Validators())))


# --- backoff (pure) ---------------------------------------------------------------------------


def test_backoff_doubles_and_is_capped() -> None:
    every = timedelta(minutes=30)
    assert [backoff(n, every) for n in (0, 1, 2, 3)] == [every, every, 2 * every, 4 * every]
    assert backoff(6, every) == timedelta(hours=16)
    assert backoff(7, every) == timedelta(hours=24)
    assert backoff(10_000, every) == timedelta(hours=24)


def test_backoff_honours_a_longer_retry_after() -> None:
    every = timedelta(minutes=30)
    assert backoff(1, every, retry_after=7200) == timedelta(hours=2)
    assert backoff(3, every, retry_after=60) == timedelta(hours=2)
    assert backoff(1, every, retry_after=1e12) == timedelta(hours=24)


def test_backoff_never_shortens_a_long_interval() -> None:
    assert backoff(5, timedelta(days=2)) == timedelta(days=2)
    assert backoff(10_000, timedelta(days=1), retry_after=float("inf")) == timedelta(days=1)


def test_parse_retry_after() -> None:
    now = datetime(2025, 11, 6, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120.0
    assert parse_retry_after("Thu, 06 Nov 2025 12:01:30 GMT", now) == 90.0
    assert parse_retry_after("Thu, 06 Nov 2025 11:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None
