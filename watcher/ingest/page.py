"""Parse stage for press pages without a feed: HTML + selectors → `Item`s. Pure: no I/O, no clock.

A page source names, with CSS selectors (or XPath), the element that holds one news item and
the fields inside it (title, link, date, summary). The items become ordinary `Item`s, keyed by
their link (else a hash of title and printed date), so they are stored, matched and counted
like any feed's. A page whose item or title selector finds nothing is a `FeedError` that says
so: a site redesign must show as a failing source, never as a quiet source with no news.

Hostile pages are bounded: the body is capped by the fetcher, the tree is read incrementally
and cut at MAX_ELEMENTS (libxml2 also refuses nesting deeper than 256), scripts and styles
are dropped before any text is read, at most MAX_ITEMS items are kept and every field is
capped like a feed's.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from cssselect import HTMLTranslator, SelectorError
from lxml import etree

from watcher.errors import FeedError
from watcher.ingest.dates import read_date
from watcher.ingest.parse import MAX_SUMMARY, MAX_TITLE, ParsedFeed, item_key, parse_feed, safe_url
from watcher.models import Item
from watcher.text import truncate

MAX_ELEMENTS = 50_000      # a press page's news list has a few thousand; the rest is not read
MAX_ITEMS = 200            # items kept per page, in page order (lists show 10-50)
CHUNK = 64 * 1024
_RAW_FACTOR = 4            # text gathered before capping: enough to fold whitespace in
_XPATH_START = ("/", "./", "../", "(")
_ATTR = re.compile(r"^(?P<css>.*?)::attr\((?P<name>[A-Za-z_:][-A-Za-z0-9_:.]*)\)\s*$", re.DOTALL)
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?([A-Za-z0-9_.:-]{1,40})""",
                           re.IGNORECASE)
_CHARSET = re.compile(r"charset\s*=\s*\"?([A-Za-z0-9_.:-]{1,40})", re.IGNORECASE)
_DROPPED = ("script", "style", "noscript", "template", "svg")
_SKIPPED = (etree._Comment, etree._ProcessingInstruction, etree._Entity)


@dataclass(frozen=True)
class PageSelectors:
    """Where a page's items and their fields are (the `select:` block of a `type: html` feed)."""

    item: str
    title: str
    link: str | None = None        # default: the title's own link, else the item's first link
    date: str | None = None        # text, or a <time datetime="…"> attribute
    summary: str | None = None
    date_format: str | None = None
    date_lang: str | None = None   # month names' language (en, ru, kk, he); None: any
    timezone: str = "UTC"          # for a printed time of day without an offset

    def fields(self) -> dict[str, str]:
        """The selectors by field name, for validation and messages."""
        named = {"item": self.item, "title": self.title, "link": self.link,
                 "date": self.date, "summary": self.summary}
        return {k: v for k, v in named.items() if v}


@dataclass(frozen=True)
class Selector:
    """A compiled selector: its text (for messages), its XPath and the attribute it reads."""

    text: str
    xpath: etree.XPath
    attribute: str | None = None

    def all(self, node: etree._Element) -> list[object]:
        """Every match under (and including) `node`, in document order."""
        found = self.xpath(node)
        return list(found) if isinstance(found, list) else [found]

    def first(self, node: etree._Element) -> etree._Element | str | None:
        """The first element or string this selector finds in `node`."""
        for hit in self.all(node):
            if isinstance(hit, etree._Element) and not isinstance(hit, _SKIPPED):
                if self.attribute is None:
                    return hit
                value = hit.get(self.attribute)
                if value is not None:
                    return value
            elif isinstance(hit, str | int | float) and not isinstance(hit, bool):
                return str(hit)
        return None


def compile_selector(text: str) -> Selector:
    """CSS (cssselect; `a.more::attr(href)` reads an attribute) or XPath (starting with
    `/`, `./`, `../` or `(`) → a Selector; ValueError says what is wrong with it.

    Compiled for each page read (tens of microseconds), never cached: a compiled XPath is
    not to be shared between the threads that may parse pages."""
    text = text.strip()
    if not text:
        raise ValueError("empty selector")
    if text.startswith(_XPATH_START):
        return Selector(text, _xpath(text, text))
    attr = _ATTR.match(text)
    css = attr.group("css").strip() if attr else text
    try:
        expression = HTMLTranslator().css_to_xpath(css, prefix="descendant-or-self::")
    except SelectorError as exc:
        raise ValueError(f"invalid CSS selector {text!r}: {exc}") from None
    return Selector(text, _xpath(expression, text), attr.group("name") if attr else None)


def _xpath(expression: str, text: str) -> etree.XPath:
    try:
        compiled = etree.XPath(expression, smart_strings=False)
        compiled(etree.fromstring("<html/>"))      # unknown functions fail only when run
    except etree.XPathError as exc:
        raise ValueError(f"invalid XPath {text!r}: {exc}") from None
    return compiled


def parse_source(feed_id: str, body: bytes, select: PageSelectors | None, *,
                 content_type: str | None = None, base_url: str = "",
                 lang: str | None = None, aggregator: bool = False) -> ParsedFeed:
    """A source's body → items: a page through its selectors, anything else as a feed
    (`aggregator`: see parse_feed)."""
    if select is not None:
        return parse_page(feed_id, body, select, content_type=content_type, base_url=base_url,
                          lang=lang)
    return parse_feed(feed_id, body, content_type=content_type, base_url=base_url, lang=lang,
                      aggregator=aggregator)


def parse_page(feed_id: str, body: bytes, select: PageSelectors, *,
               content_type: str | None = None, base_url: str = "",
               lang: str | None = None) -> ParsedFeed:
    """Read the items `select` names out of an HTML page; FeedError if the layout is not there."""
    where = base_url or feed_id
    root, cut = html_tree(body, content_type)
    if root is None:
        raise FeedError(where, "not a page: empty body")
    base = _base(root, base_url)
    nodes = [n for n in compile_selector(select.item).all(root) if isinstance(n, etree._Element)]
    if not nodes:
        raise FeedError(where, f"selector `{select.item}` matched nothing; "
                               "the page's layout may have changed")
    reader = _Reader(feed_id, select, base, lang)
    items = [item for node in nodes[:MAX_ITEMS] if (item := reader.item(node)) is not None]
    if not items:
        raise FeedError(where, f"selector `{select.title}` found no title in any of the "
                               f"{len(nodes)} item(s) `{select.item}` matched; the page's "
                               "layout may have changed")
    title = _text(root.find(".//title"), MAX_TITLE)
    warning = reader.warning(len(nodes), cut)
    return ParsedFeed(title=title, items=_unique(items), warning=warning)


def _unique(items: list[Item]) -> list[Item]:
    """One item per key: a page may list the same story twice (top story and list)."""
    seen: dict[str, Item] = {}
    for item in items:
        seen.setdefault(item.key, item)
    return list(seen.values())


class _Reader:
    """Reads one item element into an Item, counting what it had to skip or guess."""

    def __init__(self, feed_id: str, select: PageSelectors, base: str, lang: str | None) -> None:
        self.feed_id, self.select, self.base, self.lang = feed_id, select, base, lang
        self.title = compile_selector(select.title)
        self.link = compile_selector(select.link) if select.link else None
        self.date = compile_selector(select.date) if select.date else None
        self.summary = compile_selector(select.summary) if select.summary else None
        self.tz = ZoneInfo(select.timezone)
        self.date_lang = select.date_lang
        self.untitled = 0
        self.undated: list[str] = []

    def item(self, node: etree._Element) -> Item | None:
        title_node = self.title.first(node)
        title = _text(title_node, MAX_TITLE)
        if not title:
            self.untitled += 1
            return None
        link = safe_url(self._href(node, title_node), self.base)
        printed, published = self._date(node)
        summary = _text(self.summary.first(node), MAX_SUMMARY) if self.summary else ""
        return Item(feed_id=self.feed_id, key=item_key(None, link, self.base, title, printed),
                    title=title, summary=summary, url=link, published=published, lang=self.lang)

    def _href(self, node: etree._Element, title_node: etree._Element | str | None) -> str:
        if self.link is not None:
            found = self.link.first(node)
            return found if isinstance(found, str) else _link_of(found)
        if isinstance(title_node, etree._Element):
            own = _link_of(title_node) or next(
                (a.get("href", "") for a in title_node.iterancestors("a") if a.get("href")), "")
            if own:
                return own
        return _link_of(node)

    def _date(self, node: etree._Element) -> tuple[str, datetime | None]:
        if self.date is None:
            return "", None
        found = self.date.first(node)
        printed = found if isinstance(found, str) else (
            (found.get("datetime") or _text(found, 200)) if found is not None else "")
        if not printed:
            self.undated.append("(no date element)")
            return "", None
        when = read_date(printed, date_format=self.select.date_format, lang=self.date_lang,
                         tz=self.tz)
        if when is None:
            self.undated.append(printed)
        return printed, when

    def warning(self, matched: int, cut: bool) -> str | None:
        """What the poll should record about this page, if anything went less than right."""
        notes = []
        if cut:
            notes.append(f"page cut at {MAX_ELEMENTS:,} elements")
        if matched > MAX_ITEMS:
            notes.append(f"{matched} items matched, the first {MAX_ITEMS} kept")
        if self.untitled:
            notes.append(f"{self.untitled} item(s) without a title skipped")
        if self.undated:
            example = truncate(self.undated[0], 60)
            notes.append(f"date not understood in {len(self.undated)} item(s) "
                         f"(e.g. {example!r}); check select.date / date_format")
        return "; ".join(notes) or None


def _link_of(node: etree._Element | None) -> str:
    """An element's own href, else the first link inside it."""
    if node is None:
        return ""
    href = node.get("href")
    if href:
        return str(href)
    inner = next((a for a in node.iter("a") if a.get("href")), None)
    return str(inner.get("href")) if inner is not None else ""


def _text(node: etree._Element | str | None, limit: int) -> str:
    """The visible text of an element (pieces joined by spaces), folded and capped."""
    if node is None:
        return ""
    if isinstance(node, str):
        return truncate(" ".join(node[: limit * _RAW_FACTOR].split()), limit)
    pieces, size = [], 0
    for piece in _texts(node):
        pieces.append(piece)
        size += len(piece)
        if size > limit * _RAW_FACTOR:
            break
    return truncate(" ".join(" ".join(pieces).split()), limit)


def _texts(node: etree._Element) -> Iterator[str]:
    """Text and tails under `node`, skipping comments and processing instructions."""
    if node.text and not isinstance(node, _SKIPPED):
        yield node.text
    for child in node:
        yield from _texts(child)
        if child.tail:
            yield child.tail


def _base(root: etree._Element, base_url: str) -> str:
    """Where relative links resolve: the page's <base href> (itself resolved), else its URL."""
    base = root.find(".//base[@href]")
    href = base.get("href") if base is not None else None
    return safe_url(href, base_url) or base_url if href else base_url


def html_tree(body: bytes, content_type: str | None) -> tuple[etree._Element | None, bool]:
    """An HTML page's tree, read at most MAX_ELEMENTS elements into the document; and
    whether it was cut there. Scripts, styles and comments are gone before any text is read."""
    text = _decode(body, content_type)
    if not text.strip():
        return None, False
    parser = etree.HTMLPullParser(events=("start",), remove_comments=True, remove_pis=True,
                                  no_network=True)
    count, cut = 0, False
    for start in range(0, len(text), CHUNK):
        parser.feed(text[start:start + CHUNK])
        count += sum(1 for _ in parser.read_events())
        if count > MAX_ELEMENTS:
            cut = True
            break
    try:
        root = parser.close()
    except etree.XMLSyntaxError:
        return None, cut
    etree.strip_elements(root, *_DROPPED, with_tail=False)
    return root, cut


def _decode(body: bytes, content_type: str | None) -> str:
    """Bytes → text: the header's charset, else a <meta> charset, else a BOM, else UTF-8."""
    for candidate in (_header_charset(content_type), _meta_charset(body)):
        if candidate:
            try:
                return body.decode(codecs.lookup(candidate).name, "replace")
            except LookupError:
                continue
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return body.decode("utf-16", "replace")
    return body.decode("utf-8-sig", "replace")


def _header_charset(content_type: str | None) -> str | None:
    m = _CHARSET.search(content_type or "")
    return m.group(1) if m else None


def _meta_charset(body: bytes) -> str | None:
    m = _META_CHARSET.search(body[:4096])
    return m.group(1).decode("ascii") if m else None
