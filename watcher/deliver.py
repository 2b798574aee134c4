"""Turn a rendered message into an email and hand it to SMTP or to the outbox directory.

The outbox table (DESIGN §7) decides *whether* to send; this module only sends once and says
how it went: a receipt string on success, `PermanentDeliveryError` when the server refused the
message for good (5xx, do not retry), `DeliveryError` for everything worth retrying later.
No exception message or receipt ever contains the SMTP password.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import re
import smtplib
import ssl
import tempfile
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from urllib.parse import urlsplit

from watcher.errors import ConfigError, DeliveryError, PermanentDeliveryError
from watcher.settings import SMTP_PORTS, Settings
from watcher.smtpguard import Deadline, open_smtp, redact

# Headers build_email sets itself; extra headers may not replace or repeat them.
_OWN_HEADERS = frozenset({"from", "to", "subject", "date", "message-id", "mime-version",
                          "content-type", "content-transfer-encoding"})
_HEADER_NAME = re.compile(r"[!-9;-~]+")        # RFC 5322 ftext: printable ASCII but ':'
# Bidi overrides and isolates would let feed text reorder what a subject line shows.
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._@+-]")
log = logging.getLogger("watcher")
# "530 Authentication required" comes at MAIL FROM but means our setup lacks a login (RFC 4954).
AUTH_REQUIRED = 530


@dataclass(frozen=True)
class Message:
    """One email for one recipient, already rendered: what the outbox stores and retries."""

    message_id: str
    sender: str
    recipient: str
    subject: str
    text: str
    html: str
    headers: dict[str, str]          # extra headers, e.g. List-Id, Auto-Submitted
    date: datetime


def build_email(msg: Message) -> EmailMessage:
    """Build a multipart/alternative email (text first, HTML preferred) safe to put on the wire."""
    email = EmailMessage(policy=policy.SMTP)
    email["From"] = _clean_header(msg.sender)
    email["To"] = _clean_header(msg.recipient)
    email["Subject"] = _clean_header(msg.subject)
    email["Date"] = format_datetime(msg.date)
    email["Message-ID"] = f"<{_clean_header(msg.message_id).strip('<>')}>"
    for name, value in msg.headers.items():
        email[_check_header_name(name)] = _clean_header(value)
    # quoted-printable keeps the body 7-bit, so no relay needs 8BITMIME or SMTPUTF8.
    email.set_content(msg.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    email.add_alternative(msg.html, subtype="html", charset="utf-8", cte="quoted-printable")
    return email


def _clean_header(value: str) -> str:
    """One line of printable text: feed text reaches the subject, so CR/LF must never pass."""
    chars = (" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in value
             if c not in _BIDI_CONTROLS)
    return " ".join("".join(chars).split())


def _check_header_name(name: str) -> str:
    """Extra header names come from code, so a bad one is a bug worth raising on."""
    if not _HEADER_NAME.fullmatch(name) or name.lower() in _OWN_HEADERS:
        raise ValueError(f"extra header {name!r} is not allowed")
    return name


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


class FileTransport:
    """Write each message to the outbox directory: for demos, tests and machines without SMTP."""

    def __init__(self, outbox_dir: Path) -> None:
        self.outbox_dir = outbox_dir

    def __repr__(self) -> str:
        return f"FileTransport({str(self.outbox_dir)!r})"

    def send(self, email: EmailMessage, recipient: str) -> str:
        """Write `<id>.html` then `<id>.eml`; the same Message-ID always lands on the same files."""
        name = _file_name(str(email["Message-ID"] or ""))
        eml = self.outbox_dir / f"{name}.eml"
        try:
            self.outbox_dir.mkdir(parents=True, exist_ok=True)
            _write_atomically(self.outbox_dir / f"{name}.html", _html_bytes(email))
            _write_atomically(eml, email.as_bytes(policy=policy.SMTP))
        except OSError as exc:
            raise DeliveryError(f"{eml}: {exc.strerror or exc}") from exc
        return str(eml)


def _file_name(message_id: str) -> str:
    """A file name from the Message-ID; a hash keeps altered or long ids from colliding."""
    bare = message_id.strip().strip("<>")
    if not bare:
        raise ValueError("the email has no Message-ID to name its outbox file")
    safe = _UNSAFE_FILE_CHARS.sub("_", bare).lstrip(".")[:120]
    if safe == bare:
        return safe
    return f"{safe}-{hashlib.sha256(bare.encode()).hexdigest()[:12]}"


def _html_bytes(email: EmailMessage) -> bytes:
    """The HTML part; the BOM makes a browser opening the local file read it as UTF-8."""
    part = email.get_body(preferencelist=("html",))
    html = part.get_content() if isinstance(part, EmailMessage) else ""
    return "\ufeff".encode() + str(html).encode("utf-8")


def _write_atomically(path: Path, data: bytes) -> None:
    """Temp file in the same directory, fsync, rename: readers see the old or the new file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself survive a power cut, not only the file's bytes."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def transport_for(settings: Settings) -> SmtpTransport | FileTransport:
    """SMTP when WATCHER_SMTP_URL is set, otherwise the file outbox."""
    if settings.smtp_url:
        return SmtpTransport(settings.smtp_url, settings.smtp_user, settings.smtp_password,
                             deadline=settings.smtp_timeout)
    return FileTransport(settings.outbox_dir)


@functools.cache
def _warn_clear_login(scheme: str, host: str, port: int, user: str) -> None:
    """Once per process and server: smtp:// never starts TLS, so the login crosses in clear."""
    log.warning("WATCHER_SMTP_URL is %s://%s:%d without TLS: the password of %s would be sent "
                "in clear; use smtp+starttls:// or smtps://", scheme, host, port, user)


# --- Apprise channels (issue #4) -----------------------------------------------------------

CHANNEL_PREFIX = "apprise:"


def channel_id(url: str) -> str:
    """The outbox 'recipient' of an Apprise URL: a hash, because the URL holds its token."""
    return f"{CHANNEL_PREFIX}{url.split('://', 1)[0]}:{hashlib.sha256(url.encode()).hexdigest()[:12]}"


def channel_payload(subject: str, text: str) -> bytes:
    """What the outbox keeps for a channel: the subject and the complete plain-text part."""
    return json.dumps({"title": subject, "body": text}, ensure_ascii=False).encode("utf-8")


class AppriseTransport:
    """Send to the chat and push channels of WATCHER_NOTIFY_URLS through Apprise.

    Apprise reports only success or failure, so a failure is retried (the outbox gives up
    after its attempt limit); a channel removed from the settings is a permanent failure."""

    def __init__(self, urls: tuple[str, ...]) -> None:
        self._urls = {channel_id(u): u for u in urls}

    def __repr__(self) -> str:
        return f"AppriseTransport({len(self._urls)} channel(s))"

    def send(self, raw: bytes, channel: str) -> str:
        import apprise
        url = self._urls.get(channel)
        if url is None:
            raise PermanentDeliveryError(f"{channel} is no longer in WATCHER_NOTIFY_URLS")
        notifier = apprise.Apprise()
        if not notifier.add(url):
            raise PermanentDeliveryError(f"{channel}: not a valid Apprise URL")
        payload = json.loads(raw)
        if not notifier.notify(title=payload["title"], body=payload["body"],
                               body_format=apprise.NotifyFormat.TEXT):
            raise DeliveryError(f"{channel}: the service did not accept the notification")
        return f"{channel}: accepted"
