"""Chat and push channels (WATCHER_NOTIFY_URLS) through Apprise (issue #4)."""

from __future__ import annotations

import hashlib
import json

from watcher.errors import DeliveryError, PermanentDeliveryError

CHANNEL_PREFIX = "apprise:"


def channel_id(url: str) -> str:
    """The outbox 'recipient' of an Apprise URL: a hash, because the URL holds its token."""
    scheme, digest = url.split("://", 1)[0], hashlib.sha256(url.encode()).hexdigest()[:12]
    return f"{CHANNEL_PREFIX}{scheme}:{digest}"


NOTIFY_TYPES = ("info", "success", "warning", "failure")


def channel_payload(subject: str, body: str, notify_type: str = "info") -> bytes:
    """What the outbox keeps for a channel: the title, a short body (chat clients show a few
    lines, not a 23 KB digest) and Apprise's notification type (its colour and icon)."""
    kind = notify_type if notify_type in NOTIFY_TYPES else "info"
    return json.dumps({"title": subject, "body": body, "type": kind},
                      ensure_ascii=False).encode("utf-8")


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
        # NotifyType is a class of string constants up to apprise 1.8 and an enum after: by name.
        kind = getattr(apprise.NotifyType, str(payload.get("type", "info")).upper(),
                       apprise.NotifyType.INFO)
        if not notifier.notify(title=payload["title"], body=payload["body"],
                               body_format=apprise.NotifyFormat.TEXT,
                               notify_type=kind):
            raise DeliveryError(f"{channel}: the service did not accept the notification")
        return f"{channel}: accepted"

