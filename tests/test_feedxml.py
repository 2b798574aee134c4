"""The lxml fast path reads every document it accepts exactly as feedparser does.

parse_feed tries watcher.ingest.feedxml first and falls back to feedparser; users must not see a
difference. Each test here parses documents both ways and compares the ParsedFeeds (title,
every Item field, warning), over the fixtures, the shared real-world corpus, the benchmark
corpus and generated documents; and checks that the fast path really is taken for plain
feeds (a fast path that never applied would pass every comparison).
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT, SHARED
from watcher.errors import FeedError
from watcher.ingest import feedbytes, feedxml, parse
from watcher.ingest.parse import ParsedFeed

BASE = "https://example.org/feed"
CORPUS = SHARED / "feeds-realworld"
HEADER = re.compile(rb"Header:\s*Content-type:\s*([^\r\n]+?)\s*(?:-->|\r|\n)", re.IGNORECASE)


def fast_and_slow(body: bytes, content_type: str | None = None,
                  base: str = BASE) -> tuple[ParsedFeed, ParsedFeed | None] | None:
    """Both readings of a document the fast path accepts (None: it left it to feedparser)."""
    body, content_type, _warning = feedbytes.utf8(body, content_type)
    doc = feedxml.read(body, content_type, base)
    if doc is None:
        return None
    fast = parse._parsed("feed", doc.feed, doc.entries, base, "xx", None)
    try:
        slow = parse._with_feedparser(base, "feed", body, content_type, base, "xx")
    except FeedError:
        slow = None
    return fast, slow


def agree(paths: list[Path], content_type: Any = lambda body: None) -> int:
    """How many documents the fast path took; fails on the first that reads differently."""
    taken = 0
    for path in paths:
        body = path.read_bytes()
        pair = fast_and_slow(body, content_type(body))
        if pair is not None:
            taken += 1
            assert pair[0] == pair[1], path
    return taken


def test_fixture_feeds_read_the_same_and_plain_ones_take_the_fast_path() -> None:
    paths = sorted(p for d in (ROOT / "tests" / "fixtures", ROOT / "demo" / "feeds")
                   for p in d.rglob("*") if p.suffix in (".rss", ".atom", ".xml"))
    assert agree(paths) >= 5
    assert fast_and_slow((ROOT / "tests/fixtures/e2e/regional.atom").read_bytes()) is not None


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus absent")
def test_real_world_corpus_reads_the_same() -> None:
    paths = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix not in (".md", ".tsv"))

    def header(body: bytes) -> str | None:
        found = HEADER.search(body[:500])
        return found.group(1).decode("latin-1") if found else None

    assert agree(paths, header) >= 60       # of 508: most of the rest are odd on purpose


@pytest.mark.skipif(
    not (SHARED / "bench" / "make_corpus.py").exists(), reason="shared bench absent"
)
def test_benchmark_corpus_takes_the_fast_path_and_reads_the_same() -> None:
    spec = importlib.util.spec_from_file_location(
        "make_corpus", SHARED / "bench" / "make_corpus.py"
    )
    assert spec and spec.loader
    corpus = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(corpus)
    for i in range(80):           # RSS and Atom, CDATA and escaped, XHTML, ru/he, windows-1251
        body = corpus.make_feed(20261123, i, 47231)[0]
        pair = fast_and_slow(body, "application/xml")
        assert pair is not None, i
        assert pair[0] == pair[1] and pair[0].items, i


def rss(item: str, channel: str = "") -> bytes:
    return f'<rss version="2.0"><channel{channel}><item>{item}</item></channel></rss>'.encode()


@pytest.mark.parametrize("body, content_type", [
    (b'<!DOCTYPE rss [<!ENTITY a "b">]>' + rss("<title>&a;</title>"), None),
    (rss("<link>a</link>", ' xml:base="https://other.example/"'), None),
    (rss("<title>t</title>"), "text/xml"),
    (rss('<description>&lt;iframe src="x"&gt;&lt;/iframe&gt;a</description>'), None),
    (rss('<media:title xmlns:media="http://search.yahoo.com/mrss/">t</media:title>'), None),
    (rss("<title>a</title><title>b</title>"), None),
    (rss("<description>x &lt;!-- c --&gt; y</description>"), None),
])
def test_documents_feedparser_might_read_differently_are_left_to_it(
    body: bytes, content_type: str | None
) -> None:
    assert feedxml.read(body, content_type, BASE) is None
    parse.parse_feed("feed", body, content_type=content_type, base_url=BASE)   # still reads


# --- generated documents --------------------------------------------------------------------

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
MARKUP = st.lists(
    st.sampled_from(
        [
            "<p>",
            "</p>",
            "<b>",
            "</b>",
            "<br/>",
            "<br>",
            '<a href="https://x.example/?a=1&amp;b=2">',
            "</a>",
            "<img src=x>",
            "&amp;",
            "&nbsp;",
            "&copy",
            "&hellip",
            "&foo;",
            "AT&T",
            "&#150;",
            "&#x41;",
            "<iframe>",
            "</br>",
            "<!-- c -->",
            "<script>x</script>",
            " < ",
            "<>",
            "Ã©",
            "\x93",
            "\u200b",
            "word",
            " ",
            "\n",
            "<P CLASS=a>",
            "</ p>",
            "<em/>",
        ]
    ),
    max_size=12,
).map("".join)
FIELD = st.one_of(TEXT, MARKUP)


def escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cdata(text: str) -> str:
    return escaped(text) if "]]>" in text else f"<![CDATA[{text}]]>"


@settings(max_examples=120, deadline=None)
@given(
    title=FIELD,
    summary=FIELD,
    content=st.none() | FIELD,
    link=st.none() | FIELD,
    guid=st.none() | FIELD,
    permalink=st.sampled_from(["", ' isPermaLink="false"', ' isPermaLink="true"']),
    wrap=st.sampled_from([escaped, cdata]),
    lang=st.sampled_from(["", ' xml:lang="ru-RU"', ' xml:lang=""']),
    date=st.sampled_from(["Sun, 01 Nov 2026 06:00:00 +0300", "2026-11-01T06:00:00Z", "soon", ""]),
)
def test_generated_rss_reads_the_same(
    title: str,
    summary: str,
    content: str | None,
    link: str | None,
    guid: str | None,
    permalink: str,
    wrap: Any,
    lang: str,
    date: str,
) -> None:
    parts = [f"<title>{wrap(title)}</title>", f"<description>{wrap(summary)}</description>",
             f"<pubDate>{date}</pubDate>"]
    if content is not None:
        parts.append(f"<content:encoded>{wrap(content)}</content:encoded>")
    if link is not None:
        parts.append(f"<link>{escaped(link)}</link>")
    if guid is not None:
        parts.insert(0, f"<guid{permalink}>{escaped(guid)}</guid>")
    body = (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"{lang} '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>T</title>'
            f'<item>{"".join(parts)}</item></channel></rss>')
    pair = fast_and_slow(body.encode("utf-8"))
    event("fast path" if pair else "left to feedparser")
    if pair is not None:
        assert pair[0] == pair[1]


@settings(max_examples=120, deadline=None)
@given(
    title=FIELD,
    summary=st.none() | FIELD,
    content=st.none() | FIELD,
    kinds=st.tuples(*[st.sampled_from(["", ' type="text"', ' type="html"', ' type="xhtml"'])] * 3),
    entry_id=st.none() | FIELD,
    href=st.none() | FIELD,
    rel=st.sampled_from(
        ["", ' rel="alternate"', ' rel="self"', ' rel="alternate" type="image/png"']
    ),
    lang=st.sampled_from(["", ' xml:lang="he"']),
)
def test_generated_atom_reads_the_same(title: str, summary: str | None, content: str | None,
                                       kinds: tuple[str, str, str], entry_id: str | None,
                                       href: str | None, rel: str, lang: str) -> None:
    def construct(tag: str, kind: str, text: str) -> str:
        if kind == ' type="xhtml"':
            return f'<{tag}{kind}><div xmlns="http://www.w3.org/1999/xhtml">{escaped(text)}</div></{tag}>'
        return f"<{tag}{kind}>{escaped(text)}</{tag}>"

    parts = [construct("title", kinds[0], title)]
    if summary is not None:
        parts.append(construct("summary", kinds[1], summary))
    if content is not None:
        parts.append(construct("content", kinds[2], content))
    if entry_id is not None:
        parts.append(f"<id>{escaped(entry_id)}</id>")
    if href is not None:
        parts.append(f'<link{rel} href="{escaped(href).replace(chr(34), "&quot;")}"/>')
    body = (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"{lang}><title>T</title>'
            f'<entry>{"".join(parts)}<updated>2026-11-01T06:00:00Z</updated></entry></feed>')
    pair = fast_and_slow(body.encode("utf-8"))
    event("fast path" if pair else "left to feedparser")
    if pair is not None:
        assert pair[0] == pair[1]
