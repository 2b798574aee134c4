"""Deliver: turn a rendered message into an email or a channel post and hand it over.

The outbox table (DESIGN §7) decides *whether* to send; a transport only sends once and says
how it went: a receipt string on success, `PermanentDeliveryError` when the other end refused
the message for good, `DeliveryError` for everything worth retrying later. `mail` builds the
email, `smtp` and `files` send it, `channels` posts to Apprise.
"""

from __future__ import annotations

from watcher.deliver.channels import CHANNEL_PREFIX, AppriseTransport, channel_id, channel_payload
from watcher.deliver.files import FileTransport, write_atomically
from watcher.deliver.mail import Message, build_email
from watcher.deliver.smtp import SmtpTransport
from watcher.settings import Settings

__all__ = ["CHANNEL_PREFIX", "AppriseTransport", "FileTransport", "Message", "SmtpTransport",
           "build_email", "channel_id", "channel_payload", "transport_for", "write_atomically"]


def transport_for(settings: Settings) -> SmtpTransport | FileTransport:
    """SMTP when WATCHER_SMTP_URL is set, otherwise the file outbox."""
    if settings.smtp_url:
        return SmtpTransport(settings.smtp_url, settings.smtp_user, settings.smtp_password,
                             deadline=settings.smtp_timeout)
    return FileTransport(settings.outbox_dir)
