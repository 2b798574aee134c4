"""Parse: fixture feeds → Items, hostile documents, and the whole shared real-world corpus."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.feedserver import ALLOW_PRIVATE, FeedServer  # fixture feed_server: conftest
from tests.hostile_docs import documents
from watcher.config import load_config
from watcher.errors import FeedError
from watcher.ingest.addresses import parse_policy
from watcher.ingest.fetch import Fetcher, FetchRequest, FetchResult, Validators
from watcher.ingest.parse import (
    MAX_KEY,
    MAX_SUMMARY,
    MAX_TITLE,
    MAX_URL,
    ParsedFeed,
    canonical_url,
    parse_feed,
)
from watcher.judge.match import Matcher
from watcher.models import Item

FEEDS = Path(__file__).parent / "fixtures" / "feeds"
CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "feeds-realworld"
BOMB = CORPUS / "malformed" / "selfmade__quadratic_blowup.xml"


def parse(name: str, **options: str) -> ParsedFeed:
    return parse_feed("feed", (FEEDS / name).read_bytes(), **options)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- RSS 2.0 --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def news() -> list[Item]:
    feed = parse("news_en.rss", content_type="application/rss+xml; charset=utf-8",
                 base_url="https://news.example.com/rss")
    assert (feed.title, feed.warning, len(feed.items)) == ("Central Asia Wire & Analysis", None, 4)
    return feed.items


def test_rss_item_with_guid(news: list[Item]) -> None:
    item = news[0]
    assert item.key == "cawire-2025-11-0001"
    assert item.title == "Kazakhstan formally signs Abraham Accords at White House ceremony"
    assert item.url.startswith("https://news.example.com/2025/11/kazakhstan-signs?utm_source=")
    assert item.published == utc("2025-11-06T13:30")           # +0500 → UTC
    assert item.published.tzinfo is UTC
    assert (item.lang, item.source, item.feed_id) == ("en", "reuters.com", "feed")


def test_rss_html_is_stripped_and_scripts_dropped(news: list[Item]) -> None:
    summary = news[0].summary
    assert summary.startswith("Astana joined the accords on Thursday")
    assert 'Officials called it "historic".' in summary
    assert "<" not in summary and "alert" not in summary


def test_rss_key_falls_back_to_canonical_link(news: list[Item]) -> None:
    item = news[1]
    assert item.key == "https://news.example.com/2025/11/tokayev-trade?id=42"
    assert item.url == "https://news.example.com/2025/11/tokayev-trade?utm_campaign=daily&id=42#comments"
    assert item.published == utc("2025-11-07T09:00")
    assert item.source == "timesca.com"                        # <source> without a name: its host


def test_rss_key_falls_back_to_content_hash_stably(news: list[Item]) -> None:
    again = parse("news_en.rss", base_url="https://news.example.com/rss").items[2]
    assert news[2].key.startswith("sha256:") and news[2].key == again.key
    assert (news[2].url, news[2].published) == ("", None)
    edited = (FEEDS / "news_en.rss").read_bytes().replace(b"No link and no guid", b"No link")
    assert parse_feed("feed", edited).items[2].key != news[2].key


def test_rss_javascript_link_is_dropped(news: list[Item]) -> None:
    assert news[3].key == "cawire-2025-11-0004"
    assert news[3].url == ""


# --- Atom -------------------------------------------------------------------------------------


def test_atom_entries() -> None:
    feed = parse("releases.atom", content_type="application/atom+xml")
    first = feed.items[0]
    assert feed.title == "Ministry of Foreign Affairs press releases"
    assert first.key == "tag:mfa.example.gov,2025:release-101"
    assert first.url == "https://mfa.example.gov/releases/101"     # resolved against xml:base
    assert first.published == utc("2025-11-07T03:15")              # published wins over updated
    assert first.summary == "The sides reaffirmed their commitment."  # from <content>
    assert first.lang == "en"


def test_atom_entry_language_and_updated_date() -> None:
    second = parse("releases.atom").items[1]
    assert (second.lang, second.title) == ("ru", "Совместное заявление")
    assert second.published == utc("2025-11-08T10:00")


# --- charsets, ill-formed, JSON Feed, not a feed ---------------------------------------------


def test_windows_1251_feed_read_through_the_http_charset(feed_server: FeedServer) -> None:
    feed_server.add("/ru.rss", (FEEDS / "news_ru_cp1251.rss").read_bytes(),
                    content_type="application/rss+xml; charset=windows-1251")
    result = asyncio.run(fetch(feed_server.url("/ru.rss")))
    assert result.body is not None
    feed = parse_feed("ru", result.body, content_type=result.content_type,
                      base_url=result.final_url, lang="kk")
    item = feed.items[0]
    assert feed.title == "Новости Казахстана"
    assert item.title == "Казахстан присоединился к Соглашениям Авраама"
    assert "«логичным продолжением»" in item.summary
    assert item.lang == "ru"                                   # the feed's <language> wins
    assert item.published == utc("2025-11-06T18:00")


async def fetch(url: str) -> FetchResult:
    async with Fetcher(allow_private=parse_policy(ALLOW_PRIVATE)[0]) as fetcher:
        return await fetcher.fetch(FetchRequest("ru", url, Validators()))


def test_same_bytes_without_the_charset_are_misread() -> None:
    assert parse("news_ru_cp1251.rss").title != "Новости Казахстана"


UTF8_WITH_ONE_BAD_BYTE = (
    '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Новости</title>'
    "<item><title>Казахстан и Израиль подписали соглашение</title><guid>1</guid></item>"
    "<item><title>Second</title><description>a stray byte: @ here</description><guid>2</guid>"
    "</item></channel></rss>").encode().replace(b"@", b"\xff")


@pytest.mark.parametrize("content_type", [None, "application/rss+xml; charset=utf-8", "text/xml"])
def test_one_invalid_byte_in_a_utf8_document_spoils_that_byte_only(
    content_type: str | None,
) -> None:
    feed = parse_feed("f", UTF8_WITH_ONE_BAD_BYTE, content_type=content_type)
    first, second = feed.items                   # read as iso-8859-2 before: mojibake
    assert first.title == "Казахстан и Израиль подписали соглашение"
    assert second.summary == "a stray byte: \ufffd here"
    assert feed.warning is not None and feed.warning.startswith(
        "1 invalid UTF-8 byte sequence(s) read as U+FFFD")
    matcher = Matcher(load_config(FEEDS.parent / "mini.yaml"))
    assert [m.indicator for m in matcher.match(first.title)] == ["kz_israel_deal"]


def test_a_windows_1251_document_labelled_utf8_is_not_taken_for_damaged_utf8() -> None:
    feed = parse("news_ru_cp1251.rss", content_type="application/rss+xml; charset=utf-8")
    assert "\ufffd" not in feed.title + "".join(
        i.title for i in feed.items
    )  # feedparser's fallback
    assert parse("news_ru_cp1251.rss", content_type="application/rss+xml; charset=windows-1251"
                 ).title == "Новости Казахстана"


def test_illformed_feed_still_yields_items_with_a_warning() -> None:
    feed = parse("illformed.rss", lang="en")
    assert [i.title for i in feed.items] == ["First item with an undefined entity", "Second item"]
    assert feed.items[0].summary == "Unclosed bold text"
    assert feed.items[0].lang == "en"                          # configured lang as last resort
    assert feed.warning and "not well-formed" in feed.warning


def test_json_feed() -> None:
    feed = parse("feed.json", base_url="https://gulfdesk.example.org/feed.json")
    first, second = feed.items
    assert (feed.title, feed.warning) == ("Gulf Desk", None)
    assert (first.key, first.lang) == ("gd-1", "en")
    assert first.summary == "Saudi officials declined to comment."
    assert first.published == utc("2025-11-09T05:00")
    assert (second.key, second.lang, second.summary) == ("2", "ru", "Short summary wins.")
    assert second.url == "https://gulfdesk.example.org/posts/2"
    assert second.published == utc("2025-11-10T12:00")


@pytest.mark.parametrize(("body", "why"), [
    ((FEEDS / "not_a_feed.html").read_bytes(), "not a feed: an HTML page"),
    (b"", "not a feed: empty body"),
    (b"  \n", "not a feed: empty body"),
    (b'{"rss": {"channel": {}}}', "not a feed: JSON that is not a JSON Feed"),
    (b"hello world", "not a feed: "),
])
def test_not_a_feed(body: bytes, why: str) -> None:
    with pytest.raises(FeedError) as caught:
        parse_feed("feed", body, base_url="https://example.org/rss")
    assert caught.value.reason.startswith(why)
    assert caught.value.url == "https://example.org/rss"


def test_body_is_never_taken_for_a_file_name(tmp_path: Path) -> None:
    path = tmp_path / "feed.rss"
    path.write_bytes((FEEDS / "news_en.rss").read_bytes())
    with pytest.raises(FeedError):
        parse_feed("feed", str(path).encode())


# --- hostile documents ------------------------------------------------------------------------


def test_fields_are_capped() -> None:
    body = (f'<rss version="2.0"><channel><title>{"T" * 50_000}</title><item>'
            f'<title>{"word " * 5_000}</title><guid>{"g" * 5_000}</guid>'
            f'<link>https://e.org/{"a" * 5_000}</link><description>{"d " * 100_000}</description>'
            '</item></channel></rss>').encode()
    feed = parse_feed("feed", body)
    item = feed.items[0]
    assert len(feed.title) <= MAX_TITLE and len(item.title) <= MAX_TITLE
    assert len(item.summary) <= MAX_SUMMARY and item.summary.endswith("…")
    assert item.url == "" and item.key.startswith("sha256:")


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!-- a comment with a quote ' and a ] bracket -->
]>
<rss version="2.0"><channel><title>&lol3;</title>
<item><title>Laughs &lol3;</title><link>https://e.org/1</link></item></channel></rss>"""


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-16-be"])
def test_entity_declarations_are_never_expanded(encoding: str) -> None:
    body = BILLION_LAUGHS.decode().encode(encoding)
    feed = parse_feed("feed", body)
    assert len(feed.items) == 1
    assert "lollol" not in feed.items[0].title and "lollol" not in feed.title
    assert feed.warning is not None


def test_unterminated_entity_doctype_is_refused() -> None:
    body = b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaa"><rss>&a;&a;</rss>'
    with pytest.raises(FeedError, match="DOCTYPE"):
        parse_feed("feed", body)


@pytest.mark.skipif(not BOMB.exists(), reason="shared corpus absent")
def test_quadratic_blowup_file_parses_fast_and_small() -> None:
    started = time.monotonic()
    feed = parse_feed("bomb", BOMB.read_bytes())
    assert time.monotonic() - started < 2
    assert feed.items and all(within_caps(item) for item in feed.items)
    assert "A" * 1000 not in feed.items[0].title + feed.items[0].summary


def test_canonical_url_drops_tracking_and_fragment() -> None:
    assert canonical_url("HTTPS://Ex.COM/a?utm_source=x&b=1&UTM_Medium=y#top") == \
        "https://ex.com/a?b=1"
    assert canonical_url("https://ex.com") == "https://ex.com/"
    assert canonical_url("https://ex.com/a?z=1&a=%20") == "https://ex.com/a?z=1&a=%20"


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=600))
def test_any_bytes_give_items_or_feed_error(body: bytes) -> None:
    try_parse(body)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300), st.text(max_size=300), st.text(max_size=100))
def test_any_text_inside_a_feed_stays_safe(title: str, summary: str, link: str) -> None:
    esc = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
    title, summary, link = (re.sub("[&<>]", lambda m: esc[m.group()], s)
                            for s in (title, summary, link))
    body = (f'<rss version="2.0"><channel><item><title>{title}</title><link>{link}</link>'
            f'<description>{summary}</description></item></channel></rss>')
    try_parse(body.encode("utf-8", "surrogatepass"))


# --- values at the limits (issue 16) -----------------------------------------------------------

JSON_DATED = '{"version":"https://jsonfeed.org/version/1","items":[{"id":"1","date_published":"%s"}]}'
RSS_DATED = ('<rss version="2.0"><channel><item><title>x</title><guid>g</guid><pubDate>%s</pubDate>'
             '</item></channel></rss>')


@pytest.mark.parametrize("date", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00",
                                  "9999-12-31T23:59:59", "0001-01-01T00:00:00"])
def test_json_feed_dates_at_the_limits_of_datetime_are_absent(date: str) -> None:
    feed = parse_feed("f", (JSON_DATED % date).encode())     # raised OverflowError before
    assert [i.published for i in feed.items] == [None]


@pytest.mark.parametrize("date", ["Fri, 31 Dec 9998 00:00:00 GMT", "Mon, 01 Jan 0001 00:00:00 GMT"])
def test_rss_dates_no_news_item_can_have_are_absent(date: str) -> None:
    feed = parse_feed("f", (RSS_DATED % date).encode(), content_type="application/rss+xml")
    assert [i.published for i in feed.items] == [None]


@pytest.mark.parametrize(("body", "error"), [
    (b'<?xml version="1.0" encoding="ut\xe9-8"?><rss version="2.0"/>', "UnicodeDecodeError"),
    (b'<rss version="2.0"><channel><image>5</width></image></channel></rss>', "TypeError"),
    ((b'<feed xmlns="http://www.w3.org/2005/Atom" xmlns:gml="http://www.opengis.net/gml">'
      b"<entry><gml:pos>1 2</gml:pos></gml:Point></entry></feed>"), "KeyError"),
])
def test_documents_feedparser_crashes_on_are_refused_with_a_reason(body: bytes, error: str) -> None:
    with pytest.raises(FeedError, match=f"not a feed: unreadable \\({error}: "):
        parse_feed("f", body)


def test_character_references_to_no_character_read_as_replacement_characters() -> None:
    body = (b'<rss version="2.0"><channel><item><title>Astana&#0; &#xD800; &#99999999; ok</title>'
            b"<guid>g</guid></item></channel></rss>")
    [item] = parse_feed("f", body).items            # feedparser crashed on each before
    assert item.title == "Astana\ufffd \ufffd \ufffd ok"


@pytest.mark.parametrize("guid", ["a\\u0000b", "a\\ud800b"])
def test_a_guid_the_database_cannot_hold_is_hashed(guid: str) -> None:
    body = f'{{"version":"https://jsonfeed.org/version/1","items":[{{"id":"{guid}"}}]}}'
    [item] = parse_feed("f", body.encode()).items
    assert item.key.startswith("sha256:")


def many_items(count: int, dated: bool) -> bytes:
    """An RSS document whose item n is dated n hours after a start, in shuffled order."""
    order = sorted(range(count), key=lambda n: (n * 7919) % count)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    items = "".join(
        f"<item><title>t{n}</title><guid>g{n}</guid>"
        + (
            f"<pubDate>{(start + timedelta(hours=n)):%a, %d %b %Y %H:%M:%S} GMT</pubDate>"
            if dated
            else ""
        )
        + "</item>"
        for n in order
    )
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>x</title>'
            f"{items}</channel></rss>").encode()


def test_a_document_of_5000_items_keeps_the_newest_2000_in_document_order() -> None:
    body = many_items(5000, dated=True)
    feed = parse_feed("f", body, content_type="application/rss+xml")
    kept = [int(i.key[1:]) for i in feed.items]
    assert sorted(kept) == list(range(3000, 5000))                 # the newest by date
    order = [int(k[1:]) for k in re.findall(rb"<guid>(g\d+)</guid>", body)]
    assert kept == [n for n in order if n >= 3000]                 # in the document's order
    assert feed.warning == "5000 items in one document: kept the newest 2000"


def test_undated_items_past_the_cap_are_cut_in_document_order() -> None:
    feed = parse_feed("f", many_items(2500, dated=False), content_type="application/rss+xml")
    order = [int(k[1:]) for k in re.findall(rb"<guid>(g\d+)</guid>", many_items(2500, dated=False))]
    assert [int(i.key[1:]) for i in feed.items] == order[:2000]
    assert feed.warning == "2500 items in one document: kept the first 2000"
    json_feed = ('{"version":"https://jsonfeed.org/version/1","items":['
                 + ",".join(f'{{"id":"{n}","date_published":"2026-01-01T00:00:{n % 60:02d}Z"}}'
                            for n in range(2001)) + "]}").encode()
    assert len(parse_feed("f", json_feed).items) == 2000


@settings(max_examples=300, deadline=None)
@given(documents())
def test_generated_hostile_documents_give_items_or_a_feed_error(
    doc: tuple[bytes, str | None],
) -> None:
    try_parse(*doc)


def try_parse(body: bytes, content_type: str | None = None) -> ParsedFeed | None:
    """Parse or FeedError, nothing else; items always within caps and with UTC dates."""
    try:
        feed = parse_feed("feed", body, content_type=content_type,
                          base_url="https://example.org/feed")
    except FeedError:
        return None
    assert len(feed.title) <= MAX_TITLE
    assert all(within_caps(item) for item in feed.items)
    return feed


def within_caps(item: Item) -> bool:
    offset = item.published.utcoffset() if item.published else timedelta(0)
    return (len(item.title) <= MAX_TITLE and len(item.summary) <= MAX_SUMMARY
            and len(item.url) <= MAX_URL and 0 < len(item.key) <= max(MAX_KEY, MAX_URL)
            and (item.url == "" or item.url.startswith(("http://", "https://")))
            and offset == timedelta(0))


# --- the shared real-world corpus -------------------------------------------------------------


def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix not in (".md", ".tsv"))


HEADER = re.compile(rb"Header:\s*Content-type:\s*([^\r\n]+?)\s*(?:-->|\r|\n)", re.IGNORECASE)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus absent")
@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_corpus_file_parses_or_is_a_feed_error(path: Path) -> None:
    body = path.read_bytes()
    header = HEADER.search(body[:500])   # feedparser's suite sends this comment as the HTTP header
    started = time.monotonic()
    try_parse(body, header.group(1).decode("latin-1") if header else None)
    assert time.monotonic() - started < 10
