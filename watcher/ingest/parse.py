"""Parse stage: feed bytes → `Item`s. Pure: no I/O, no clock; feedparser never fetches anything.

RSS, Atom and RDF go through feedparser; JSON Feed is mapped directly. Entity declarations
in a DOCTYPE are removed first (billion laughs, quadratic blowup), and every field is capped,
so a hostile feed cannot make the parser or the database pay for it.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import json
import re
import time
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import feedparser

from watcher.errors import FeedError, storable
from watcher.ingest import feedbytes, feedxml
from watcher.ingest.markup import strip_html
from watcher.judge.publisher import domain_of, site_suffix, split_title
from watcher.models import Item
from watcher.text import truncate, words

MAX_TITLE = 1_000
MAX_SUMMARY = 10_000
MAX_URL = 2_000
MAX_KEY = 500          # longer guids are hashed: they are identities, not text
MAX_SOURCE = 200
MAX_ITEMS = 2_000      # items kept from one document: the newest
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)   # item dates outside these are treated as absent
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
_RAW_FACTOR = 20       # markup kept before stripping: bounds the work on a 5 MB title
_JSONFEED = re.compile(r"https?://jsonfeed\.org/version/")
_LANG = re.compile(r"[a-z]{2,3}")
_ASCII_HIDDEN = re.compile(r"[\x00-\x20\x7f]")     # ASCII whitespace and controls


@dataclass(frozen=True)
class ParsedFeed:
    """A feed document read into items; `warning` says what was wrong if it was ill-formed."""

    title: str
    items: list[Item]
    warning: str | None


def parse_feed(feed_id: str, body: bytes, *, content_type: str | None = None,
               base_url: str = "", lang: str | None = None,
               aggregator: bool = False) -> ParsedFeed:
    """Read RSS, Atom, RDF or JSON Feed bytes into items; FeedError if it is no feed at all.

    `aggregator`: the feed relays other publishers' reports (tier aggregator), so a name
    appended to a headline is the original publisher, not the feed's own site."""
    where = base_url or feed_id
    if not body.strip():
        raise FeedError(where, "not a feed: empty body")
    doc = _json_document(body)
    if doc is not None:
        parsed = _parse_json_feed(where, feed_id, doc, base_url, lang)
    else:
        parsed = _parse_xml_feed(where, feed_id, body, content_type, base_url, lang)
    return replace(parsed, items=attribute(parsed.items, aggregator))


def attribute(items: list[Item], aggregator: bool = False) -> list[Item]:
    """Each item's headline without the publisher's name appended to it ("… - The Astana
    Times"), the name kept as its publisher; a description that only repeats the headline
    (Google News: the headline and the publisher again) is no summary.

    The name is known from the aggregator's `<source>`, or from a tail that most of the
    document's headlines share (the site's name), or because it reads as one (see
    publisher.split_title). On an aggregator's feed a name found only in the headline is the
    original publisher, so it becomes the item's independent-source key too."""
    suffix = site_suffix([i.title for i in items])
    return [_attributed(i, suffix, aggregator) for i in items]


def _attributed(item: Item, suffix: str | None, aggregator: bool) -> Item:
    head, name = split_title(item.title, [n for n in (item.publisher, suffix) if n])
    publisher = item.publisher or name
    source = item.source or (publisher if aggregator and publisher else None)
    summary = "" if _repeats(item.summary, head, publisher, bool(item.source)) else item.summary
    if (head, publisher, source, summary) == (item.title, item.publisher, item.source,
                                              item.summary):
        return item
    return replace(item, title=head, publisher=publisher, source=source, summary=summary)


def _repeats(summary: str, head: str, publisher: str | None, relayed: bool) -> bool:
    """The summary says nothing the headline does not: it is the headline (and the
    publisher's name) again; for a relayed report, anything that opens with the headline (a
    Google News description lists the headline and other outlets' headlines, not a lead)."""
    size = len(head) + len(publisher or "")
    if not summary or (not relayed and len(summary) > 2 * size + 20):
        return False
    head_words = words(head)
    said = words(summary[:2 * size + 20])    # the opening is enough to compare
    if not head_words or said[:len(head_words)] != head_words:
        return False
    return relayed or said[len(head_words):] == words(publisher or "")


# --- XML (feedparser) ---------------------------------------------------------------------


def _parse_xml_feed(where: str, feed_id: str, body: bytes, content_type: str | None,
                    base_url: str, lang: str | None) -> ParsedFeed:
    body, content_type, warning = feedbytes.utf8(body, content_type)
    # Plain RSS/Atom: lxml reads it as feedparser would, ~20x faster; anything else: feedparser.
    doc = feedxml.read(body, content_type, base_url)
    if doc is None:
        return _with_feedparser(where, feed_id, body, content_type, base_url, lang, warning)
    return _parsed(feed_id, doc.feed, doc.entries, base_url, lang, warning)


def _with_feedparser(where: str, feed_id: str, body: bytes, content_type: str | None,
                     base_url: str, lang: str | None, warning: str | None = None) -> ParsedFeed:
    """The tolerant path: feedparser reads ill-formed and unusual feeds too."""
    headers = {"content-type": content_type} if content_type else {}
    if base_url:
        headers["content-location"] = base_url
    stream = io.BytesIO(feedbytes.defused(where, body))
    try:
        # A stream, never bytes or str: feedparser treats those as a file name or URL to open.
        result = feedparser.parse(stream, response_headers=headers, resolve_relative_uris=False)
    except Exception as exc:   # feedparser's own bugs on hostile bytes (issue 16)
        # e.g. KeyError in its GML handler, ValueError for &#99999999;, TypeError for an
        # image without a width: the document is unreadable, which is the feed's fault.
        raise FeedError(where, f"not a feed: unreadable ({type(exc).__name__}: {_short(str(exc))})"
                        ) from exc
    if not result.entries and not result.get("version"):
        raise FeedError(where, f"not a feed: {_why_not_a_feed(body, result, content_type)}")
    return _parsed(feed_id, result.feed, result.entries, base_url, lang,
                   _joined(warning, _warning(result, content_type)))


def _parsed(feed_id: str, feed: Mapping[str, Any], entries: list[Any], base_url: str,
            lang: str | None, warning: str | None) -> ParsedFeed:
    feed_lang = _language(feed.get("language")) or _detail_language(feed) or lang
    entries, cut = _newest(entries,
                           lambda e: _utc(e.get("published_parsed") or e.get("updated_parsed")))
    items = [_entry_item(feed_id, e, base_url, feed_lang) for e in entries]
    return ParsedFeed(title=_clean(feed.get("title"), MAX_TITLE), items=items,
                      warning=_joined(warning, cut))


def _newest(entries: list[Any],
            date_of: Callable[[Any], datetime | None]) -> tuple[list[Any], str | None]:
    """At most MAX_ITEMS entries, and a warning when some were cut (issue 16: 190,000 items
    with rotating guids added 190,000 rows a poll). The newest by date are kept, then
    undated ones in document order (feeds list the newest first); document order stays."""
    if len(entries) <= MAX_ITEMS:
        return entries, None
    dates = [date_of(e) for e in entries]
    newest = sorted(range(len(entries)), key=lambda n: (dates[n] is None,
                                                        -(dates[n] or EARLIEST).timestamp(), n))
    kept = sorted(newest[:MAX_ITEMS])
    how = "newest" if any(dates) else "first"
    return ([entries[n] for n in kept],
            f"{len(entries)} items in one document: kept the {how} {MAX_ITEMS}")


def _why_not_a_feed(body: bytes, result: Mapping[str, Any], content_type: str | None) -> str:
    head = body[:1024].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head:
        return "an HTML page"
    if head.startswith((b"{", b"[")):
        return "JSON that is not a JSON Feed"
    error = _problem(result, content_type)
    return _short(str(error)) if error else "no RSS, Atom or RDF root element"


def _warning(result: Mapping[str, Any], content_type: str | None) -> str | None:
    """What was wrong with a feed that still read."""
    error = _problem(result, content_type)
    return _short(f"{type(error).__name__}: {error}") if error else None


def _joined(*warnings: str | None) -> str | None:
    """Every warning about one document, in one line."""
    return "; ".join(w for w in warnings if w) or None


def _problem(result: Mapping[str, Any], content_type: str | None) -> BaseException | None:
    """feedparser's bozo exception, unless it only says we passed no Content-Type."""
    error = result.get("bozo_exception") if result.get("bozo") else None
    if content_type is None and isinstance(error, feedparser.NonXMLContentType):
        return None
    return error if isinstance(error, BaseException) else None


def _entry_item(feed_id: str, entry: Mapping[str, Any], base_url: str,
                feed_lang: str | None) -> Item:
    title = _clean(entry.get("title"), MAX_TITLE)
    summary = _clean(_entry_text(entry), MAX_SUMMARY)
    link = entry.get("link")
    return Item(
        feed_id=feed_id,
        key=item_key(entry.get("id"), link, base_url, title, summary),
        title=title,
        summary=summary,
        url=safe_url(link, base_url),
        published=_utc(entry.get("published_parsed") or entry.get("updated_parsed")),
        lang=_entry_language(entry) or feed_lang,
        **_source(entry.get("source")),
    )


def _entry_text(entry: Mapping[str, Any]) -> str:
    """summary/description first, else the first non-empty content block."""
    summary = entry.get("summary")
    if isinstance(summary, str) and summary.strip():
        return summary
    for block in entry.get("content") or []:
        value = block.get("value") if isinstance(block, Mapping) else None
        if isinstance(value, str) and value.strip():
            return value
    return ""


def _utc(parsed: object) -> datetime | None:
    """feedparser's UTC struct_time → aware datetime; impossible dates are treated as absent."""
    if not isinstance(parsed, time.struct_time):
        return None
    try:
        return _plausible(datetime.fromtimestamp(calendar.timegm(parsed), UTC))
    except (OverflowError, ValueError, OSError):
        return None


def _plausible(when: datetime) -> datetime | None:
    """A date no news item can have (year 1 or 9999, issue 16) is treated as absent.

    Dates near datetime's limits overflow in later arithmetic (an event's window, a
    criterion's grace), so they never get past the parse stage."""
    return when if EARLIEST <= when < LATEST else None


def _entry_language(entry: Mapping[str, Any]) -> str | None:
    for field in ("title_detail", "summary_detail"):
        found = _detail_language(entry, field)
        if found:
            return found
    return None


def _detail_language(node: Mapping[str, Any], field: str = "title_detail") -> str | None:
    detail = node.get(field)
    return _language(detail.get("language")) if isinstance(detail, Mapping) else None


def _source(source: object) -> dict[str, str | None]:
    """The original publisher an aggregator names (Google News's `<source url>`): `source`,
    its registrable domain (else its name), and `publisher`, its name.

    The domain comes first so the same publisher reached directly and through an aggregator
    counts as one source (edition.cnn.com and cnn.com are one)."""
    if not isinstance(source, Mapping):
        return {}
    href = source.get("href")
    name = _clean(source.get("title"), MAX_SOURCE) or None
    domain = domain_of(href) if isinstance(href, str) and len(href) <= MAX_URL else ""
    if domain and _is_storable(domain):
        return {"source": domain[:MAX_SOURCE], "publisher": name}
    return {"source": name, "publisher": name}


# --- JSON Feed ----------------------------------------------------------------------------


def _json_document(body: bytes) -> dict[str, Any] | None:
    """The JSON object, if the body is a JSON Feed; None lets the XML path decide."""
    if not body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return None
    try:
        doc = json.loads(body.decode("utf-8-sig", "replace"))
    except (ValueError, RecursionError):
        return None
    if isinstance(doc, dict) and _JSONFEED.match(str(doc.get("version", ""))):
        return doc
    return None


def _parse_json_feed(where: str, feed_id: str, doc: dict[str, Any], base_url: str,
                     lang: str | None) -> ParsedFeed:
    raw_items = doc.get("items")
    entries = raw_items if isinstance(raw_items, list) else []
    warning = None if isinstance(raw_items, list) else "JSON Feed without an items list"
    feed_lang = _language(doc.get("language")) or lang
    entries, cut = _newest([e for e in entries if isinstance(e, dict)],
                           lambda e: _iso_utc(e.get("date_published") or e.get("date_modified")))
    items = [_json_item(feed_id, e, base_url, feed_lang) for e in entries]
    return ParsedFeed(title=_clean(doc.get("title"), MAX_TITLE), items=items,
                      warning=_joined(warning, cut))


def _json_item(feed_id: str, entry: dict[str, Any], base_url: str,
               feed_lang: str | None) -> Item:
    title = _clean(entry.get("title"), MAX_TITLE)
    text = next((v for k in ("summary", "content_html", "content_text")
                 if isinstance(v := entry.get(k), str) and v.strip()), "")
    summary = _clean(text, MAX_SUMMARY)
    link = entry.get("url") or entry.get("external_url")
    raw_id = entry.get("id")
    guid = str(raw_id) if isinstance(raw_id, str | int) and not isinstance(raw_id, bool) else None
    return Item(
        feed_id=feed_id,
        key=item_key(guid, link, base_url, title, summary),
        title=title,
        summary=summary,
        url=safe_url(link, base_url),
        published=_iso_utc(entry.get("date_published") or entry.get("date_modified")),
        lang=_language(entry.get("language")) or feed_lang,
    )


def _iso_utc(value: object) -> datetime | None:
    """RFC 3339 → aware UTC; a date without offset is taken as UTC."""
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value.strip())
        # 9999-12-31T23:59:59-01:00 is a valid string whose UTC moment is past year 9999.
        when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    return _plausible(when)


# --- fields -------------------------------------------------------------------------------


def _clean(value: object, limit: int) -> str:
    """Markup → plain text within `limit` characters, whatever the feed sent."""
    if not isinstance(value, str):
        return ""
    return truncate(strip_html(value[: limit * _RAW_FACTOR]), limit)


def item_key(guid: object, link: object, base_url: str, title: str, summary: str) -> str:
    """Stable identity: guid/id, else the canonical link, else a hash of the text."""
    if isinstance(guid, str) and guid.strip():
        guid = guid.strip()
        # NUL or a lone surrogate would be refused by the database: hashed like a long guid.
        return guid if len(guid) <= MAX_KEY and _is_storable(guid) else "sha256:" + _sha256(guid)
    canonical = canonical_url(safe_url(link, base_url))
    if canonical:
        return canonical if len(canonical) <= MAX_KEY else "sha256:" + _sha256(canonical)
    return "sha256:" + _sha256(f"{title}\n{summary}")


def safe_url(link: object, base_url: str) -> str:
    """An absolute http(s) link, or "" (javascript:, data:, mailto: and junk are dropped).

    A user name in the link (https://www.gov.kz@evil.example/) only serves to make it read
    as another host, so it is removed; a link hiding bidi or other invisible characters is
    dropped."""
    if not isinstance(link, str) or not link.strip() or len(link) > MAX_URL:
        return ""
    try:
        url = urljoin(base_url, link.strip())
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return ""
    if _hides_characters(url) or len(url) > MAX_URL:
        return ""
    if "@" in parts.netloc:
        url = urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))
    return url


def _hides_characters(url: str) -> bool:
    """Whitespace, or a control, format or unassigned character (category C), anywhere in it.
    An ASCII URL has only ASCII ones to hide: one scan in C instead of a call per character."""
    if url.isascii():
        return _ASCII_HIDDEN.search(url) is not None
    return any(ch.isspace() or unicodedata.category(ch)[0] == "C" for ch in url)


def canonical_url(url: str) -> str:
    """The link without fragment and utm_* tracking parameters, host lower-cased."""
    if not url:
        return ""
    parts = urlsplit(url)
    query = parts.query
    if "utm_" in query.lower():
        query = urlencode([(k, v) for k, v in parse_qsl(query, keep_blank_values=True)
                           if not k.lower().startswith("utm_")])
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", query, ""))


def _language(value: object) -> str | None:
    """'en-US' → 'en': the primary subtag is what rules and digests use."""
    if not isinstance(value, str):
        return None
    primary = value.strip().lower().replace("_", "-").split("-", 1)[0]
    return primary if _LANG.fullmatch(primary) else None


def _is_storable(text: str) -> bool:
    """No NUL and no lone surrogate: PostgreSQL refuses NUL, and no codec writes U+D800."""
    return storable(text) == text


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _short(text: str) -> str:
    """An error or warning about a document, in one storable line."""
    return storable(truncate(" ".join(text.split()), 300))
