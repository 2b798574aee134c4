"""Connections for the fetch stage: checked, pinned, and cut at the request's deadline.

httpx opens connections through httpcore's network backend; this one (issue 16)

- resolves each host once, checks every address against the `AddressPolicy` of the feed
  being fetched, and connects to the address it checked: no second DNS lookup that a
  rebinding name server could answer differently. The URL's host name stays the Host
  header and the TLS server name (SNI, certificate check);
- checks a pooled connection again each time a request uses it: a keep-alive connection
  opened for one feed is never a way around another feed's rule;
- makes every socket operation wait at most what is left of the request's total deadline,
  and registers the sockets in use with the request's `Attempt`, so `Attempt.cut`, called
  from outside the request when the deadline passes, shuts them down wherever the request
  is waiting (TLS handshake, a status line dripped a byte at a time, the body);
- goes through a feed's own `proxy` (HTTP or SOCKS5) when it names one (issue 18): then the
  proxy is the one host connected to, so its address is what is checked (a private one must
  be named in WATCHER_ALLOW_PRIVATE) and pinned; the proxy resolves the feed's host, and
  fetch.py checks what each hop's URL shows itself (an address literal, localhost).

The request runs on a fetch thread; the `Attempt` it belongs to is that thread's current
one (`running`).
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote, urlsplit

import httpcore
import httpx

from watcher.ingest.addresses import Address, AddressPolicy

_local = threading.local()


class AddressRefused(Exception):
    """A feed's request would reach an address its policy refuses; `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Attempt:
    """One feed's request, redirects included: its deadline, its address rule, its sockets."""

    def __init__(self, url: str, policy: AddressPolicy, seconds: float) -> None:
        self.feed_host = urlsplit(url).hostname or ""
        self.policy = policy
        self.started = time.monotonic()
        self.deadline = self.started + seconds
        self.expired = False
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()

    def overdue(self) -> bool:
        """The deadline has passed (or the request was cut)."""
        return self.expired or time.monotonic() >= self.deadline

    def wait(self, timeout: float | None, error: type[Exception]) -> float:
        """How long one socket operation may wait: its own timeout, within the deadline."""
        left = self.deadline - time.monotonic()
        if self.expired or left <= 0:
            raise error("the request's deadline has passed")
        return left if timeout is None else min(timeout, left)

    def addresses(self, host: str, port: int, proxy: bool = False) -> list[Address]:
        """The host's addresses this feed may connect to, from one lookup; AddressRefused
        if there are none (the first refused address gives the reason). `proxy`: the host
        is the feed's proxy, checked as one."""
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        found = list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0])
                                   for info in infos))
        if not found:
            raise httpcore.ConnectError(f"no address for {host}")
        allowed = [ip for ip in found if self.refusal(host, ip, proxy) is None]
        if not allowed:
            raise AddressRefused(self.refusal(host, found[0], proxy) or "refused")
        return allowed

    def refusal(self, host: str, ip: Address, proxy: bool) -> str | None:
        """Why this request may not connect to `host` at `ip` (a feed's host or its proxy)."""
        if proxy:
            return self.policy.proxy_refusal(host, ip)
        return self.policy.refusal(self.feed_host, host, ip)

    def use(self, stream: GuardedStream) -> None:
        """A connection serves this request now: check it, and let `cut` reach its socket."""
        reason = self.refusal(stream.host, stream.ip, stream.proxy)
        if reason is not None:
            raise AddressRefused(reason)
        with self._lock:
            if self.expired:
                raise httpcore.ReadTimeout("the request's deadline has passed")
            self._sockets.add(stream.socket)

    def release(self) -> None:
        """A hop is done: its connection may serve another request, which `cut` must spare."""
        with self._lock:
            self._sockets.clear()

    def cut(self) -> None:
        """The deadline has passed: end every wait of this request now, from any thread."""
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                try:
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)   # wakes a blocked recv
                except OSError:
                    pass
            self._sockets.clear()


@contextmanager
def running(attempt: Attempt) -> Iterator[Attempt]:
    """Make `attempt` this thread's current request while the block runs."""
    _local.attempt = attempt
    try:
        yield attempt
    finally:
        _local.attempt = None


def current() -> Attempt:
    attempt: Attempt | None = getattr(_local, "attempt", None)
    if attempt is None:
        raise RuntimeError("a guarded connection used outside transport.running()")
    return attempt


class GuardedStream(httpcore.NetworkStream):
    """httpcore's socket stream, used only within the current request's rule and deadline."""

    def __init__(self, inner: httpcore.NetworkStream, host: str, ip: Address,
                 proxy: bool = False) -> None:
        self.inner, self.host, self.ip, self.proxy = inner, host, ip, proxy

    @property
    def socket(self) -> socket.socket:
        sock: socket.socket = self.inner.get_extra_info("socket")
        return sock

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        attempt = current()
        attempt.use(self)
        return self.inner.read(max_bytes, attempt.wait(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        attempt = current()
        attempt.use(self)
        self.inner.write(buffer, attempt.wait(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self.inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        attempt = current()
        attempt.use(self)
        tls = self.inner.start_tls(ssl_context, server_hostname,
                                   attempt.wait(timeout, httpcore.ConnectTimeout))
        return GuardedStream(tls, self.host, self.ip, self.proxy)

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """Connects to an address the current request's policy admits, found by one lookup;
    `proxy`: every connection goes to the feed's proxy, checked as one."""

    def __init__(self, proxy: bool = False) -> None:
        self._plain = httpcore.SyncBackend()
        self.proxy = proxy

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        attempt = current()
        error: Exception = httpcore.ConnectError(f"no address for {host}")
        for ip in attempt.addresses(host, port, self.proxy):
            try:     # an address literal: create_connection does no lookup of its own
                stream = self._plain.connect_tcp(
                    str(ip), port, attempt.wait(timeout, httpcore.ConnectTimeout),
                    local_address, socket_options)
            except httpcore.ConnectError as exc:
                error = exc
                continue
            return GuardedStream(stream, host, ip, self.proxy)
        raise error

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("feeds are not fetched over Unix sockets")


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport over the guarded backend (HTTP/1.1, certificates checked), straight
    to the feed's host, or through the feed's own proxy (http:// or socks5://)."""

    def __init__(self, limits: httpx.Limits, verify: ssl.SSLContext | bool = True,
                 proxy: str | None = None) -> None:
        super().__init__(verify=verify, http1=True, http2=False, limits=limits)
        # httpx takes no network backend; its pool is rebuilt with ours (httpcore's public API).
        pool: dict[str, Any] = {
            "ssl_context": httpx.create_ssl_context(verify=verify),
            "max_connections": limits.max_connections,
            "max_keepalive_connections": limits.max_keepalive_connections,
            "keepalive_expiry": limits.keepalive_expiry, "http1": True, "http2": False,
            "network_backend": GuardedBackend(proxy=proxy is not None)}
        if proxy is None:
            self._pool = httpcore.ConnectionPool(**pool)
        else:
            self._pool = proxy_pool(proxy, pool)


def proxy_pool(proxy: str, pool: dict[str, Any]) -> httpcore.ConnectionPool:
    """httpcore's pool through an HTTP proxy (CONNECT for https) or a SOCKS5 one (socksio,
    from httpx's [socks] extra); the feed's host name goes to the proxy, which resolves it
    (socks5 and socks5h alike). The URL was checked with the config (config/models.py)."""
    parts = urlsplit(proxy)
    socks = parts.scheme in ("socks5", "socks5h")
    host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname
    url = f"{'socks5' if socks else 'http'}://{host}:{parts.port}"
    auth = (unquote(parts.username), unquote(parts.password or "")) if parts.username else None
    if socks:
        return httpcore.SOCKSProxy(proxy_url=url, proxy_auth=auth, **pool)
    return httpcore.HTTPProxy(proxy_url=url, proxy_auth=auth, **pool)
