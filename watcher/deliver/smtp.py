"""Send an email over SMTP once and say how it went (a receipt, or which error to retry).

`PermanentDeliveryError` when the server refused the message for good (5xx, do not retry),
`DeliveryError` for everything worth retrying later. No exception message or receipt ever
contains the SMTP password.
"""

from __future__ import annotations

import functools
import logging
import smtplib
import ssl
from email import policy
from email.message import EmailMessage
from email.utils import parseaddr
from urllib.parse import urlsplit

from watcher.deliver.smtpguard import Deadline, open_smtp, redact
from watcher.errors import ConfigError, DeliveryError, PermanentDeliveryError
from watcher.settings import SMTP_PORTS

log = logging.getLogger("watcher")

# "530 Authentication required" comes at MAIL FROM but means our setup lacks a login (RFC 4954).
AUTH_REQUIRED = 530


class SmtpTransport:
    """Send over SMTP: smtp:// (plain), smtp+starttls:// (STARTTLS) or smtps:// (implicit TLS).

    `deadline` bounds a whole send, whatever the server trickles; `timeout` each wait."""

    def __init__(self, url: str, user: str | None, password: str | None,
                 timeout: float = 30, deadline: float = 60) -> None:
        parts = urlsplit(url)
        if parts.scheme not in SMTP_PORTS:
            raise ConfigError([(f"WATCHER_SMTP_URL: unsupported scheme {parts.scheme!r} "
                                "(use smtp://, smtp+starttls:// or smtps://)")])
        if not parts.hostname:
            raise ConfigError(["WATCHER_SMTP_URL: no host name"])
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or SMTP_PORTS[parts.scheme]
        self.user = user
        self._password = password
        self.timeout = min(timeout, deadline)
        self.deadline = deadline
        if self.scheme == "smtp" and user:
            _warn_clear_login(self.scheme, self.host, self.port, user)

    def __repr__(self) -> str:
        return f"SmtpTransport({self.scheme}://{self.host}:{self.port}, user={self.user!r})"

    def send(self, email: EmailMessage, recipient: str) -> str:
        """Deliver to one recipient; return the server's reply to DATA, e.g. `250 queued as X`."""
        sender = _envelope_sender(email)
        data = email.as_bytes(policy=policy.SMTP)
        with Deadline(self.deadline) as deadline:
            try:
                with self._connect(deadline) as smtp:
                    self._start_session(smtp)
                    receipt = _transfer(smtp, sender, recipient, data)
            except (OSError, smtplib.SMTPException) as exc:  # SMTPException is an OSError too
                # not `from exc`: the raw reply in the chain may hold what redact() removed
                raise self._delivery_error(exc, expired=deadline.over()) from None
        return redact(receipt, self.user, self._password)

    def _connect(self, deadline: Deadline) -> smtplib.SMTP:
        """Open the connection; smtps:// wraps it in TLS before the server says hello."""
        context = ssl.create_default_context() if self.scheme == "smtps" else None
        return open_smtp(self.host, self.port, tls=self.scheme == "smtps", timeout=self.timeout,
                         deadline=deadline, context=context)

    def _start_session(self, smtp: smtplib.SMTP) -> None:
        """STARTTLS when asked for, then log in only if a user is configured."""
        if self.scheme == "smtp+starttls":
            smtp.starttls(context=ssl.create_default_context())
        if self.user:
            smtp.login(self.user, self._password or "")

    def _delivery_error(self, exc: BaseException, expired: bool = False) -> DeliveryError:
        """Map a failure: a 5xx refusal of this message is permanent, the rest is retried.
        The server's words are redacted: a reply may echo the login."""
        where = f"{self.scheme}://{self.host}:{self.port}"
        if expired:
            return DeliveryError(f"{where}: the send took longer than its {self.deadline:g} s "
                                 "deadline (WATCHER_SMTP_TIMEOUT)")
        code, text = _smtp_reply(exc)
        text = redact(text, self.user, self._password)
        if code is not None and code != AUTH_REQUIRED and _refuses_message(exc):
            error_class = PermanentDeliveryError if 500 <= code < 600 else DeliveryError
            return error_class(f"{code} {text}")
        return DeliveryError(f"{where}: {code} {text}" if code else f"{where}: {text}")


def _envelope_sender(email: EmailMessage) -> str:
    """The From address; an empty one would make the digest look like a bounce (MAIL FROM:<>)."""
    sender = parseaddr(str(email["From"] or ""))[1]
    if "@" not in sender:
        raise ValueError("the email has no From address")
    return sender


def _transfer(smtp: smtplib.SMTP, sender: str, recipient: str, data: bytes) -> str:
    """MAIL, RCPT, DATA by hand (not sendmail) to keep the DATA reply as the receipt."""
    smtp.ehlo_or_helo_if_needed()
    code, reply = smtp.mail(sender)
    if code != 250:
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    code, reply = smtp.rcpt(recipient)
    if code not in (250, 251):
        raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
    code, reply = smtp.data(data)  # raises only if DATA itself fails, not the final reply
    if code != 250:
        raise smtplib.SMTPDataError(code, reply)
    return f"{code} {_decode(reply)}"


def _refuses_message(exc: BaseException) -> bool:
    """True for refusals of this message; login, HELO or STARTTLS failures are the setup's."""
    return isinstance(exc, (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused,
                            smtplib.SMTPDataError))


def _smtp_reply(exc: BaseException) -> tuple[int | None, str]:
    """The server's code and text from an smtplib error, or the OS error's text."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(exc.recipients.values()))
        return code, _decode(reply)
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code, _decode(exc.smtp_error)
    return None, str(exc) or type(exc).__name__


def _decode(reply: bytes | str) -> str:
    """Server replies are bytes and may span lines; logs want one line of text."""
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(text.split())


@functools.cache
def _warn_clear_login(scheme: str, host: str, port: int, user: str) -> None:
    """Once per process and server: smtp:// never starts TLS, so the login crosses in clear."""
    log.warning("WATCHER_SMTP_URL is %s://%s:%d without TLS: the password of %s would be sent "
                "in clear; use smtp+starttls:// or smtps://", scheme, host, port, user)
