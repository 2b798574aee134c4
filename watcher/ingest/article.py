"""An article page → its lead, and an aggregator's link → the publisher's article. Pure.

A headline alone often cannot carry the evidence (a Google News search item has no summary);
the article's lead can. The lead is what the publisher wrote to introduce the piece: its
`og:description` (else `twitter:description`, else `<meta name="description">`), else its first
paragraphs of prose. The page is read with the press-page reader (page.html_tree: bounded
element count, scripts and styles dropped) and the lead is cut at MAX_LEAD characters.

Bing News links (bing.com/news/apiclick.aspx?…&url=…) carry the publisher's URL as a parameter.
Google News links (news.google.com/rss/articles/ID) hide it. Older IDs
("CBMi…") are base64 of a small protobuf message that holds the URL itself, so it is read here,
offline. Newer IDs ("CBMi…AU_yqL…") hold only an opaque key that Google's own web service
turns into a URL; watcher does not call it (an undocumented endpoint, a request to Google per
article), so such an item is not enriched and is counted as `undecodable`.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import urlsplit

from lxml import etree

from watcher.ingest.markup import strip_html
from watcher.ingest.page import html_tree
from watcher.judge.publisher import relayed_url

MAX_LEAD = 1_000                  # characters: a summary's length, not the article
MIN_PARAGRAPH = 60                # shorter <p> are bylines, captions, buttons
LEAD_PARAGRAPHS = 2
_GOOGLE_NEWS = ("news.google.com",)
_ARTICLE_PATHS = ("/rss/articles/", "/articles/", "/__i/rss/rd/articles/")
_META = ("og:description", "twitter:description", "description")


def article_url(url: str) -> str | None:
    """Where an item's article is: the link itself, or the publisher's URL a Google News link
    encodes; None when a Google News link hides it (a newer ID, see the module doc)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    relayed = relayed_url(url)                     # Bing News names it outright
    if relayed is not None:
        return relayed
    if (parts.hostname or "").lower() not in _GOOGLE_NEWS:
        return url if parts.scheme in ("http", "https") and parts.hostname else None
    for prefix in _ARTICLE_PATHS:
        if parts.path.startswith(prefix):
            return decode_google_news(parts.path[len(prefix):].split("/", 1)[0])
    return None


def decode_google_news(article_id: str) -> str | None:
    """The publisher's URL held by an older Google News article ID, or None.

    The ID is base64url of a protobuf message: field 1 (a varint, 0x08 0x13), then field 4, a
    length-delimited string (0x22, a varint length, the URL's bytes), then other fields."""
    try:
        data = base64.urlsafe_b64decode(article_id + "=" * (-len(article_id) % 4))
    except (binascii.Error, ValueError):
        return None
    if not data.startswith(b"\x08\x13\x22"):
        return None
    length, at = _varint(data, 3)
    if length is None or at + length > len(data):
        return None
    try:
        url = data[at:at + length].decode("utf-8")
    except UnicodeDecodeError:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None          # a newer ID: its key is no URL (AU_yqL…)
    return url


def _varint(data: bytes, at: int) -> tuple[int | None, int]:
    value, shift = 0, 0
    while at < len(data) and shift <= 28:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, at
        shift += 7
    return None, at


def lead_of(body: bytes, content_type: str | None = None) -> str:
    """The lead of an article page: its description meta, else its first paragraphs; "" when
    the page has neither (a consent wall, a video, an error page)."""
    root, _ = html_tree(body, content_type)
    if root is None:
        return ""
    lead = _description(root) or _paragraphs(root)
    return _cut(lead)


def _description(root: etree._Element) -> str:
    metas: dict[str, str] = {}
    for meta in root.iter("meta"):
        key = (meta.get("property") or meta.get("name") or "").strip().lower()
        content = meta.get("content")
        if key in _META and content and key not in metas:
            metas[key] = strip_html(content)
    return next((metas[k] for k in _META if len(metas.get(k, "")) >= MIN_PARAGRAPH // 2), "")


def _paragraphs(root: etree._Element) -> str:
    """The first paragraphs of prose, inside <article> when the page has one."""
    scope = next(iter(root.iter("article")), root)
    found: list[str] = []
    for p in scope.iter("p"):
        text = " ".join("".join(p.itertext()).split())
        if len(text) >= MIN_PARAGRAPH:
            found.append(text)
            if len(found) == LEAD_PARAGRAPHS:
                break
    return " ".join(found)


def _cut(text: str) -> str:
    if len(text) <= MAX_LEAD:
        return text
    cut = text[:MAX_LEAD].rsplit(" ", 1)[0]
    return cut + "…"
