"""Two guards around one SMTP send (issue 16): a total deadline, and no secret in a reply.

smtplib's timeout bounds each socket operation, not the send: a server answering one byte
every 10 s held a send (and the job lock behind it) for 241 s with a 30 s timeout. Here a
timer shuts the connection down when the send's time is up, from outside any read, which
ends whatever smtplib is waiting for (greeting, TLS handshake, a reply, the data).

A server may echo what it was sent: a 535 reply quoting the AUTH PLAIN line puts the
password, base64-encoded, into the error that is logged and stored in the outbox. `redact`
removes the password in every form it can take on the wire before anything keeps a reply.
"""

from __future__ import annotations

import base64
import binascii
import re
import smtplib
import socket
import threading
import time
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote, quote_plus

_B64_TOKEN = re.compile(r"[A-Za-z0-9+/]{8,}={0,2}")
HIDDEN = "***"


class Deadline:
    """One send's total time. `watch` registers each socket as it is opened; when the time
    is up every watched connection is shut down (a dup of its descriptor is kept, so the
    TLS layer taking over the socket object does not hide it from the timer)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.expired = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> Self:
        self._timer.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._timer.cancel()
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()

    def over(self) -> bool:
        """Whether the send ran out of time: cut by the timer, or a wait whose timeout ends
        with the deadline (`left`) gave up first, a moment before it."""
        return self.expired or time.monotonic() >= self.end - 0.1

    def left(self, per_operation: float) -> float:
        """A per-operation timeout that cannot outlast the deadline."""
        return max(0.001, min(per_operation, self.end - time.monotonic()))

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            if self.expired:
                sock.close()
                raise TimeoutError("the send's deadline passed")
            self._sockets.append(sock.dup())

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass            # already closed by the other side: nothing to cut


class _Watched(smtplib.SMTP):
    """smtplib.SMTP whose connection a Deadline can cut."""

    deadline: Deadline

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock: socket.socket = super()._get_socket(host, port, self.deadline.left(timeout))  # type: ignore[misc]
        self.deadline.watch(sock)
        return sock


class _WatchedSsl(smtplib.SMTP_SSL, _Watched):
    """smtplib.SMTP_SSL over _Watched: the plain socket is watched before the handshake."""


def open_smtp(host: str, port: int, *, tls: bool, timeout: float, deadline: Deadline,
              context: Any = None) -> smtplib.SMTP:
    """Connect under `deadline` (implicit TLS if `tls`); the server's greeting is read."""
    smtp: _Watched = (_WatchedSsl(timeout=timeout, context=context) if tls
                      else _Watched(timeout=timeout))
    smtp.deadline = deadline
    smtp._host = host  # type: ignore[attr-defined]  # as smtplib sets it when given the host: TLS checks this name
    code, reply = smtp.connect(host, port)
    if code != 220:
        smtp.close()
        raise smtplib.SMTPConnectError(code, reply)
    return smtp


def redact(text: str, user: str | None, password: str | None) -> str:
    """`text` without the password: plain, URL-quoted, base64 alone or inside an AUTH
    PLAIN or LOGIN exchange, or any base64 token that decodes to something holding it."""
    if not password:
        return text
    plain = [password, quote(password, safe=""), quote(password), quote_plus(password)]
    login = user or ""
    encoded = [_b64(password), _b64(f"\0{login}\0{password}"), _b64(f"{login}\0{password}")]
    for form in sorted(set(plain + encoded), key=len, reverse=True):
        text = text.replace(form, HIDDEN)
    secret = password.encode()
    return _B64_TOKEN.sub(lambda m: HIDDEN if secret in _unb64(m.group()) else m.group(), text)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _unb64(token: str) -> bytes:
    """What a base64-looking token decodes to (b"" if it is not base64 after all)."""
    try:
        return base64.b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return b""
