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
from typing import Any

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

