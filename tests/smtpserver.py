"""A real SMTP server on 127.0.0.1 for delivery tests (aiosmtpd in a thread).

Tests hold a reply back (`server.hold_rcpt = True`, `server.hold_data = True`; released by
setting them False, or after 30 s) to kill a client at a chosen moment. Tests switch it to
refuse mail (`server.reply = "550 mailbox unavailable"` at DATA,
`server.rcpt_reply = "451 try later"` at RCPT), require a login (`SmtpServer(users={...})`),
or take it down and up again on the same port (`server.stop()`, `server.start()`).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, Self

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

HOST = "127.0.0.1"
MAX_MESSAGES = 100          # a runaway test fails loudly instead of eating memory
MAX_SIZE = 1024 * 1024
HOLD_LIMIT = 30.0           # a held reply is released after this, whatever the test does


@dataclass(frozen=True)
class Received:
    """One message as the server got it: envelope plus the parsed email."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    login: str | None        # the user that authenticated, if any


class _Handler:
    """aiosmtpd handler hooks: refuse on demand, else keep the message."""

    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(self, smtp: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        self.server.rcpt_seen.set()
        await _hold(lambda: self.server.hold_rcpt)
        if self.server.rcpt_reply:
            return self.server.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, smtp: SMTP, session: Session, envelope: Envelope) -> str:
        if self.server.reply:
            return self.server.reply
        if len(self.server.messages) >= MAX_MESSAGES:
            return "552 test server is full"
        self.server.messages.append(_received(session, envelope))
        self.server.data_seen.set()
        await _hold(lambda: self.server.hold_data)     # accepted, but the client has no reply yet
        return "250 2.0.0 Ok: queued as TEST"


async def _hold(held: Callable[[], bool]) -> None:
    """Wait while a test holds the reply back, at most HOLD_LIMIT seconds."""
    deadline = time.monotonic() + HOLD_LIMIT
    while held() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


def _received(session: Session, envelope: Envelope) -> Received:
    raw = envelope.original_content or b""
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    login = session.auth_data.login.decode() if session.auth_data else None
    return Received(envelope.mail_from or "", list(envelope.rcpt_tos), message, login)


class SmtpServer:
    """Loopback SMTP server that records what it receives; restartable on the same port."""

    def __init__(self, users: dict[str, str] | None = None) -> None:
        self.port = _free_port()
        self.users = users
        self.messages: list[Received] = []
        self.reply: str | None = None          # e.g. "550 mailbox unavailable" at DATA
        self.rcpt_reply: str | None = None     # e.g. "451 try later" at RCPT
        self.hold_rcpt = False                 # delay the RCPT reply (nothing accepted yet)
        self.hold_data = False                 # keep the message but delay the DATA reply
        self.rcpt_seen = threading.Event()
        self.data_seen = threading.Event()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        """The WATCHER_SMTP_URL that reaches this server (plain SMTP)."""
        return f"smtp://{HOST}:{self.port}"

    def start(self) -> None:
        """Listen; a fresh Controller each time, because a stopped one has closed its loop."""
        assert self._controller is None, "already running"
        auth: dict[str, Any] = {}
        if self.users is not None:
            auth = {"authenticator": self._authenticate, "auth_required": True,
                    "auth_require_tls": False}
        self._controller = Controller(
            _Handler(self), hostname=HOST, port=self.port, ready_timeout=5,
            server_hostname="smtp.test",    # skips getfqdn(), which can stall on DNS
            timeout=10, data_size_limit=MAX_SIZE, **auth)
        self._controller.start()

    def stop(self) -> None:
        """Stop listening; connections are then refused until `start()`."""
        self.hold_rcpt = self.hold_data = False
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def _authenticate(self, smtp: SMTP, session: Session, envelope: Envelope,
                      mechanism: str, auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword) and self.users is not None
              and self.users.get(auth_data.login.decode()) == auth_data.password.decode())
        # handled=False makes aiosmtpd answer a failure with its own "535 ... invalid".
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


def _free_port() -> int:
    """Ask the kernel for a free loopback port (aiosmtpd cannot start on port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A running plain SMTP server on 127.0.0.1, stopped after the test."""
    server = SmtpServer()
    server.start()
    yield server
    server.stop()



class RawSmtpServer:
    """A hand-written SMTP server on a plain socket, for what aiosmtpd will not do: answer
    one byte at a time (`byte_delay`), or echo every line it got in its 535 refusal of a
    login (`echo_auth`), as a hostile or badly written server does. One client at a time;
    every wait is bounded and ends at `stop()`."""

    LIMIT = 60.0             # no connection is served longer than this

    def __init__(self, *, byte_delay: float = 0.0, echo_auth: bool = False) -> None:
        self.byte_delay = byte_delay
        self.echo_auth = echo_auth
        self.stopping = threading.Event()
        self.connections = 0
        self._sock = socket.create_server((HOST, 0))
        self._sock.settimeout(0.1)
        self.port: int = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._thread.join(timeout=5)
        self._sock.close()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            with conn:
                conn.settimeout(1.0)
                try:
                    self._session(conn, time.monotonic() + self.LIMIT)
                except OSError:
                    pass            # the client hung up: that is what the tests provoke

    def _session(self, conn: socket.socket, until: float) -> None:
        self._say(conn, b"220 raw.test ESMTP\r\n", until)
        heard: list[bytes] = []
        in_data = False
        for line in _lines(conn, until, self.stopping):
            if in_data:
                in_data = line != b"."
                if not in_data:
                    self._say(conn, b"250 2.0.0 queued as RAW\r\n", until)
                continue
            heard.append(line)
            verb = line.split(b" ", 1)[0].upper()
            if verb == b"DATA":
                in_data = True
                self._say(conn, b"354 go ahead\r\n", until)
            elif verb in (b"EHLO", b"HELO"):
                self._say(conn, b"250-raw.test\r\n250 AUTH PLAIN LOGIN\r\n", until)
            elif verb == b"AUTH" and line.upper().startswith(b"AUTH LOGIN"):
                self._say(conn, b"334 UGFzc3dvcmQ6\r\n", until)       # "Password:"
            elif verb == b"AUTH" or heard[-2:-1] and heard[-2].upper().startswith(b"AUTH LOGIN"):
                echo = b" | ".join(heard) if self.echo_auth else b"no"
                self._say(conn, b"535 5.7.8 authentication failed: " + echo + b"\r\n", until)
            elif verb == b"QUIT":
                self._say(conn, b"221 bye\r\n", until)
                return
            else:
                self._say(conn, b"250 ok\r\n", until)

    def _say(self, conn: socket.socket, data: bytes, until: float) -> None:
        if not self.byte_delay:
            conn.sendall(data)
            return
        for i in range(len(data)):          # bounded by the reply, the limit and stop()
            if self.stopping.wait(self.byte_delay) or time.monotonic() > until:
                raise ConnectionAbortedError
            conn.sendall(data[i:i + 1])


def _lines(conn: socket.socket, until: float, stopping: threading.Event) -> Iterator[bytes]:
    """The client's lines, until it hangs up, the time limit, or the server stops."""
    buffer = b""
    while time.monotonic() < until and not stopping.is_set():
        try:
            chunk = conn.recv(4096)
        except TimeoutError:
            continue
        if not chunk:
            return
        buffer += chunk
        while b"\r\n" in buffer:
            line, buffer = buffer.split(b"\r\n", 1)
            yield line
