"""Sessions in signed cookies, a CSRF token in each, and the login rate limit.

The cookie holds {user, CSRF token, issued} signed with HMAC-SHA256 under a key made when the
workbench starts (so a restart logs everyone out, and no secret is kept on disk). It is
HttpOnly and SameSite=Strict, Secure behind TLS. Every visitor gets one (anonymous before the
login), so the login form has a CSRF token too; logging in issues a fresh token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass

COOKIE = "watcher_session"


@dataclass(frozen=True)
class Session:
    """Who is logged in on this browser (None: nobody) and the token its forms carry."""

    user: str | None
    csrf: str
    issued: float


class Signer:
    """Makes and reads session cookies; a cookie not signed here, or too old, reads as None."""

    def __init__(self, max_age: float, key: bytes | None = None) -> None:
        self.max_age = max_age
        self._key = key or secrets.token_bytes(32)

    def new(self, user: str | None) -> Session:
        return Session(user, secrets.token_urlsafe(24), time.time())

    def dump(self, s: Session) -> str:
        body = _b64(json.dumps({"u": s.user, "c": s.csrf, "t": s.issued}).encode())
        return f"{body}.{_b64(self._sign(body))}"

    def load(self, cookie: str | None) -> Session | None:
        if not cookie or "." not in cookie:
            return None
        body, _, mac = cookie.rpartition(".")
        if not hmac.compare_digest(mac, _b64(self._sign(body))):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            s = Session(data["u"], str(data["c"]), float(data["t"]))
        except (ValueError, KeyError, TypeError):
            return None
        fresh = 0 <= time.time() - s.issued <= self.max_age
        return s if fresh and (s.user is None or isinstance(s.user, str)) else None

    def mark(self, text: str) -> str:
        """A short signature of a message this site says after a write ('done=…&mark=…'), so
        a link from elsewhere cannot make a page say what it wants."""
        return _b64(self._sign("said:" + text))[:22]

    def marked(self, text: str, mark: str) -> bool:
        return bool(text) and hmac.compare_digest(mark, self.mark(text))

    def _sign(self, body: str) -> bytes:
        return hmac.new(self._key, body.encode(), hashlib.sha256).digest()


def same_token(sent: str | None, session: Session) -> bool:
    """The form's CSRF token is this session's (compared in constant time)."""
    return bool(sent) and hmac.compare_digest(str(sent), session.csrf)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class RateLimit:
    """At most `attempts` failed logins per `window` seconds per client address and per name;
    `wait(keys)` says how long until the next try is allowed (0: now)."""

    def __init__(self, attempts: int = 5, window: float = 300.0) -> None:
        self.attempts, self.window = attempts, window
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait(self, keys: list[str]) -> float:
        now = time.monotonic()
        with self._lock:
            waits = [self._recent(k, now) for k in keys]
        full = [q[0] + self.window - now for q in waits if len(q) >= self.attempts]
        return max(full, default=0.0)

    def failed(self, keys: list[str]) -> None:
        now = time.monotonic()
        with self._lock:
            for k in keys:
                self._recent(k, now).append(now)

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._failures.setdefault(key, deque())
        while q and q[0] <= now - self.window:
            q.popleft()
        return q
