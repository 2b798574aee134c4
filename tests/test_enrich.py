"""Enrichment (issue 13): a headline that nearly matches gets its article's lead, fetched from a
real HTTP server on 127.0.0.1 through a Google News link, once, within the cycle's cap; a failed
or hostile article leaves the item as it was and shows in `watcher status`."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, at
from tests.proxyserver import ProxyServer
from watcher.cli import main
from watcher.config import load_config
from watcher.context import Context
from watcher.errors import ConfigError
from watcher.ingest.article import article_url, decode_google_news, lead_of
from watcher.ingest.enrich import with_lead
from watcher.ingest.poll import poll
from watcher.settings import load_settings

MINI = ROOT / "tests" / "fixtures" / "mini.yaml"
NOW = at("2026-03-10T06:00")
NEAR_MISS = "Kazakhstan and Israel: a new water memorandum"   # no signing verb: one clause short
LEAD = "Kazakhstan and Israel signed a memorandum on water technology in Astana on Monday."


def google_news_link(url: str) -> str:
    """A Google News article link of the older kind, which holds the publisher's URL."""
    raw = b"\x08\x13\x22" + bytes([len(url)]) + url.encode() + b"\xd2\x01\x00"
    article_id = base64.urlsafe_b64encode(raw).decode()
    return f"https://news.google.com/rss/articles/{article_id}?oc=5"


def article(description: str = LEAD) -> bytes:
    return (f'<html><head><meta property="og:description" content="{description}">'
            "<title>Water</title></head><body><p>Cookie wall</p></body></html>").encode()


def feed(*items: tuple[str, str]) -> bytes:
    """A Google News search feed: (headline, link) each, no description but the headline."""
    body = "".join(
        f"<item><title>{t} - Example Times</title><link>{link}</link><guid>g{n}</guid>"
        f"<pubDate>Mon, 09 Mar 2026 08:00:00 GMT</pubDate><description>{t}</description>"
        f'<source url="https://example-times.kz">Example Times</source></item>'
        for n, (t, link) in enumerate(items))
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>GN</title>{body}'
            "</channel></rss>").encode()


def setup(tmp: Path, server: Any, *items: tuple[str, str], enrich: bool = True,
          **options: str) -> Context:
    server.add("/gnews.xml", feed(*items))
    data = yaml.safe_load(MINI.read_text(encoding="utf-8"))
    data["feeds"] = [{"id": "gnews", "url": server.url("/gnews.xml"), "every": "30m",
                      "tier": "aggregator", "enrich": enrich, **options}]
    path = tmp / "indicators.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return Context.open(load_config(path), load_settings(), clock=lambda: NOW)


def two_hours_later(ctx: Context) -> Context:
    """The same service at the next poll (the feed is due again)."""
    return Context(ctx.config, ctx.settings, ctx.store, ctx.matcher,
                   lambda: at("2026-03-10T08:00"))


def deals(ctx: Context) -> dict[str, str]:
    """Stored kz_israel_deal matches: title → certainty."""
    return {m.title: m.match.certainty.value for m in ctx.store.matched_items()
            if m.match.indicator == "kz_israel_deal"}


def article_requests(server: Any) -> list[str]:
    return [p for p in server.paths() if p.startswith("/a")]


def test_a_near_miss_gains_its_match_from_the_lead(feed_server: Any, state_env: Path,
                                                    tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    feed_server.add("/a1", article(), content_type="text/html; charset=utf-8")
    ctx = setup(tmp_path, feed_server,
                (NEAR_MISS, google_news_link(feed_server.url("/a1"))),
                ("Football: Astana win the cup", google_news_link(feed_server.url("/a2"))))
    report = asyncio.run(poll(ctx))
    assert report.enriched is not None and report.enriched.fetched == 1
    assert deals(ctx) == {"Kazakhstan and Israel: a new water memorandum": "confirmed"}
    assert article_requests(feed_server) == ["/a1"]          # the other item is no near miss
    (seen,) = [r for r in feed_server.requests if r.path == "/a1"]
    assert seen.headers.get("User-Agent", "").startswith("watcher/")
    item = next(s for s in ctx.store.iter_items() if s.item.title == NEAR_MISS)
    assert item.item.summary == LEAD        # stored: rematch and explain read the lead too
    assert main(["explain", str(item.id), "--config", str(tmp_path / "indicators.yaml")]) == 0
    out = capsys.readouterr().out
    fetched = f"article {feed_server.url('/a1')} on 2026-03-10 06:00 UTC: its lead is the summary"
    assert fetched in out
    assert "✔ kz_israel_deal" in out and "publisher Example Times (example-times.kz)" in out


def test_an_article_goes_through_its_feed_s_proxy(feed_server: Any, state_env: Path,
                                                   tmp_path: Path) -> None:
    """A machine that reaches the web through a proxy reaches the articles the same way."""
    feed_server.add("/a1", article(), content_type="text/html")
    with ProxyServer("http") as proxy:
        ctx = setup(tmp_path, feed_server, (NEAR_MISS, google_news_link(feed_server.url("/a1"))),
                    proxy=proxy.url, user_agent="feed-only/1")
        asyncio.run(poll(ctx))
        assert proxy.targets == [f"127.0.0.1:{feed_server.port}"] * 2    # the feed, the article
    assert deals(ctx) == {NEAR_MISS: "confirmed"}
    (seen,) = [r for r in feed_server.requests if r.path == "/a1"]
    assert seen.headers["User-Agent"].startswith("watcher/")     # the feed's own is for its server


def test_without_enrich_nothing_is_fetched(feed_server: Any, state_env: Path,
                                           tmp_path: Path) -> None:
    feed_server.add("/a1", article(), content_type="text/html")
    ctx = setup(tmp_path, feed_server, (NEAR_MISS, google_news_link(feed_server.url("/a1"))),
                enrich=False)
    assert asyncio.run(poll(ctx)).enriched is None
    assert article_requests(feed_server) == [] and deals(ctx) == {}


def test_an_article_is_fetched_once_and_its_lead_cached(feed_server: Any, state_env: Path,
                                                         tmp_path: Path) -> None:
    feed_server.add("/a1", article(), content_type="text/html")
    link = google_news_link(feed_server.url("/a1"))
    ctx = setup(tmp_path, feed_server, (NEAR_MISS, link))
    asyncio.run(poll(ctx))
    # a later report of the same article (another headline, same link) in the next poll
    feed_server.add("/gnews.xml", feed((NEAR_MISS, link),
                                       ("Israel, Kazakhstan agree water memorandum text", link)))
    asyncio.run(poll(two_hours_later(ctx)))
    assert article_requests(feed_server) == ["/a1"]           # the cache answered
    assert set(deals(ctx)) == {NEAR_MISS, "Israel, Kazakhstan agree water memorandum text"}


def test_at_most_the_cap_per_cycle_the_rest_waits(feed_server: Any, state_env: Path,
                                                   tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHER_ENRICH_PER_CYCLE", "2")
    for n in (1, 2, 3):
        feed_server.add(f"/a{n}", article(), content_type="text/html")
    ctx = setup(tmp_path, feed_server, *[(f"{NEAR_MISS} ({n})",
                                          google_news_link(feed_server.url(f"/a{n}")))
                                         for n in (1, 2, 3)])
    asyncio.run(poll(ctx))
    assert len(article_requests(feed_server)) == 2 and len(deals(ctx)) == 2
    assert ctx.store.article_health().pending == 1
    asyncio.run(poll(two_hours_later(ctx)))
    assert sorted(article_requests(feed_server)) == ["/a1", "/a2", "/a3"] and len(deals(ctx)) == 3


def test_a_failed_fetch_leaves_the_item_as_it_was_and_shows_in_status(
        feed_server: Any, state_env: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    feed_server.add("/a1", b"gone", status=404, content_type="text/html")
    ctx = setup(tmp_path, feed_server, (NEAR_MISS, google_news_link(feed_server.url("/a1"))))
    report = asyncio.run(poll(ctx))
    assert report.enriched is not None and report.enriched.failed == 1
    assert deals(ctx) == {}
    item = next(s for s in ctx.store.iter_items() if s.item.title == NEAR_MISS)
    assert item.item.summary == ""                           # as the feed gave it
    health = ctx.store.article_health()
    assert (health.failed, health.ok) == (1, 0) and "404" in (health.last_failure or "")
    asyncio.run(poll(two_hours_later(ctx)))
    assert article_requests(feed_server) == ["/a1"]           # not tried again every cycle
    config = tmp_path / "indicators.yaml"
    assert main(["status", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "articles (enrichment): 0 lead(s) fetched, 1 failed" in out and "404" in out
    assert main(["explain", str(item.id), "--config", str(config)]) == 0
    assert "fetch failed: not found (404 status code); the item is as the feed gave it" in (
        capsys.readouterr().out)
    assert main(["status", "--json", "--config", str(config)]) == 0
    assert json.loads(capsys.readouterr().out)["articles"]["failed"] == 1


def test_hostile_articles_are_bounded(feed_server: Any, state_env: Path, tmp_path: Path) -> None:
    """Too large, endless, a million elements, a private address: each fails or yields
    nothing within its bounds; the items stay as they were."""
    feed_server.add("/a1", b"<p>" + b"x" * (3 * 1024 * 1024), content_type="text/html")
    feed_server.add("/a2", b"", content_type="text/html", stream=50 * 1024 * 1024)
    feed_server.add("/a3", b"<div>" * 400_000, content_type="text/html")   # under the cap
    port = feed_server.port
    ctx = setup(tmp_path, feed_server,
                *[(f"{NEAR_MISS} ({n})", google_news_link(feed_server.url(f"/a{n}")))
                  for n in (1, 2, 3)],
                (f"{NEAR_MISS} (4)", google_news_link(f"http://127.0.0.2:{port}/a4")))
    report = asyncio.run(poll(ctx))
    assert report.enriched is not None and report.enriched.failed == 4
    assert deals(ctx) == {}
    assert "/a4" not in feed_server.paths()
    assert ctx.store.article_health().failed == 4
    for s in ctx.store.iter_items():
        assert s.item.summary == "", s.item.title          # every item as it was


def test_a_newer_google_news_link_is_counted_not_fetched(feed_server: Any, state_env: Path,
                                                          tmp_path: Path) -> None:
    opaque = base64.urlsafe_b64encode(b"\x08\x13\x22\x10AU_yqLabcdefghij\xd2\x01\x00").decode()
    ctx = setup(tmp_path, feed_server,
                (NEAR_MISS, "https://news.google.com/rss/articles/" + opaque))
    asyncio.run(poll(ctx))
    health = ctx.store.article_health()
    assert (health.undecodable, health.pending, health.failed) == (1, 0, 0)
    assert article_requests(feed_server) == []


def test_google_news_links_decode_offline() -> None:
    url = "https://www.reuters.com/world/asia-pacific/kazakhstan-israel-water-2026-03-09/"
    assert article_url(google_news_link(url)) == url
    long = "https://example.kz/" + "a" * 300              # a two-byte length
    raw = b"\x08\x13\x22" + bytes([(len(long) & 0x7F) | 0x80, len(long) >> 7]) + long.encode()
    assert decode_google_news(base64.urlsafe_b64encode(raw).decode().rstrip("=")) == long
    assert article_url("https://example.kz/story") == "https://example.kz/story"
    bing = ("http://www.bing.com/news/apiclick.aspx?ref=FexRss&aid=&tid=1&url="
            "https%3a%2f%2fastanatimes.com%2f2026%2f03%2fwater%2f&c=1&mkt=en-us")
    assert article_url(bing) == "https://astanatimes.com/2026/03/water/"
    assert article_url("https://news.google.com/rss/articles/!!!") is None
    assert decode_google_news("CBMi") is None


def test_the_lead_is_the_description_else_the_first_paragraphs() -> None:
    assert lead_of(article()) == LEAD
    page = (b"<html><body><nav><p>Menu</p></nav><article><p>By staff</p>"
            b"<p>Kazakhstan and Israel signed a memorandum on water technology, officials said."
            b"</p><p>The deal covers desalination and drip irrigation across the south of the "
            b"country.</p><p>A third paragraph that is not part of the lead at all, really.</p>"
            b"</article></body></html>")
    assert lead_of(page) == ("Kazakhstan and Israel signed a memorandum on water technology, "
                             "officials said. The deal covers desalination and drip irrigation "
                             "across the south of the country.")
    assert lead_of(b"<html><body><p>short</p></body></html>") == ""
    assert len(lead_of(article("word " * 1000))) <= 1_001


def test_the_lead_joins_a_summary_of_the_feed_s_own() -> None:
    assert with_lead("", LEAD) == LEAD
    assert with_lead("Water deal", LEAD) == f"Water deal. {LEAD}"
    assert with_lead(LEAD, LEAD.upper()) == LEAD


def test_enrich_must_be_a_boolean_and_the_cap_a_number(tmp_path: Path) -> None:
    data = yaml.safe_load(MINI.read_text(encoding="utf-8"))
    data["feeds"][0]["enrich"] = "sometimes"
    path = tmp_path / "indicators.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ConfigError, match="enrich"):
        load_config(path)
    with pytest.raises(ConfigError, match="WATCHER_ENRICH_PER_CYCLE"):
        load_settings({"WATCHER_ENRICH_PER_CYCLE": "lots"})
