"""The parse stage's fast path: plain RSS 2.0 and Atom 1.0 documents read with lxml.

feedparser reads anything, but its SAX and HTML-sanitizer passes cost ~15 ms of CPU for a
40 KB feed (profile in benchmarks/README.md); lxml builds the same document's tree in well
under 1 ms. This module reads the common case into the very dicts feedparser would have
produced for the fields watcher uses (title, summary, content, link, id, dates, languages,
source), so `parse._entry_item` turns both into identical Items. Whenever a document holds
anything whose reading by feedparser is not reproduced here exactly (a DOCTYPE, xml:base, an
element that feedparser maps onto one of those fields, markup its sanitizer would change,
another encoding rule...), `read` returns None and the caller falls back to feedparser.
tests/test_feedxml.py holds the two paths equal over the fixtures, the real-world corpus,
the benchmark corpus and generated documents.

It leans on feedparser's own tables and helpers (date parser, URI joining, sanitizer
element lists, cp1252 map) so the two cannot drift apart silently.
"""

from __future__ import annotations

import html.entities
import re
import threading
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from feedparser.datetimes import _parse_date
from feedparser.html import _BaseHTMLProcessor, _cp1252
from feedparser.mixin import _FeedParserMixin
from feedparser.sanitizer import _HTMLSanitizer
from feedparser.urls import _urljoin, make_safe_absolute_uri
from lxml import etree

ATOM = "http://www.w3.org/2005/Atom"
XHTML = "http://www.w3.org/1999/xhtml"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_NAMESPACES = {k.lower(): v for k, v in _FeedParserMixin.namespaces.items()}
_HTML_TYPES = {"text/html", "application/xhtml+xml"}
_COPIED_TO_SUMMARY = {"text/plain"} | _HTML_TYPES
# Entry children whose feedparser handlers touch none of the fields watcher reads.
_NEUTRAL = {"author", "category", "comments", "enclosure", "dc_creator", "dc_subject",
            "media_thumbnail", "media_content", "wfw_commentrss", "slash_comments", "rights"}
_PERSON_PARTS = {"name", "email", "uri"}
_XML_TYPES = ("application/xml", "application/rss+xml", "application/atom+xml")
_DECLARATION = re.compile(rb"\A(?:\xef\xbb\xbf)?<\?xml[^>]{0,200}?"
                          rb"""encoding\s*=\s*["']([A-Za-z0-9._-]{1,40})["']""")
_ITEMS = ("count(//*[(translate(local-name(), 'ITEMNRY', 'itemnry') = 'item'"
          " or translate(local-name(), 'ITEMNRY', 'itemnry') = 'entry')"
          " and (" + " or ".join(f"namespace-uri() = '{ns}'" for ns, p in
                                 _FeedParserMixin.namespaces.items() if p == "") + ")])")
_HAS_BASE = "boolean(//@*[local-name() = 'base'])"
# HTML that feedparser's sanitizer would pass through unchanged as far as strip_html can
# tell: acceptable tags of at most 1,000 characters with no '<' or '>' inside.
_TAG = re.compile(r"<([A-Za-z][A-Za-z0-9]*)(?:\s[^<>]{0,1000})?/?>|</([A-Za-z][A-Za-z0-9]*)>")
_ENTITY = re.compile(r"&([A-Za-z][-.A-Za-z0-9]*)(;?)")
_CHARREF = re.compile(r"&#(?:[0-9]+|[xX][0-9A-Fa-f]+)(;?)")
_ACCEPTABLE = frozenset(_HTMLSanitizer.acceptable_elements) - {"applet", "script", "style"}
_NO_END_TAG = frozenset(_BaseHTMLProcessor.elements_no_end_tag)
_KNOWN_ENTITIES = frozenset(html.entities.name2codepoint) | {"apos"}
_CP1252_RE = re.compile("[" + "".join(map(chr, _cp1252)) + "]")
_local = threading.local()


class _Unsure(Exception):
    """feedparser might read this document differently: let feedparser read it."""


@dataclass(frozen=True)
class Document:
    """A feed read into feedparser-shaped dicts: `feed` (title, language) and `entries`."""

    feed: dict[str, Any]
    entries: list[dict[str, Any]]


def read(body: bytes, content_type: str | None, base_url: str) -> Document | None:
    """The document as feedparser would read it, or None when only feedparser can tell."""
    if not _plain_bytes(body, content_type):
        return None
    try:
        root = etree.fromstring(body, _parser())
    except (etree.XMLSyntaxError, ValueError):
        return None
    base = _base(base_url)
    try:
        if root.xpath(_HAS_BASE):
            return None
        if root.tag == "rss":
            return _rss(root, base)
        if root.tag == f"{{{ATOM}}}feed":
            return _atom(root, base)
    except _Unsure:
        return None
    return None


def _parser() -> etree.XMLParser:
    """One parser per thread (lxml parsers are not thread-safe); no DTD, no network."""
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                                 huge_tree=False, remove_comments=False)
        _local.parser = parser
    return parser


def _plain_bytes(body: bytes, content_type: str | None) -> bool:
    """Bytes whose decoding feedparser and lxml agree on, with no DTD to honour."""
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        return False
    declared = _DECLARATION.match(body)
    encoding = declared.group(1).decode().lower() if declared else "utf-8"
    if content_type is None:   # no declared encoding either: feedparser guesses iso-8859-1
        return declared is not None
    media, _, params = content_type.partition(";")
    media = media.strip().lower()
    charset = re.search(r"charset\s*=\s*[\"']?([^\s;\"']+)", params, re.IGNORECASE)
    if charset is None:   # text/xml without charset is us-ascii to feedparser (RFC 3023)
        return media in _XML_TYPES
    return media in _XML_TYPES + ("text/xml",) and charset.group(1).lower() == encoding


def _base(base_url: str) -> str:
    """The base URI feedparser resolves against (its Content-Location handling)."""
    base = str(make_safe_absolute_uri("", base_url))
    return str(make_safe_absolute_uri(base, base) or base)


# --- documents ----------------------------------------------------------------------------


def _rss(root: Any, base: str) -> Document:
    channel = root.find("channel")
    if channel is None or len(root) != 1 or _attrs(root, "version"):
        raise _Unsure
    items = channel.findall("item")
    if root.xpath(_ITEMS) != len(items):
        raise _Unsure
    _check_feed_children(channel, {"title", "language"})
    feed: dict[str, Any] = {}
    root_lang = _lang_in_scope(root)
    if root_lang:
        feed["language"] = root_lang
    title = _only(channel, "title")
    if title is not None:
        _set_text(feed, "title", title, atom=False)
    for el in channel.findall("language"):
        feed["language"] = _pop(_leaf_text(el))
    return Document(feed, [_rss_item(item, base) for item in items])


def _atom(root: Any, base: str) -> Document:
    entries = root.findall(f"{{{ATOM}}}entry")
    if root.xpath(_ITEMS) != len(entries) or _attrs(root, "version"):
        raise _Unsure
    _check_feed_children(root, {f"{{{ATOM}}}title"})
    feed: dict[str, Any] = {}
    root_lang = _lang_in_scope(root)
    if root_lang:
        feed["language"] = root_lang
    title = _only(root, f"{{{ATOM}}}title")
    if title is not None:
        _set_text(feed, "title", title, atom=True)
    return Document(feed, [_atom_entry(entry, base) for entry in entries])


def _check_feed_children(parent: Any, exact: set[str]) -> None:
    """Feed-level title and language only as spelled here (feedparser ignores case)."""
    for child in parent:
        if isinstance(child.tag, str) and child.tag not in exact and \
                _feedparser_name(child) in ("title", "language", "dc_language", "dc_title"):
            raise _Unsure


def _rss_item(item: Any, base: str) -> dict[str, Any]:
    if _attrs(item):
        raise _Unsure
    entry: dict[str, Any] = {}
    children = _children(item, {"title", "link", "guid", "description", "pubdate",
                                "content_encoded", "dc_date", "source"})
    if "title" in children:
        _set_text(entry, "title", children["title"], atom=False)
    if "description" in children:
        _set_text(entry, "summary", children["description"], atom=False, default="text/html")
    if "content_encoded" in children:
        _add_content(entry, children["content_encoded"], "text/html", atom=False)
    _rss_identity(entry, children, base)
    _dates(entry, children.get("pubdate"), children.get("dc_date"))
    if "source" in children:
        entry["source"] = _rss_source(children["source"])
    return entry


def _atom_entry(el: Any, base: str) -> dict[str, Any]:
    if _attrs(el):
        raise _Unsure
    entry: dict[str, Any] = {}
    children = _children(el, {"title", "id", "published", "updated", "summary", "content"},
                         repeatable={"link"})
    if "title" in children:
        _set_text(entry, "title", children["title"], atom=True)
    if "summary" in children:
        _set_text(entry, "summary", children["summary"], atom=True)
    if "content" in children:
        _add_content(entry, children["content"], "text/plain", atom=True)
    if "id" in children:
        if _attrs(children["id"]):
            raise _Unsure
        # feedparser treats an Atom id like a permalink guid: resolved, and the link if none.
        value = _pop(_leaf_text(children["id"]))
        entry["id"] = _urljoin(base, value) if value else value
        entry["link"] = entry["id"]
    for link in children.get("links", []):
        href = _alternate_href(link, base)
        if href is not None:
            entry["link"] = href
    _dates(entry, children.get("published"), children.get("updated"))
    return entry


# --- children -------------------------------------------------------------------------------


def _children(parent: Any, fields: set[str], repeatable: frozenset[str] | set[str] = frozenset()
              ) -> dict[str, Any]:
    """The children feedparser maps onto watcher's fields, by feedparser's name for them.

    Any other child must be a leaf that feedparser keeps elsewhere; a field given twice, a
    child of unknown effect or a comment is left to feedparser."""
    out: dict[str, Any] = {}
    for child in parent:
        if not isinstance(child.tag, str):
            raise _Unsure                         # comment or processing instruction
        name = _feedparser_name(child)
        if name in fields:
            if name in out:
                raise _Unsure
            out[name] = child
        elif name in repeatable:
            out.setdefault(name + "s", []).append(child)
        elif name in ("author", "contributor") and all(
                _feedparser_name(c) in _PERSON_PARTS and len(c) == 0 for c in child):
            continue
        elif len(child) or not _harmless(name):
            raise _Unsure
    return out


def _feedparser_name(el: Any) -> str:
    """'dc_creator', 'content_encoded', 'title': the handler name feedparser dispatches on."""
    qname = etree.QName(el)
    local = str(qname.localname).lower()
    if qname.namespace is None:
        return local
    prefix = _NAMESPACES.get(qname.namespace.lower(), (el.prefix or "").lower())
    return f"{prefix}_{local}" if prefix else local


def _harmless(name: str) -> bool:
    """A child feedparser stores under its own key, or handles without touching our fields."""
    if name in _NEUTRAL:
        return True
    has_handler = (hasattr(_FeedParserMixin, "_start_" + name)
                   or hasattr(_FeedParserMixin, "_end_" + name))
    return not has_handler and name not in ("title", "summary", "content", "link", "id", "source")


def _only(parent: Any, tag: str) -> Any:
    """The one child with this tag, or None; two of them are left to feedparser."""
    found = parent.findall(tag)
    if len(found) > 1:
        raise _Unsure
    return found[0] if found else None


def _attrs(el: Any, *allowed: str) -> bool:
    """Attributes beyond xml:lang and the allowed ones (feedparser reads some of them)."""
    return any(k != _XML_LANG and k not in allowed for k in el.attrib)


def _leaf_text(el: Any) -> str:
    if len(el):
        raise _Unsure
    return el.text or ""


# --- fields --------------------------------------------------------------------------------


def _set_text(target: dict[str, Any], key: str, el: Any, *, atom: bool,
              default: str = "text/plain") -> None:
    """A title or summary with its `_detail` language, as feedparser's pop() leaves it."""
    value, _ctype = _content_value(el, default, atom)
    target[key] = value
    target[key + "_detail"] = {"language": _lang_in_scope(el)}


def _add_content(entry: dict[str, Any], el: Any, default: str, *, atom: bool) -> None:
    """A content block; feedparser copies it to the summary when there is none."""
    value, ctype = _content_value(el, default, atom)
    entry["content"] = [{"value": value, "type": ctype}]
    if ctype in _COPIED_TO_SUMMARY:
        entry.setdefault("summary", value)


def _content_value(el: Any, default: str, atom: bool) -> tuple[str, str]:
    """(text, content type) of a text construct; markup is checked, never rewritten."""
    if _attrs(el, "type"):
        raise _Unsure
    ctype = _FeedParserMixin.map_content_type(el.get("type", default))
    if ctype == "application/xhtml+xml" and atom:
        value = _pop(_xhtml(el))
        _check_html(value)
        return value, ctype
    value = _pop(_leaf_text(el))
    if not atom and ctype == "text/plain" and _FeedParserMixin.looks_like_html(value):
        ctype = "text/html"
    if ctype == "text/html":
        _check_html(value)
    elif ctype != "text/plain":
        raise _Unsure
    return value, ctype


def _xhtml(el: Any) -> str:
    """Inline XHTML serialised: the markup strip_html will see, as feedparser rebuilds it."""
    for node in el.iterdescendants():
        if not isinstance(node.tag, str) or etree.QName(node).namespace != XHTML or node.prefix:
            raise _Unsure
    if len(el) == 1 and etree.QName(el[0]).localname == "div" and \
            not (el.text or "").strip() and not (el[0].tail or "").strip():
        el = el[0]          # feedparser unwraps the usual <div> before it strips whitespace
    parts = [escape(el.text or "")]
    parts += [etree.tostring(child, encoding=str, with_tail=True) for child in el]
    return "".join(parts)


def _pop(value: str) -> str:
    """feedparser's last steps on every value: strip, undo UTF-8 read as Latin-1, cp1252."""
    value = value.strip()
    if not value.isascii():
        try:
            value = value.encode("iso-8859-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return value.translate(_cp1252) if _CP1252_RE.search(value) else value


def _check_html(value: str) -> None:
    """Raise _Unsure unless feedparser's sanitizer would leave `value` as strip_html sees it."""
    if "<" not in value and "&" not in value:
        return
    pos = 0
    while (start := value.find("<", pos)) != -1:
        _check_text(value[pos:start])
        tag = _TAG.match(value, start)
        if tag is None:
            raise _Unsure                       # stray '<', comment, CDATA, odd tag
        start_name, end_name = tag.group(1), tag.group(2)
        name = (start_name or end_name).lower()
        if name not in _ACCEPTABLE or (end_name and name in _NO_END_TAG):
            raise _Unsure
        pos = tag.end()
    _check_text(value[pos:])


def _check_text(text: str) -> None:
    """Entity references the sanitizer rewrites would decode differently: leave to it."""
    if "&" not in text:
        return
    for ref in _ENTITY.finditer(text):
        name, semicolon = ref.group(1), ref.group(2)
        if name in _KNOWN_ENTITIES:       # the sanitizer writes "&name;"
            same = semicolon or html.unescape(f"&{name}") == html.unescape(f"&{name};")
        else:                             # it writes "&amp;name", dropping a ';'
            same = not semicolon and html.unescape(f"&{name}") == f"&{name}"
        if not same:
            raise _Unsure
    for ref in _CHARREF.finditer(text):
        if not ref.group(1):
            raise _Unsure


def _lang_in_scope(el: Any) -> str | None:
    """The xml:lang (or lang) feedparser has in scope at this element; '' unsets it."""
    node = el
    while node is not None:
        value = node.get(_XML_LANG, node.get("lang"))
        if value is not None:
            return value or None
        node = node.getparent()
    return None


def _rss_identity(entry: dict[str, Any], children: dict[str, Any], base: str) -> None:
    """id from the guid (resolved if it is a permalink), link from <link>, else the guid."""
    guid = children.get("guid")
    if guid is not None:
        if _attrs(guid, "isPermaLink"):
            raise _Unsure
        permalink = guid.get("isPermaLink", "true") == "true"
        value = _pop(_leaf_text(guid))
        entry["id"] = _urljoin(base, value) if value and permalink else value
        if permalink:
            entry["link"] = entry["id"]
    link = children.get("link")
    if link is not None:
        if _attrs(link):
            raise _Unsure
        value = _pop(_leaf_text(link))
        value = _urljoin(base, value) if value else value
        value = re.sub("&([A-Za-z0-9_]+);", r"&\g<1>", value.replace("&amp;", "&"))
        entry["link"] = value


def _alternate_href(link: Any, base: str) -> str | None:
    """An Atom link's href when feedparser takes it as the entry's link."""
    attrs = {k.lower(): v for k, v in link.attrib.items() if k != _XML_LANG}
    href = attrs.get("url", attrs.get("uri", attrs.get("href")))
    if href is None or len(link) or (link.text or "").strip():
        raise _Unsure
    rel = attrs.get("rel", "alternate").lower()
    ctype = attrs.get("type", "application/atom+xml" if rel == "self" else "text/html").lower()
    if rel == "alternate" and _FeedParserMixin.map_content_type(ctype) in _HTML_TYPES:
        return str(_urljoin(base, href))
    return None


def _dates(entry: dict[str, Any], published: Any, updated: Any) -> None:
    for key, el in (("published_parsed", published), ("updated_parsed", updated)):
        if el is not None:
            if _attrs(el):
                raise _Unsure
            entry[key] = _parse_date(_pop(_leaf_text(el)))


def _rss_source(el: Any) -> dict[str, Any]:
    if _attrs(el, "url"):
        raise _Unsure
    source: dict[str, Any] = {}
    if el.get("url") is not None:
        source["href"] = el.get("url")
    title = _pop(_leaf_text(el))
    if title:
        source["title"] = title
    return source
