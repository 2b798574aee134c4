"""A rendered message as an RFC 822 email: multipart text + HTML, headers safe for the wire."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime

# Headers build_email sets itself; extra headers may not replace or repeat them.
_OWN_HEADERS = frozenset({"from", "to", "subject", "date", "message-id", "mime-version",
                          "content-type", "content-transfer-encoding"})
_HEADER_NAME = re.compile(r"[!-9;-~]+")        # RFC 5322 ftext: printable ASCII but ':'
# Bidi overrides and isolates would let feed text reorder what a subject line shows.
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                           "\u2066\u2067\u2068\u2069")


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

