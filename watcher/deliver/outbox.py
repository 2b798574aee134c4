"""The outbox: compose a message (an email with its headers, or a channel post) as the row
that will be sent, and deliver what is due, each message claimed by one instance."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import formataddr, parseaddr

from watcher.context import Context
from watcher.deliver import (
    CHANNEL_PREFIX,
    AppriseTransport,
    Message,
    build_email,
    channel_id,
    channel_payload,
    transport_for,
)
from watcher.errors import DeliveryError, PermanentDeliveryError
from watcher.store import OutboxDraft, OutboxMessage

log = logging.getLogger("watcher")
RETRY_SEND = timedelta(minutes=5)

MAX_ATTEMPTS = 10          # waits of 5 min doubling, capped at 5 h 20 min: ~21 h of trying


def message_id(kind: str, period: str, recipient: str, sender: str) -> str:
    """Stable per (kind, period, recipient): a resent message is recognisably the same."""
    digest = hashlib.sha256(recipient.lower().encode()).hexdigest()[:12]
    domain = (parseaddr(sender)[1] or sender).rsplit("@", 1)[-1]
    return f"<{kind}.{period}.{digest}@{domain}>"


def from_header(ctx: Context) -> str:
    """'"watcher" <watcher@example.org>': digest.sender with its display name (sender_name);
    WATCHER_SENDER, when set, is used as written (it may carry its own name)."""
    if ctx.settings.sender:
        return ctx.settings.sender
    digest = ctx.config.digest
    return formataddr((digest.sender_name, digest.sender)) if digest.sender_name else digest.sender


def compose_email(ctx: Context, *, kind: str, period: str, recipient: str, subject: str,
                  text: str, html: str, now: datetime) -> OutboxDraft:
    """The outbox row of one email: full RFC 822 bytes, so a retry sends the same message."""
    sender = from_header(ctx)
    domain = parseaddr(sender)[1].rsplit("@", 1)[-1]
    mid = message_id(kind, period, recipient, sender)
    msg = Message(mid, sender, recipient, subject, text, html,
                  {"List-Id": f"watcher {kind}s <{kind}.{domain}>",
                   "Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All",
                   "Precedence": "bulk", "X-Watcher-Period": period}, now)
    return OutboxDraft(kind, period, recipient, mid, subject, bytes(build_email(msg)))


def compose_posts(ctx: Context, *, kind: str, period: str, subject: str,
                  text: str, notify_type: str = "info") -> list[OutboxDraft]:
    """One outbox row per Apprise channel, so each is retried and deduplicated on its own;
    `text` is the short body a chat channel shows."""
    sender = ctx.settings.sender or ctx.config.digest.sender
    return [OutboxDraft(kind, period, cid, message_id(kind, period, cid, sender), subject,
                        channel_payload(subject, text, notify_type))
            for cid in dict.fromkeys(channel_id(u) for u in ctx.settings.notify_urls)]


def deliver_pending(ctx: Context, now: datetime | None = None) -> tuple[int, int]:
    """Send what the outbox holds; a failure stays queued (or is marked failed if permanent,
    or after MAX_ATTEMPTS tries: nothing is retried forever).

    Each message is claimed before it is sent, so instances sharing the database never send
    the same one twice; the claim ends with mark_sent or mark_failed."""
    now = now or ctx.clock()
    send = _sender(ctx)
    sent = failed = 0
    until = now + timedelta(seconds=ctx.settings.lease_seconds)
    while (msg := ctx.store.claim_message(now, ctx.settings.instance_id, until)) is not None:
        try:
            receipt = send(msg)
        except DeliveryError as exc:
            give_up = isinstance(exc, PermanentDeliveryError) or msg.attempts + 1 >= MAX_ATTEMPTS
            ctx.store.mark_failed(msg.id, now, str(exc), permanent=give_up,
                                  retry_in=RETRY_SEND * (2 ** min(msg.attempts, 6)))
            log.warning("%s %s to %s not sent (%s): %s", msg.kind, msg.period, msg.recipient,
                        "given up" if give_up else "will retry", exc)
            failed += 1
            continue
        # The window where the server has the message and this row still says pending is
        # these few lines: a crash here means one resend, with the same Message-ID.
        ctx.store.mark_sent(msg.id, now)
        log.info("%s %s sent to %s: %s", msg.kind, msg.period, msg.recipient, receipt)
        sent += 1
    return sent, failed


def _sender(ctx: Context) -> Callable[[OutboxMessage], str]:
    """Route each outbox row: Apprise channels by their id, everything else as email."""
    mail = transport_for(ctx.settings)
    channels = AppriseTransport(ctx.settings.notify_urls)

    def send(msg: OutboxMessage) -> str:
        if msg.recipient.startswith(CHANNEL_PREFIX):
            return channels.send(msg.raw, msg.recipient)
        email = message_from_bytes(msg.raw, _class=EmailMessage, policy=policy.SMTP)
        return mail.send(email, msg.recipient)
    return send
