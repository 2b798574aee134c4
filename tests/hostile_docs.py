"""Hostile feed documents for the failure-boundary tests and the soak (issue 16).

`documents()` is a hypothesis strategy of (body, content type) pairs: JSON Feeds and RSS/Atom
with dates at datetime's limits, impossible character references, lone surrogates and NULs,
lying encoding declarations, mutated bytes, deep nesting and plain garbage. Each is either a
readable feed or a document watcher must refuse with a reason on the feed, never an exception
that stops the poll.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

# Dates that broke or could break the parse stage: past year 9999 once in UTC, before year 1,
# out of every range, and feedparser's many formats with impossible fields.
EDGE_DATES = [
    "9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00+23:59", "99999-01-01", "0000-00-00T00:00:00Z", "2025-02-30T00:00:00Z",
    "Sat, 31 Dec 9999 23:59:59 -2359", "Mon, 01 Jan 0001 00:00:00 +2359", "1e999",
    "-62135596800", "253402300799", "2025-13-45T25:61:61+99:99", "", " ", "\u0000",
]
ENCODINGS = ["utf-8", "iso-8859-1", "windows-1251", "utf-16", "utf-32", "x-bogus", "ascii",
             "koi8-r", "shift_jis", "ebcdic-cp-us", ""]
CONTENT_TYPES = [None, "application/rss+xml", "text/xml", "application/xml; charset=utf-8",
                 "text/html; charset=windows-1251", "application/rss+xml; charset=bogus",
                 "application/atom+xml; charset=utf-16", "application/feed+json",
                 "application/octet-stream"]
FRAGMENTS = [b"&#0;", b"&#xD800;", b"&#99999999;", b"&#x110000;", b"\xff", b"\xc3", b"\xed\xa0\x80",
             b"\x00", b"<![CDATA[", b"]]>", b"<!DOCTYPE x [<!ENTITY a 'aaaa'>]>", b"&a;",
             b"</item><item>", b"<entry>", b"\xef\xbb\xbf", b"\xff\xfe", b"<" * 50,
             b"<georss:where><gml:Point/></georss:where>", b"<image><width/><height/></image>",
             b"<link href='http://[::1'/>", b"<guid>" + b"9" * 600 + b"</guid>"]

dates = st.one_of(
    st.sampled_from(EDGE_DATES),
    st.datetimes().map(lambda d: d.isoformat()),
    st.builds(lambda d, h, m, sign: f"{d.isoformat()}{sign}{h:02d}:{m:02d}",
              st.datetimes(), st.integers(0, 23), st.integers(0, 59), st.sampled_from("+-")),
    st.from_regex(r"\A(Mon|Fri|Foo), [0-9]{1,3} (Jan|Dec|Xyz) [0-9]{1,6} "
                  r"[0-9]{1,3}:[0-9]{1,3}:[0-9]{1,3} ([A-Z]{1,4}|[+-][0-9]{4})\Z"),
    st.text(max_size=30),
)
texts = st.one_of(st.text(max_size=40), st.sampled_from(["\ud800", "a\u0000b", "\U0010ffff",
                                                         "Казахстан\ud800", "<b>x</b>&amp;"]))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | texts,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
ITEM_KEYS = ["id", "title", "summary", "content_html", "content_text", "url", "external_url",
             "date_published", "date_modified", "language"]


@st.composite
def json_feeds(draw: Any) -> tuple[bytes, str | None]:
    items = []
    for _ in range(draw(st.integers(1, 3))):
        keys = draw(st.lists(st.sampled_from(ITEM_KEYS), unique=True))
        items.append({k: draw(dates if k.startswith("date") else json_values) for k in keys})
    doc: dict[str, Any] = {"version": "https://jsonfeed.org/version/1.1",
                           "items": draw(st.sampled_from([items, items, {}, None, "x"]))}
    if draw(st.booleans()):
        doc["title"], doc["language"] = draw(json_values), draw(json_values)
    return json.dumps(doc).encode(), draw(st.sampled_from(CONTENT_TYPES))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;")


@st.composite
def xml_feeds(draw: Any) -> tuple[bytes, str | None]:
    atom = draw(st.booleans())
    entries = []
    for _ in range(draw(st.integers(1, 3))):
        title, guid = _escape(draw(texts)), _escape(draw(texts))
        first, second = _escape(draw(dates)), _escape(draw(dates))
        if atom:
            entries.append(f"<entry><id>{guid}</id><title>{title}</title>"
                           f"<updated>{first}</updated><published>{second}</published></entry>")
        else:
            entries.append(f"<item><title>{title}</title><guid>{guid}</guid><pubDate>{first}"
                           f"</pubDate><dc:date>{second}</dc:date></item>")
    body = ("<feed xmlns='http://www.w3.org/2005/Atom'><title>t</title>{}</feed>" if atom else
            "<rss version='2.0' xmlns:dc='http://purl.org/dc/elements/1.1/'><channel>"
            "<title>t</title>{}</channel></rss>").format("".join(entries))
    encoding = draw(st.sampled_from(ENCODINGS))
    try:
        raw = body.encode(encoding or "utf-8", "surrogatepass" if not encoding else "replace")
    except (LookupError, UnicodeError):
        raw = body.encode("utf-8", "surrogatepass")
    if encoding:
        raw = f"<?xml version='1.0' encoding='{encoding}'?>".encode() + raw
    for _ in range(draw(st.integers(0, 3))):           # damage: insert a hostile fragment
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.sampled_from(FRAGMENTS)) + raw[at:]
    return raw, draw(st.sampled_from(CONTENT_TYPES))


def documents() -> st.SearchStrategy[tuple[bytes, str | None]]:
    """(body, Content-Type): JSON Feeds, RSS and Atom with hostile parts, or garbage."""
    garbage = st.tuples(st.binary(max_size=300), st.sampled_from(CONTENT_TYPES))
    nested = st.integers(1, 200_000).map(
        lambda n: (b'{"version":"https://jsonfeed.org/version/1","items":' + b"[" * n + b"]" * n
                   + b"}", "application/feed+json"))
    return st.one_of(json_feeds(), xml_feeds(), garbage, nested)


# Fixed hostile documents for the soak: (body, Content-Type), each one a class of failure
# that once stopped a poll or would have: read, or refused with a reason on the feed.
_JSON = b'{"version":"https://jsonfeed.org/version/1","items":[%s]}'
FIXED: dict[str, tuple[bytes, str]] = {
    "dates-past-9999": (
        _JSON
        % (
            b'{"id":"late-1","title":"Azerbaijan joins the Abraham Accords",'
            b'"date_published":"9999-12-31T23:59:59-01:00"},{"id":"late-2",'
            b'"date_published":"0001-01-01T00:00:00+01:00"}'
        ),
        "application/feed+json",
    ),
    "surrogates-and-nul": (
        _JSON % b'{"id":"a\\u0000b","title":"x\\ud800","url":"http://h/\\ud800"}',
        "application/feed+json",
    ),
    "deep-nesting": (_JSON % (b"[" * 100_000 + b"]" * 100_000), "application/feed+json"),
    "feedparser-crash": (
        b'<rss version="2.0"><channel><image>5</width></image></channel></rss>',
        "application/rss+xml",
    ),
    "no-character": (
        (
            b'<rss version="2.0"><channel><item><title>&#0;&#xD800;&#99999999;</title>'
            b"<guid>nc-1</guid></item></channel></rss>"
        ),
        "application/rss+xml",
    ),
    "billion-laughs": (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">'
        + b"".join(
            b'<!ENTITY %c "&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;&%c;">'
            % ((98 + n,) + (97 + n,) * 10)
            for n in range(9)
        )
        + b']><rss version="2.0"><channel><item><title>&j;</title></item></channel></rss>',
        "application/rss+xml",
    ),
    "invalid-utf8": (
        (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><item>'
            "<title>Казахстан и Израиль подписали соглашение</title><guid>u8-1</guid>"
            "<description>stray @ byte</description></item></channel></rss>"
        )
        .encode()
        .replace(b"@", b"\xff"),
        "application/rss+xml",
    ),
    "garbage": (bytes(range(256)) * 40, "application/rss+xml"),
}

