"""A real HTTP feed server on 127.0.0.1 for integration tests: validators, gzip and faults.

    with FeedServer() as server:
        server.add("/rss", body)
        url = server.url("/rss")

or the function-scoped pytest fixture `feed_server`. Every wait inside the server is bounded
and ends at shutdown, so a test that gives up early never leaves a thread writing.
"""

from __future__ import annotations

import gzip
import hashlib
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import NamedTuple, Self

import pytest

HOST = "127.0.0.1"
LAST_MODIFIED = "Wed, 05 Nov 2025 10:00:00 GMT"
TRICKLE_PAUSE = 0.5


class Seen(NamedTuple):
    """One request as the server saw it, with the status it answered."""

    method: str
    path: str
    status: int
    headers: dict[str, str]


@dataclass
class Route:
    """How the server answers one path."""

    body: bytes = b""
    content_type: str = "application/rss+xml; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    etag: bool = True
    last_modified: str | None = None
    delay: float = 0.0
    trickle: bool = False
    redirect_to: str | None = None
    compress: bool = True


class FeedServer:
    """ThreadingHTTPServer on an OS-chosen port, serving registered routes from a thread."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Seen] = []
        self.responses: list[dict[str, str]] = []   # response headers, same order as requests
        self.in_flight = 0
        self.max_in_flight = 0
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._httpd = _Server((HOST, 0), _Handler)
        self._httpd.feeds = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True,
                                        kwargs={"poll_interval": 0.05})

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def url(self, path: str) -> str:
        """The absolute URL of a path on this server."""
        return f"http://{HOST}:{self.port}{path}"

    def add(self, path: str, body: bytes = b"", *,
            content_type: str = "application/rss+xml; charset=utf-8", status: int = 200,
            headers: dict[str, str] | None = None, etag: bool = True,
            last_modified: str | None = None, delay: float = 0.0, trickle: bool = False,
            redirect_to: str | None = None, compress: bool = True) -> None:
        """Serve `body` at `path`; the keywords choose validators and fault modes."""
        self.routes[path] = Route(body, content_type, status, dict(headers or {}), etag,
                                  last_modified, delay, trickle, redirect_to, compress)

    def paths(self) -> list[str]:
        """The paths requested so far, in order."""
        return [seen.path for seen in self.requests]

    def statuses(self, path: str) -> list[int]:
        """The statuses answered for one path, in order."""
        return [seen.status for seen in self.requests if seen.path == path]

    def _enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self, seen: Seen, response_headers: dict[str, str]) -> None:
        """Called before the response is written, so a client never sees an unrecorded answer."""
        with self._lock:
            self.in_flight -= 1
            self.requests.append(seen)
            self.responses.append(response_headers)


class _Server(ThreadingHTTPServer):
    """Daemon handler threads; a client hanging up mid-answer is expected, not a traceback."""

    daemon_threads = True
    feeds: FeedServer

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class _Handler(BaseHTTPRequestHandler):
    """Answers from the FeedServer's routes; HTTP/1.1 so connections are reused."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test's assertions use `requests`, not stderr."""

    def do_GET(self) -> None:
        feeds = self.server.feeds
        feeds._enter()
        self._recorded = False
        try:
            self._answer(feeds, feeds.routes.get(self.path.split("?")[0]))
        finally:
            self._record(500, {})

    def _record(self, status: int, headers: dict[str, str]) -> None:
        if not self._recorded:
            self._recorded = True
            seen = Seen("GET", self.path, status, dict(self.headers.items()))
            self.server.feeds._leave(seen, headers)

    def _answer(self, feeds: FeedServer, route: Route | None) -> None:
        if route is None:
            self._send(404, {"Content-Type": "text/plain"}, b"no such feed\n")
            return
        if route.delay and feeds.stopping.wait(route.delay):
            self._send(503, {}, b"")
            return
        if route.redirect_to is not None:
            self._send(302, {"Location": route.redirect_to}, b"")
            return
        headers = {"Content-Type": route.content_type, **route.headers}
        validators = self._validators(route)
        headers.update(validators)
        if route.status == 200 and self._not_modified(validators):
            self._send(304, validators, b"")
            return
        body = route.body
        if (route.compress and body and "Content-Encoding" not in headers
                and "gzip" in self.headers.get("Accept-Encoding", "")):
            body = gzip.compress(body, mtime=0)
            headers["Content-Encoding"] = "gzip"
        self._send(route.status, headers, body, trickle=route.trickle)

    def _validators(self, route: Route) -> dict[str, str]:
        found = {}
        if route.etag:
            found["ETag"] = '"' + hashlib.sha256(route.body).hexdigest()[:16] + '"'
        if route.last_modified:
            found["Last-Modified"] = route.last_modified
        return found

    def _not_modified(self, validators: dict[str, str]) -> bool:
        """If-None-Match wins over If-Modified-Since, as RFC 9110 says."""
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            return "ETag" in validators and validators["ETag"] in [t.strip() for t in
                                                                   inm.split(",")]
        ims, lm = self.headers.get("If-Modified-Since"), validators.get("Last-Modified")
        if ims is None or lm is None:
            return False
        try:
            return parsedate_to_datetime(lm) <= parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False

    def _send(self, status: int, headers: dict[str, str], body: bytes,
              trickle: bool = False) -> None:
        headers = {**headers, "Content-Length": str(len(body))}
        self._record(status, headers)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self._write(body, trickle)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True   # the client gave up: that is the test's point

    def _write(self, body: bytes, trickle: bool) -> None:
        if not trickle:
            self.wfile.write(body)
            return
        for i in range(len(body)):      # bounded by the body, and stops at shutdown
            if self.server.feeds.stopping.wait(TRICKLE_PAUSE):
                break
            self.wfile.write(body[i:i + 1])
            self.wfile.flush()
        self.close_connection = True


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A fresh feed server per test, shut down afterwards."""
    with FeedServer() as server:
        yield server

