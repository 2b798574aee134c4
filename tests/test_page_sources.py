"""The shipped page sources on their saved copies, polled end to end over 127.0.0.1 (issue 19)."""

from __future__ import annotations

import asyncio
import html
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from tests.conftest import ROOT, at
from watcher.cli import main
from watcher.config import Config, Feed, load_config
from watcher.context import Context
from watcher.ingest.page import parse_page
from watcher.ingest.poll import poll
from watcher.judge.match import Matcher
from watcher.settings import load_settings

PAGES = ROOT / "tests" / "fixtures" / "pages"
SHIPPED = load_config(ROOT / "indicators.yaml")
PAGE_SOURCES = [f for f in SHIPPED.feeds if f.type == "html"]
HTML = "text/html; charset=utf-8"


@pytest.mark.parametrize("feed", PAGE_SOURCES, ids=[f.id for f in PAGE_SOURCES])
def test_every_shipped_page_source_reads_its_saved_copy(feed: Feed) -> None:
    assert feed.tier == "official" and feed.page is not None
    parsed = parse_page(feed.id, (PAGES / f"{feed.id}.html").read_bytes(), feed.page,
                        base_url=feed.url, lang=feed.lang)
    assert len(parsed.items) >= 4 and parsed.warning is None
    host = urlsplit(feed.url).hostname
    for item in parsed.items:
        assert item.published is not None, item.title
        assert urlsplit(item.url).hostname == host and item.key == item.url
        assert item.lang == feed.lang


def test_the_saved_pages_ratification_steps_match_the_ratification_indicator() -> None:
    matcher = Matcher(SHIPPED)
    steps = {}
    for feed in PAGE_SOURCES:
        assert feed.page is not None
        for item in parse_page(feed.id, (PAGES / f"{feed.id}.html").read_bytes(), feed.page,
                               base_url=feed.url).items:
            if any(m.indicator == "ratification" for m in matcher.match(item.title, item.summary)):
                steps.setdefault(feed.id, []).append(f"{item.published:%Y-%m-%d}")
    assert steps == {
        "akorda-ru": ["2026-06-26"], "akorda-kk": ["2026-06-26"],          # signed into law
        "kz-mfa-ru": ["2026-05-12"],                                        # government's bill
        "mazhilis-ru": ["2026-06-10", "2026-05-27"], "mazhilis-kk": ["2026-06-10", "2026-05-27"],
        "senate-ru": ["2026-06-18"], "ksrk-ru": ["2026-05-20"]}


# --- polled over HTTP ----------------------------------------------------------------------


def page_config(tmp: Path, server: Any, ids: list[str]) -> Path:
    """The shipped indicators.yaml with only the named page sources, pointed at the server."""
    data = yaml.safe_load((ROOT / "indicators.yaml").read_text(encoding="utf-8"))
    data["feeds"] = [dict(f, url=server.url(f"/{f['id']}")) for f in data["feeds"]
                     if f["id"] in ids]
    path = tmp / "indicators.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def serve(server: Any, feed_id: str, copy: str = "") -> None:
    server.add(f"/{feed_id}", (PAGES / copy / f"{feed_id}.html").read_bytes(), content_type=HTML)


def context(config: Config, when: str) -> Context:
    return Context.open(config, load_settings(), clock=lambda: at(when))


def test_a_page_is_polled_stored_and_matched_and_its_items_keep_their_identity(
        feed_server: Any, state_env: Path, tmp_path: Path) -> None:
    serve(feed_server, "mazhilis-ru", "earlier")
    config = load_config(page_config(tmp_path, feed_server, ["mazhilis-ru"]))
    first = asyncio.run(poll(context(config, "2026-05-26T06:00")))
    assert first.new_items == 3 and not first.failed and first.matches == 0
    serve(feed_server, "mazhilis-ru")                       # the page as saved later
    ctx = context(config, "2026-12-04T06:00")
    second = asyncio.run(poll(ctx))
    # six items listed now; two were on the earlier page (same link: the same item): four new
    assert second.new_items == 4 and second.matches == 2 and not second.failed
    steps = sorted((m.published, m.title) for m in ctx.store.matched_items()
                   if m.match.indicator == "ratification")
    assert [(f"{p:%Y-%m-%d %H:%M}", t[:40]) for p, t in steps] == [
        ("2026-05-27 05:15", "В Мажилис внесен законопроект «О ратифик"),
        ("2026-06-10 08:30", "Мажилис одобрил закон «О ратификации Дек")]
    assert all(m.tier == "official" for m in ctx.store.matched_items())
    third = asyncio.run(poll(context(config, "2026-12-04T09:00")))
    assert third.new_items == 0 and third.unchanged == 1     # ETag: 304, nothing parsed


def test_a_layout_change_is_a_failure_with_its_reason_in_status(
        feed_server: Any, state_env: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    serve(feed_server, "mazhilis-ru")
    path = page_config(tmp_path, feed_server, ["mazhilis-ru"])
    config = load_config(path)
    assert asyncio.run(poll(context(config, "2026-12-03T06:00"))).new_items == 6
    serve(feed_server, "mazhilis-ru", "later")               # the site was redesigned
    report = asyncio.run(poll(context(config, "2026-12-05T06:00")))
    reason = ("selector `ul.news-list li.news-list__item` matched nothing; "
              "the page's layout may have changed")
    assert report.failed == {"mazhilis-ru": reason} and report.new_items == 0
    assert main(["status", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "failing: 1" in out and reason in out
    preview = tmp_path / "digest.html"
    assert main(["digest", "--preview", str(preview), "--config", str(path)]) == 0
    assert "mazhilis-ru" in preview.read_text(encoding="utf-8")
    # in the digest's health (the apostrophe escaped as &#39;, as jinja2 writes it)
    assert reason in html.unescape(preview.read_text(encoding="utf-8"))


def test_feed_test_prints_the_items_and_their_rules_and_stores_nothing(
        feed_server: Any, state_env: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    serve(feed_server, "senate-ru")
    path = page_config(tmp_path, feed_server, ["senate-ru"])
    assert main(["feed", "test", "--config", str(path), "senate-ru"]) == 0
    out = capsys.readouterr().out
    head = f"senate-ru: page {feed_server.url('/senate-ru')} (200): 5 item(s)"
    assert out.splitlines()[0].startswith(head)
    assert "2026-06-18 00:00 UTC  Сенат одобрил Закон «О ратификации Декларации" in out
    block = out.split("Сенат одобрил Закон", 1)[1].split("\n\n", 1)[0]
    assert "matches: ratification (" in block
    assert "matches: none" in out
    assert out.rstrip().endswith("1 of 5 item(s) would match; nothing was stored.")
    assert not (state_env / "watcher.db").exists() or _stored_items(path) == 0


def test_feed_test_on_a_url_with_selectors_and_its_failures(
        feed_server: Any, state_env: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    serve(feed_server, "ksrk-ru")
    path = page_config(tmp_path, feed_server, [])
    url = feed_server.url("/ksrk-ru")
    code = main(["feed", "test", "--config", str(path), url, "--select", "item=div.views-row",
                 "--select", "title=h3 a", "--select", "date=span.field-content"])
    out = capsys.readouterr().out
    assert code == 0 and "4 item(s)" in out.splitlines()[0]
    assert "2026-05-20 00:00 UTC  Конституционный Суд признал Декларацию" in out
    assert main(["feed", "test", "--config", str(path), url, "--select", "item=div.news-item",
                 "--select", "title=a"]) == 1
    err = capsys.readouterr().err
    assert "selector `div.news-item` matched nothing; the page's layout may have changed" in err
    assert main(["feed", "test", "--config", str(path), url, "--select", "item=div..x",
                 "--select", "title=a"]) == 1
    assert "invalid CSS selector 'div..x'" in capsys.readouterr().err


def _stored_items(path: Path) -> int:
    ctx = Context.open(load_config(path), load_settings())
    return ctx.store.count_items()


def test_an_edited_select_block_applies_at_the_next_poll(
        feed_server: Any, state_env: Path, tmp_path: Path) -> None:
    """A server without validators sends the same bytes: a feed is skipped by hash, a page is
    read again, so new selectors take effect without waiting for the page to change."""
    feed_server.add("/mazhilis-ru", (PAGES / "mazhilis-ru.html").read_bytes(), content_type=HTML,
                    etag=False)
    path = page_config(tmp_path, feed_server, ["mazhilis-ru"])
    narrow = yaml.safe_load(path.read_text(encoding="utf-8"))
    narrow["feeds"][0]["select"]["item"] = "ul.news-list li.news-list__item:first-child"
    path.write_text(yaml.safe_dump(narrow, allow_unicode=True), encoding="utf-8")
    assert asyncio.run(poll(context(load_config(path), "2026-12-04T06:00"))).new_items == 1
    wide_config = load_config(page_config(tmp_path, feed_server, ["mazhilis-ru"]))
    wide = asyncio.run(poll(context(wide_config, "2026-12-04T09:00")))
    assert wide.new_items == 5 and wide.unchanged == 0


def test_a_hostile_page_is_polled_within_bounds_and_the_cut_is_recorded(
        feed_server: Any, state_env: Path, tmp_path: Path) -> None:
    rows = "".join(f"<li class='news-list__item'><a class='news-list__title' href='/n/{n}' "
                   f"onclick='{'x' * 50_000 if n == 1 else ''}'>Новость {n}</a>"
                   "<script>alert('<li class=news-list__item>')</script></li>"
                   for n in range(5_000))
    page = f"<ul class='news-list'>{rows}</ul>{'<b></b>' * 100_000}".encode()
    feed_server.add("/mazhilis-ru", page, content_type=HTML)
    config = load_config(page_config(tmp_path, feed_server, ["mazhilis-ru"]))
    ctx = context(config, "2026-12-04T06:00")
    report = asyncio.run(poll(ctx))
    assert report.new_items == 200 and not report.failed
    [issue] = ctx.store.issues(None)
    feed_id, detail = issue.feed_id, issue.detail
    assert feed_id == "mazhilis-ru"
    assert "page cut at 50,000 elements" in detail
    assert "5000 items matched, the first 200 kept" in detail


def test_the_demo_serves_and_polls_every_shipped_page_source(state_env: Path,
                                                            tmp_path: Path) -> None:
    import importlib.util
    spec = importlib.util.spec_from_file_location("run_demo", ROOT / "demo" / "run_demo.py")
    assert spec is not None and spec.loader is not None
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    server = demo.serve()
    try:
        data = yaml.safe_load((ROOT / "indicators.yaml").read_text(encoding="utf-8"))
        data["feeds"] = demo.page_sources(data["feeds"], f"http://127.0.0.1:{server.server_address[1]}")
        assert {f["id"] for f in data["feeds"]} == {f.id for f in PAGE_SOURCES}
        path = tmp_path / "demo.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        ctx = context(load_config(path), "2026-12-04T06:00")
        report = asyncio.run(poll(ctx))
    finally:
        server.shutdown()
        server.server_close()
    assert report.polled == len(PAGE_SOURCES) and not report.failed
    stored = {m.feed_id for m in ctx.store.matched_items() if m.match.indicator == "ratification"}
    assert {"mazhilis-ru", "mazhilis-kk", "senate-ru", "ksrk-ru", "akorda-ru"} <= stored


def test_check_names_the_line_of_a_bad_selector_format_or_language(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (ROOT / "indicators.yaml").read_text(encoding="utf-8")
    fields = ('             date: "span.news-list__date", summary: "div.news-list__lead",\n'
              '             date_format: "%d.%m.')
    good = 'select: {item: "ul.news-list li.news-list__item", title: "a.news-list__title",\n'
    wrong = 'select: {item: "ul.news-list li..item", title: "//a[",\n'
    bad = text.replace(good + fields + "%Y %H:%M", wrong + fields + "%Q %H:%M", 1)
    assert bad != text
    path = tmp_path / "indicators.yaml"
    path.write_text(bad, encoding="utf-8")
    line = next(n for n, row in enumerate(bad.splitlines(), start=1) if "li..item" in row)
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:{line}: feeds." in err
    assert "select.item: invalid CSS selector 'ul.news-list li..item'" in err
    assert "select.title: invalid XPath '//a['" in err
    assert "select.date_format: date_format '%d.%m.%Q %H:%M': unsupported directive(s) %Q" in err


def test_feed_test_reads_an_ordinary_feed_too(feed_server: Any, state_env: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    feed_server.add("/wire.rss", (ROOT / "tests" / "fixtures" / "e2e" / "wire.rss").read_bytes())
    path = page_config(tmp_path, feed_server, [])
    assert main(["feed", "test", feed_server.url("/wire.rss"), "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"test: feed {feed_server.url('/wire.rss')} (200): ")
    assert "nothing was stored." in out and "matches: " in out
