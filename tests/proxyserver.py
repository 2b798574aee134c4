"""Tiny real proxies on 127.0.0.x for the per-feed `proxy:` tests: an HTTP proxy (a GET in
absolute form, or CONNECT for a tunnel) and a SOCKS5 one (no authentication, or a user and
password). Each records what it was asked to reach; every wait is bounded (10 s idle), and
`stop()` closes everything.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from socketserver import BaseRequestHandler, ThreadingTCPServer

IDLE = 10.0


class _Server(ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    proxy: Proxy


@dataclass
class Proxy:
    """What a test sees of a running proxy: its URL and each "host:port" asked for."""

    kind: str
    host: str
    login: tuple[str, str] | None
    port: int = 0
    targets: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        auth = f"{self.login[0]}:{self.login[1]}@" if self.login else ""
        return f"{self.kind}://{auth}{self.host}:{self.port}"


@contextmanager
def ProxyServer(kind: str, host: str = "127.0.0.1",
                login: tuple[str, str] | None = None) -> Iterator[Proxy]:
    """An HTTP ("http") or SOCKS5 ("socks5") proxy on `host`, for the `with` block."""
    server = _Server((host, 0), _HttpProxy if kind == "http" else _Socks5)
    server.proxy = Proxy(kind, host, login, port=int(server.server_address[1]))
    thread = threading.Thread(target=server.serve_forever, daemon=True,
                              kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server.proxy
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _relay(a: socket.socket, b: socket.socket) -> None:
    """Bytes both ways until either side closes or IDLE seconds pass without any."""
    while True:
        ready, _, _ = select.select([a, b], [], [], IDLE)
        if not ready:
            return
        for src in ready:
            data = src.recv(65536)
            if not data:
                return
            (b if src is a else a).sendall(data)


def _read_head(sock: socket.socket) -> bytes:
    """An HTTP request's line and headers (up to the blank line), at most 64 KiB."""
    head = b""
    while b"\r\n\r\n" not in head and len(head) < 65536:
        chunk = sock.recv(4096)
        if not chunk:
            break
        head += chunk
    return head


class _HttpProxy(BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        self.request.settimeout(IDLE)
        head = _read_head(self.request)
        line, _, rest = head.partition(b"\r\n")
        method, target, _version = line.decode("latin-1").split(" ", 2)
        if method == "CONNECT":
            host, port = target.rsplit(":", 1)
            self.server.proxy.targets.append(target)
            with socket.create_connection((host, int(port)), timeout=IDLE) as upstream:
                self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                _relay(self.request, upstream)
            return
        # absolute form: GET http://host:port/path HTTP/1.1 → origin form to the server
        hostport, _, path = target.removeprefix("http://").partition("/")
        host, _, port = hostport.partition(":")
        self.server.proxy.targets.append(hostport)
        headers = b"\r\n".join(h for h in rest.split(b"\r\n")
                               if not h.lower().startswith((b"proxy-", b"connection")))
        with socket.create_connection((host, int(port or 80)), timeout=IDLE) as upstream:
            upstream.sendall(f"{method} /{path} HTTP/1.1\r\n".encode() + headers.rstrip(b"\r\n")
                             + b"\r\nConnection: close\r\n\r\n")
            _relay(self.request, upstream)


class _Socks5(BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(IDLE)
        _version, count = sock.recv(2)
        methods = sock.recv(count)
        login = self.server.proxy.login
        if login is None or 2 not in methods:
            sock.sendall(b"\x05\x00" if login is None else b"\x05\xff")
            if login is not None:
                return
        else:
            sock.sendall(b"\x05\x02")
            if not self._authenticated(sock, login):
                return
        target = self._target(sock)
        self.server.proxy.targets.append(f"{target[0]}:{target[1]}")
        with contextlib.ExitStack() as stack:
            upstream = stack.enter_context(socket.create_connection(target, timeout=IDLE))
            sock.sendall(b"\x05\x00\x00\x01" + socket.inet_aton("0.0.0.0") + b"\x00\x00")
            _relay(sock, upstream)

    @staticmethod
    def _authenticated(sock: socket.socket, login: tuple[str, str]) -> bool:
        _ver, ulen = sock.recv(2)
        user = sock.recv(ulen).decode()
        (plen,) = sock.recv(1)
        password = sock.recv(plen).decode()
        ok = (user, password) == login
        sock.sendall(b"\x01\x00" if ok else b"\x01\x01")
        return ok

    @staticmethod
    def _target(sock: socket.socket) -> tuple[str, int]:
        _ver, _cmd, _rsv, kind = sock.recv(4)
        if kind == 1:
            host = socket.inet_ntoa(sock.recv(4))
        elif kind == 3:
            (length,) = sock.recv(1)
            host = sock.recv(length).decode("idna")
        else:
            host = socket.inet_ntop(socket.AF_INET6, sock.recv(16))
        (port,) = struct.unpack("!H", sock.recv(2))
        return host, port
