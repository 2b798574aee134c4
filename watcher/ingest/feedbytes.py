"""A feed's bytes made readable before parsing: one encoding, nothing to expand or crash on.

- UTF-16/32 becomes UTF-8 (feedparser misreads UTF-16 without a declaration).
- A document meant as UTF-8 with a few invalid bytes is read as UTF-8, each invalid sequence
  becoming U+FFFD (issue 16). feedparser gives up on UTF-8 at the first invalid byte and
  reads the whole document as windows-1252 or iso-8859-2: one stray byte garbled every
  Cyrillic headline and lost its match. Browsers do what is done here (the WHATWG Encoding
  Standard never switches encodings on an error, it replaces the bad bytes), and so do Go
  readers like miniflux. Only when the document is mostly valid UTF-8: a file that is really
  windows-1251 or Latin-1 behind a UTF-8 label is nearly all invalid sequences, and is left
  to feedparser's fallbacks as before.
- Entity declarations are removed (no billion laughs), and character references that name
  no character (&#0;, &#xD800;), on which feedparser crashes, become U+FFFD.
"""

from __future__ import annotations

import re

from watcher.errors import FeedError

MOSTLY = 4       # valid non-ASCII characters per invalid sequence for "mostly UTF-8"
_DOCTYPE = re.compile(rb"<!DOCTYPE\b")
# A DOCTYPE with an internal subset; quoted strings, comments and PIs may hold ']' or '>'.
# Possessive quantifiers keep the scan linear even when the subset never closes.
_SUBSET = re.compile(rb"""<!DOCTYPE(?P<decl>[^\[>]*+)\[
    (?:[^\]"'<]++ | "[^"]*+" | '[^']*+' | <!--(?:[^-]++|-(?!->))*+-->
       | <\?(?:[^?]++|\?(?!>))*+\?> | <)*+
    \]\s*+>""", re.VERBOSE)
_WIDE_BOMS = ((b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe\x00\x00", "utf-32-le"),
              (b"\xfe\xff", "utf-16-be"), (b"\xff\xfe", "utf-16-le"))
_WIDE_STARTS = ((b"\x00\x00\x00<", "utf-32-be"), (b"<\x00\x00\x00", "utf-32-le"),
                (b"\x00<", "utf-16-be"), (b"<\x00", "utf-16-le"))
_DECLARED_ENCODING = re.compile(rb"""\A(<\?xml[^>]{0,200}?encoding\s*=\s*)(["'])[^"']{0,40}\2""")
_CHARSET = re.compile(r";\s*charset\s*=[^;]*", re.IGNORECASE)
_CHARREF = re.compile(rb"&#([xX][0-9A-Fa-f]{1,16}|[0-9]{1,16});")
_UTF8_LABELS = {"utf-8", "utf8", "us-ascii", "ascii"}   # us-ascii: RFC 3023's text/xml default
_XML_ENCODING = re.compile(rb"\A(?:\xef\xbb\xbf)?<\?xml[^>]{0,200}?"
                           rb"""encoding\s*=\s*["']([A-Za-z0-9._-]{1,40})["']""")
_HTTP_CHARSET = re.compile(r"charset\s*=\s*[\"']?([^\s;\"']+)", re.IGNORECASE)


def utf8(body: bytes, content_type: str | None) -> tuple[bytes, str | None, str | None]:
    """(body, Content-Type, warning): UTF-16/32 and mostly-UTF-8 documents as clean UTF-8."""
    body, content_type = utf8_if_wide(body, content_type)
    body, warning = _repaired_utf8(body, content_type)
    return body, content_type, warning


def defused(where: str, body: bytes) -> bytes:
    """What feedparser may be given: no entity declarations, no reference to no character."""
    return _valid_charrefs(_strip_subset(where, body))


def _repaired_utf8(body: bytes, content_type: str | None) -> tuple[bytes, str | None]:
    """A UTF-8 document with a few invalid bytes, decoded with U+FFFD for each (see above)."""
    if body.isascii():
        return body, None
    try:
        body.decode("utf-8")
        return body, None
    except UnicodeDecodeError:
        pass
    if not _meant_as_utf8(body, content_type):
        return body, None
    text = body.decode("utf-8", "replace")
    bad = text.count("\ufffd") - body.count("\ufffd".encode())
    good = len(text) - len(text.encode("ascii", "ignore")) - bad
    if good < MOSTLY * bad:
        return body, None
    return text.encode("utf-8"), f"{bad} invalid UTF-8 byte sequence(s) read as U+FFFD"


def _meant_as_utf8(body: bytes, content_type: str | None) -> bool:
    """The HTTP charset, else the XML declaration, else XML's default, says UTF-8."""
    charset = _HTTP_CHARSET.search(content_type or "")
    if charset is not None:
        return charset.group(1).lower() in _UTF8_LABELS
    declared = _XML_ENCODING.match(body)
    return declared is None or declared.group(1).decode().lower() in _UTF8_LABELS


def utf8_if_wide(body: bytes, content_type: str | None) -> tuple[bytes, str | None]:
    """UTF-16/32 (by BOM or by '<' pattern) → UTF-8, declaration and charset to match.

    feedparser 6.0.14 misreads UTF-16 without an encoding declaration even with a BOM, and
    the DOCTYPE scan below only reads ASCII-compatible bytes.
    """
    codec, skip = _wide_codec(body)
    if codec is None:
        return body, content_type
    text = body[skip:].decode(codec, "replace").encode("utf-8")
    text = _DECLARED_ENCODING.sub(rb'\1"utf-8"', text, count=1)
    if content_type:
        content_type = _CHARSET.sub("", content_type) + "; charset=utf-8"
    return text, content_type


def _wide_codec(body: bytes) -> tuple[str | None, int]:
    """The UTF-16/32 variant a document starts with, and the length of its BOM."""
    for bom, codec in _WIDE_BOMS:
        if body.startswith(bom):
            return codec, len(bom)
    for start, codec in _WIDE_STARTS:
        if body.startswith(start):
            return codec, 0
    return None, 0


def _strip_subset(where: str, body: bytes) -> bytes:
    """Remove a DOCTYPE internal subset that declares entities: nothing gets expanded."""
    start = _DOCTYPE.search(body, 0, 65_536)
    if start is None or b"<!ENTITY" not in body:
        return body
    match = _SUBSET.match(body, start.start())
    if match is None:
        if b"[" in body[start.start():body.find(b">", start.start())]:
            raise FeedError(where, "not a feed: unterminated DOCTYPE declaring entities")
        return body
    if b"<!ENTITY" not in match.group(0):
        return body
    return body[:match.start()] + b"<!DOCTYPE" + match.group("decl") + b">" + body[match.end():]


def _valid_charrefs(body: bytes) -> bytes:
    """&#0;, &#xD800; or &#99999999; name no character: feedparser crashes on them (issue 16).

    Each becomes U+FFFD, as an HTML parser would read it; the rest of the document stays."""
    if b"&#" not in body:
        return body
    return _CHARREF.sub(_charref_or_replacement, body)


def _charref_or_replacement(ref: re.Match[bytes]) -> bytes:
    digits = ref.group(1)
    code = int(digits[1:], 16) if digits[:1] in (b"x", b"X") else int(digits)
    if code == 0 or 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
        return b"&#xFFFD;"
    return ref.group(0)
