"""Fetch stage: download feeds politely and defensively (the one I/O edge before parsing).

One shared httpx.Client per `Fetcher` (connection reuse), conditional GET from the
validators of the last good poll, a cap on decompressed bytes (a gzip bomb stops at the cap
instead of filling memory), a global and a per-host limit on concurrent requests.

One monotonic deadline per request covers DNS, connect, TLS, headers and body: every wait
is bounded by what is left of it, and when it passes the event loop cuts the request's
sockets from outside (watcher/ingest/transport.py), so a server dripping its status line a byte
every few seconds cannot hold a feed, or the job lock, past WATCHER_FETCH_TIMEOUT (issue 16).
Every hop's address is checked against WATCHER_ALLOW_PRIVATE and the connection pinned to
it; redirects are followed here, so a feed URL's credentials go to the feed's own origin only.

The requests run on a thread pool with the sync client, behind the same async interface:
on loopback httpx.AsyncClient costs ~2.9 ms of CPU a request at 16-32 in flight against
~0.6 ms for the sync client (benchmarks/README.md; encode/httpx#3215), and a warm cycle of
1,000 unchanged feeds is little else than those requests. Every expected failure becomes a
`FeedError` with a plain reason that the feed's state shows to analysts ("not found (404
status code)", "timed out after 30 s").
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import socket
import ssl
import time
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

import httpx

from watcher import USER_AGENT
from watcher.config import Feed
from watcher.errors import FeedError, redact
from watcher.ingest.addresses import NO_PRIVATE, AddressPolicy
from watcher.ingest.response import (
    MiB,
    origin,
    raise_for_status,
    read_capped,
    redirect_target,
    without_credentials,
)
from watcher.ingest.threads import Threads
from watcher.ingest.transport import AddressRefused, Attempt, GuardedTransport, running

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=24)
ACCEPT = ("application/rss+xml, application/atom+xml, application/feed+json, "
          "application/rdf+xml;q=0.9, application/xml;q=0.9, text/xml;q=0.9, "
          "application/json;q=0.8, */*;q=0.5")
# Only what we can inflate with a bounded decompressor; brotli/zstd would need another library.
ACCEPT_ENCODING = "gzip, deflate"
CUT_GRACE = 1.0      # seconds a cut request gets to end before its feed is given up on


@dataclass(frozen=True)
class Validators:
    """What we remember of a feed from its last successful poll, to ask 'anything new?'."""

    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None    # sha256 of the last body, for servers ignoring validators


@dataclass(frozen=True)
class FetchRequest:
    """One feed to poll now."""

    feed_id: str
    url: str
    validators: Validators = Validators()
    # indicators.yaml's per-feed `headers` (sent to the feed's own origin only, like the
    # URL's credentials), `user_agent` (every hop) and `proxy` (every connection).
    headers: tuple[tuple[str, str], ...] = ()
    user_agent: str | None = None
    proxy: str | None = None


@dataclass(frozen=True)
class FetchResult:
    """A successful poll: a new body, or `not_modified` with `body=None`."""

    feed_id: str
    url: str
    final_url: str             # after redirects: store it if the feed moved for good
    status: int                # 200 or 304
    body: bytes | None         # None when nothing changed (304, or 200 with the same sha256)
    etag: str | None
    last_modified: str | None
    content_type: str | None
    content_hash: str | None
    elapsed: float             # seconds, for feed health
    not_modified: bool

    @property
    def validators(self) -> Validators:
        """What to remember for the next conditional GET."""
        return Validators(self.etag, self.last_modified, self.content_hash)


def request_for(feed: Feed, validators: Validators = Validators()) -> FetchRequest:
    """A configured feed's request: its URL (credentials included), its own headers,
    User-Agent and proxy."""
    return FetchRequest(feed.id, feed.url, validators, headers=tuple(feed.headers.items()),
                        user_agent=feed.user_agent, proxy=feed.proxy)


class Fetcher:
    """Polls feeds over one shared client; use `async with Fetcher() as f: await f.fetch(req)`."""

    def __init__(self, *, connect_timeout: float = 10.0, read_timeout: float = 30.0,
                 total_timeout: float = 60.0, max_bytes: int = 10 * MiB, max_redirects: int = 5,
                 max_concurrency: int = 16, per_host: int = 4,
                 user_agent: str = USER_AGENT, allow_private: AddressPolicy = NO_PRIVATE,
                 verify: ssl.SSLContext | bool = True, accept: str = ACCEPT) -> None:
        self.allow_private = allow_private       # WATCHER_ALLOW_PRIVATE; none by default
        self.verify = verify
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.total_timeout = total_timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.max_concurrency = max_concurrency
        self.per_host = per_host
        self.user_agent = user_agent
        self.accept = accept                     # feeds by default; article pages for enrichment
        self._clients: dict[str | None, httpx.Client] = {}    # one a proxy (None: direct)
        self._pool: Threads | None = None
        self._global = asyncio.Semaphore(max_concurrency)
        self._hosts: dict[str, asyncio.Semaphore] = {}

    async def __aenter__(self) -> Self:
        # Fresh semaphores per `async with`: they belong to the event loop that runs them.
        self._global = asyncio.Semaphore(self.max_concurrency)
        self._hosts = {}
        self._clients = {None: self._new_client(None)}
        self._pool = Threads(self.max_concurrency, "fetch")
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if self._pool is not None:
            # A request still running (its caller was cancelled) ends by its own deadline,
            # or with the process: nothing waits for it.
            self._pool.shutdown()
            self._pool = None
        for client in self._clients.values():
            client.close()
        self._clients = {}

    def _new_client(self, proxy: str | None) -> httpx.Client:
        """A client over our transport. No proxy or .netrc from the environment (trust_env):
        every connection is one the address policy checked (a proxy only when the feed names
        one), and no credential is added that the feed URL does not hold."""
        limits = httpx.Limits(max_connections=self.max_concurrency,
                              max_keepalive_connections=self.max_concurrency)
        return httpx.Client(
            transport=GuardedTransport(limits, self.verify, proxy), follow_redirects=False,
            trust_env=False, timeout=self._timeout(self.total_timeout),
            headers={"User-Agent": self.user_agent, "Accept": self.accept,
                     "Accept-Encoding": ACCEPT_ENCODING},
        )

    async def fetch(self, req: FetchRequest) -> FetchResult:
        """Poll one feed; raises FeedError with a plain reason when it fails."""
        client = self._client_for(req)
        async with self._slot(_host(req.url)):
            assert self._pool is not None
            attempt = Attempt(req.url, self.allow_private, self.total_timeout)
            timer = asyncio.get_running_loop().call_later(self.total_timeout, attempt.cut)
            job = asyncio.wrap_future(self._pool.submit(self._fetch_now, client, req, attempt))
            try:
                await asyncio.wait({job}, timeout=self.total_timeout + CUT_GRACE)
            finally:
                timer.cancel()
                if not job.done():    # stuck where no socket can be cut (a DNS lookup), or
                    attempt.cut()     # the poll is stopping: the thread ends on its own
                    job.add_done_callback(_forget)
            if not job.done():
                raise FeedError(req.url, f"timed out after {_seconds(self.total_timeout)}")
            result: FetchResult = job.result()
            return result

    def _fetch_now(self, client: httpx.Client, req: FetchRequest, attempt: Attempt) -> FetchResult:
        """One request on a worker thread, every failure mapped to a FeedError."""
        with running(attempt):
            try:
                return self._get(client, req, attempt)
            except AddressRefused as exc:
                raise FeedError(req.url, exc.reason) from exc
            except (TimeoutError, httpx.HTTPError, httpx.InvalidURL, zlib.error) as exc:
                if attempt.overdue():         # cut short by the deadline, whatever broke
                    late = f"timed out after {_seconds(self.total_timeout)}"
                    raise FeedError(req.url, late) from exc
                reason = self._explain(exc)
                if req.proxy and isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
                    reason = f"the proxy: {reason}"      # the one host we connect to
                raise FeedError(req.url, reason) from exc

    def _timeout(self, remaining: float) -> httpx.Timeout:
        """No single wait may outlast what is left of the request's total deadline."""
        connect, read = min(self.connect_timeout, remaining), min(self.read_timeout, remaining)
        return httpx.Timeout(connect=connect, read=read, write=read, pool=connect)

    async def fetch_many(self, reqs: list[FetchRequest]) -> list[FetchResult | FeedError]:
        """Poll feeds concurrently; one feed's failure, even a bug, never stops the others."""
        return list(await asyncio.gather(*(self.fetch_or_error(r) for r in reqs)))

    async def fetch_or_error(self, req: FetchRequest) -> FetchResult | FeedError:
        """Poll one feed; its failure, even a bug, is returned as a FeedError, never raised."""
        try:
            return await self.fetch(req)
        except FeedError as exc:
            return exc
        except Exception as exc:  # a bug in one feed's path must not end the cycle
            log.exception("unexpected error fetching %s", redact(req.url))
            error = FeedError(req.url, f"unexpected error: {type(exc).__name__}: {exc}")
            error.__cause__ = exc
            return error

    def _client_for(self, req: FetchRequest) -> httpx.Client:
        """The shared client, or the one through the feed's proxy (made on first use)."""
        if not self._clients:
            raise RuntimeError("Fetcher used outside `async with`")
        if req.proxy not in self._clients:
            try:
                self._clients[req.proxy] = self._new_client(req.proxy)
            except ImportError as exc:    # socksio, httpx's [socks] extra (a dependency)
                raise FeedError(req.url, "a socks5:// proxy needs the socksio package: pip "
                                         "install 'httpx[socks]'") from exc
        return self._clients[req.proxy]

    @asynccontextmanager
    async def _slot(self, host: str) -> AsyncIterator[None]:
        """Host slot first, then a global one: a feed queued behind its host holds no global
        slot."""
        per_host = self._hosts.setdefault(host, asyncio.Semaphore(self.per_host))
        async with per_host, self._global:
            yield

    def _get(self, client: httpx.Client, req: FetchRequest, attempt: Attempt) -> FetchResult:
        """The feed, following redirects; the URL's credentials only go to its own origin."""
        url, auth = without_credentials(req.url)
        home = origin(url)
        for _hop in range(self.max_redirects + 1):
            at_home = origin(url) == home       # credentials and headers to their origin only
            if req.proxy:
                _check_through_proxy(attempt, url)
            with client.stream("GET", url, headers=_headers(req, at_home),
                               auth=auth if at_home else None,
                               timeout=self._timeout(self.total_timeout)) as response:
                try:
                    target = redirect_target(req.url, url, response)
                    if target is None:
                        return self._answer(req, response, attempt)
                finally:
                    attempt.release()   # before the connection goes back to the pool
            url = target
        raise FeedError(req.url, "too many redirects")

    def _answer(self, req: FetchRequest, response: httpx.Response, attempt: Attempt) -> FetchResult:
        if response.status_code == 304:
            return _not_modified(req, response, attempt.started)
        raise_for_status(req.url, response)
        body = read_capped(req.url, response, self.max_bytes, attempt)
        return _result(req, response, body, attempt.started)

    def _explain(self, exc: Exception) -> str:
        """httpx's exception → the reason an operator reads on the feed."""
        if isinstance(exc, httpx.InvalidURL):
            return f"invalid URL: {exc}"
        if isinstance(exc, zlib.error):
            return f"could not decompress the body: {exc}"
        if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
            return f"connection timed out after {_seconds(self.connect_timeout)}"
        if isinstance(exc, httpx.TimeoutException):
            return f"timed out after {_seconds(self.read_timeout)} waiting for data"
        if isinstance(exc, httpx.ProxyError):
            return f"the proxy refused: {exc}"
        if isinstance(exc, httpx.ConnectError):
            return _connect_reason(exc)
        if isinstance(exc, httpx.UnsupportedProtocol):
            return f"invalid URL: {exc}"
        if isinstance(exc, httpx.RemoteProtocolError):
            return f"protocol error: {exc}"
        return f"request failed: {exc or type(exc).__name__}"


def backoff(failures: int, interval: timedelta, retry_after: float | None = None) -> timedelta:
    """interval × 2^(failures-1), or a longer Retry-After; capped at 24 h so no feed is lost."""
    cap = max(MAX_BACKOFF, interval).total_seconds()
    if failures <= 0:
        return interval
    seconds = interval.total_seconds() * 2.0 ** min(failures - 1, 64)
    if retry_after is not None and retry_after > seconds:
        seconds = retry_after
    return timedelta(seconds=min(seconds, cap))


def _host(url: str) -> str:
    """The per-host key; a URL we would never poll is refused before it takes a slot."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError as exc:
        raise FeedError(url, f"invalid URL: {exc}") from exc
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise FeedError(url, "invalid URL: only http:// and https:// feeds are polled")
    return parts.hostname.lower()


def _headers(req: FetchRequest, at_home: bool) -> dict[str, str]:
    """One hop's own headers: the feed's User-Agent; at its origin, its configured headers
    (they may carry a token) and the validators of a conditional GET."""
    headers = dict(req.headers) if at_home else {}
    if req.user_agent:
        headers["User-Agent"] = req.user_agent
    v = req.validators
    if v.etag:
        headers["If-None-Match"] = v.etag
    if v.last_modified:
        headers["If-Modified-Since"] = v.last_modified
    return headers


def _check_through_proxy(attempt: Attempt, url: str) -> None:
    """Through a proxy, the proxy resolves names and connects; what the URL itself shows (an
    address literal, localhost) is checked against WATCHER_ALLOW_PRIVATE all the same."""
    reason = attempt.policy.named_refusal(attempt.feed_host, urlsplit(url).hostname or "")
    if reason is not None:
        raise AddressRefused(reason)


def _not_modified(req: FetchRequest, response: httpx.Response, started: float) -> FetchResult:
    v = req.validators
    return FetchResult(
        feed_id=req.feed_id, url=req.url, final_url=str(response.url), status=304, body=None,
        etag=response.headers.get("ETag") or v.etag,
        last_modified=response.headers.get("Last-Modified") or v.last_modified,
        content_type=response.headers.get("Content-Type"), content_hash=v.content_hash,
        elapsed=time.monotonic() - started, not_modified=True)


def _result(req: FetchRequest, response: httpx.Response, body: bytes,
            started: float) -> FetchResult:
    digest = hashlib.sha256(body).hexdigest()
    unchanged = digest == req.validators.content_hash
    return FetchResult(
        feed_id=req.feed_id, url=req.url, final_url=str(response.url),
        status=response.status_code, body=None if unchanged else body,
        etag=response.headers.get("ETag"), last_modified=response.headers.get("Last-Modified"),
        content_type=response.headers.get("Content-Type"), content_hash=digest,
        elapsed=time.monotonic() - started, not_modified=unchanged)


def _connect_reason(exc: httpx.ConnectError) -> str:
    """Name the usual causes plainly; the chained exception keeps the details."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "host not found"
        if isinstance(cause, ssl.SSLError):
            return f"TLS error: {cause.reason or cause}"
        cause = cause.__cause__ or cause.__context__
    text = str(exc)
    if "refused" in text.lower():
        return "connection refused"
    return f"connection failed: {text or type(exc).__name__}"


def _forget(job: asyncio.Future[Any]) -> None:
    """An abandoned request's outcome: nobody waits for it any more."""
    if not job.cancelled():
        job.exception()


def _seconds(value: float) -> str:
    return f"{value:g} s"
