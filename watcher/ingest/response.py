"""One HTTP answer read defensively: its status as a reason, where it redirects, its body.

The fetch stage's helpers for what a server sends back: a status becomes the plain reason
the feed's state shows ("not found (404 status code)"), a redirect a checked next URL, and a
body is inflated a piece at a time within a byte cap (a gzip bomb stops at the cap). Also
where a feed URL's credentials are taken apart, so that they only go to its own origin.
"""

from __future__ import annotations

import email.utils
import re
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from http import HTTPStatus
from urllib.parse import unquote, urlsplit, urlunsplit

import httpx

from watcher.errors import FeedError
from watcher.ingest.transport import Attempt

MiB = 1024 * 1024
REDIRECTS = frozenset({301, 302, 303, 307, 308})
_WBITS = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Retry-After as seconds from `now`; it may be delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"\d{1,12}", value, re.ASCII):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def without_credentials(url: str) -> tuple[str, httpx.BasicAuth | None]:
    """http://user:pw@host/feed → (http://host/feed, its Basic credentials): the URL that
    goes to httpx never carries them, so no redirect or message can take them along."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    host = parts.netloc.rsplit("@", 1)[1]
    return (urlunsplit(parts._replace(netloc=host)),
            httpx.BasicAuth(unquote(parts.username or ""), unquote(parts.password or "")))


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port): where credentials may go (a redirect elsewhere loses them)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port


def redirect_target(feed_url: str, url: str, response: httpx.Response) -> str | None:
    """Where a redirect leads (fragment and credentials dropped), or None if it is none."""
    location = response.headers.get("Location")
    if response.status_code not in REDIRECTS or not location:
        return None
    try:
        target = httpx.URL(url).join(location.strip()).copy_with(fragment=None)
    except (httpx.InvalidURL, ValueError) as exc:
        raise FeedError(feed_url, f"invalid redirect location: {exc}") from exc
    if target.scheme not in ("http", "https") or not target.host:
        raise FeedError(feed_url, f"redirect to an unsupported URL ({target.scheme}:)")
    return without_credentials(str(target))[0]


def raise_for_status(url: str, response: httpx.Response) -> None:
    """Anything but 2xx is a failure of this poll, with the server's Retry-After kept."""
    code = response.status_code
    if 200 <= code < 300:
        return
    retry_after = parse_retry_after(response.headers.get("Retry-After"), datetime.now(UTC))
    raise FeedError(url, _status_reason(code), status=code, retry_after=retry_after)


def _status_reason(code: int) -> str:
    """'not found (404 status code)', the way miniflux words it for users."""
    if code >= 500:
        name = "server error"
    else:
        try:
            name = HTTPStatus(code).phrase.lower()
        except ValueError:
            name = "client error" if code >= 400 else "unexpected response"
    return f"{name} ({code} status code)"


def read_capped(url: str, response: httpx.Response, cap: int, attempt: Attempt) -> bytes:
    """The decoded body, aborting as soon as it would exceed `cap` bytes (decompressed)
    or the request's deadline passes (a server trickling bytes cannot hold a feed)."""
    too_large = FeedError(url, f"response larger than {size_text(cap)}",
                          status=response.status_code)
    declared = response.headers.get("Content-Length", "")
    inflater = _inflater(url, response.headers.get("Content-Encoding", ""))
    if inflater is None and declared.isdigit() and int(declared) > cap:
        raise too_large
    body = bytearray()
    for chunk in response.iter_raw():
        if attempt.overdue():
            raise TimeoutError
        for piece in inflater.inflate(chunk) if inflater else (chunk,):
            body += piece
            if len(body) > cap:
                raise too_large
    if inflater is not None:
        body += inflater.flush()
        if len(body) > cap:
            raise too_large
    return bytes(body)


class _Inflater:
    """Inflates gzip/deflate in small pieces, so the caller can stop at the cap (gzip bombs)."""

    PIECE = 256 * 1024

    def __init__(self, encoding: str) -> None:
        self._encoding = encoding
        self._z = zlib.decompressobj(_WBITS[encoding])
        self._started = False

    def inflate(self, chunk: bytes) -> Iterator[bytes]:
        """The chunk's output, PIECE bytes at a time: never all of a 1000:1 chunk at once."""
        out = self._first(chunk) if not self._started else self._z.decompress(chunk, self.PIECE)
        yield out
        while len(out) == self.PIECE or self._z.unconsumed_tail:
            out = self._z.decompress(self._z.unconsumed_tail, self.PIECE)
            yield out

    def _first(self, chunk: bytes) -> bytes:
        self._started = True
        try:
            return self._z.decompress(chunk, self.PIECE)
        except zlib.error:
            if self._encoding != "deflate":
                raise
            # Some servers send raw deflate without the zlib header; httpx tolerates it too.
            self._z = zlib.decompressobj(-zlib.MAX_WBITS)
            return self._z.decompress(chunk, self.PIECE)

    def flush(self) -> bytes:
        """What the decompressor still holds once the body has ended."""
        return self._z.flush()


def _inflater(url: str, header: str) -> _Inflater | None:
    """The decoder for a Content-Encoding header; None for identity."""
    codings = [c.strip().lower() for c in header.split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    if not codings:
        return None
    if len(codings) == 1 and codings[0] in _WBITS:
        return _Inflater(codings[0])
    raise FeedError(url, f"unsupported content encoding {header!r}")


def size_text(n: int) -> str:
    """10485760 → '10 MiB', for reasons people read."""
    for unit, size in (("MiB", MiB), ("KiB", 1024)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} bytes"
