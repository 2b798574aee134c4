"""Page sources parsed (watcher.ingest.page): saved pages → Items, layout changes, hostile pages."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from watcher.errors import FeedError
from watcher.ingest.page import MAX_ELEMENTS, MAX_ITEMS, PageSelectors, compile_selector, parse_page

PAGES = Path(__file__).parent / "fixtures" / "pages"
MAZHILIS = PageSelectors(item="ul.news-list li.news-list__item", title="a.news-list__title",
                         date="span.news-list__date", summary="div.news-list__lead",
                         date_format="%d.%m.%Y %H:%M", timezone="Asia/Almaty")
MAZHILIS_URL = "https://www.parlam.kz/ru/mazhilis/news"


def test_mazhilis_page_items_with_local_times_links_and_leads() -> None:
    parsed = parse_page("mazhilis-ru", (PAGES / "mazhilis-ru.html").read_bytes(), MAZHILIS,
                        base_url=MAZHILIS_URL, lang="ru")
    assert parsed.title == "Новости | Мажилис Парламента Республики Казахстан"
    assert parsed.warning is None
    assert len(parsed.items) == 6            # the sidebar's "popular" link is not an item
    step = parsed.items[3]
    assert step.title.startswith("В Мажилис внесен законопроект «О ратификации Декларации")
    assert step.url == "https://www.parlam.kz/ru/mazhilis/news/details/58402"
    assert step.key == step.url
    assert step.published == datetime(2026, 5, 27, 5, 15, tzinfo=UTC)     # 10:15 in Astana
    assert step.summary.startswith("Законопроект внесен Правительством")
    assert step.lang == "ru"


def test_kazakh_month_names_on_the_kazakh_pages() -> None:
    select = PageSelectors(item="ul.news-list li.news-list__item", title="a.news-list__title",
                           date="span.news-list__date", date_lang="kk", timezone="Asia/Almaty")
    parsed = parse_page("mazhilis-kk", (PAGES / "mazhilis-kk.html").read_bytes(), select,
                        base_url="https://www.parlam.kz/kk/mazhilis/news")
    dates = [i.published for i in parsed.items]
    assert dates == [datetime(2026, 12, 2, 10, 40, tzinfo=UTC),
                     datetime(2026, 6, 10, 8, 30, tzinfo=UTC),
                     datetime(2026, 5, 27, 5, 15, tzinfo=UTC),
                     datetime(2026, 5, 20, 12, tzinfo=UTC),
                     datetime(2025, 11, 18, 6, 45, tzinfo=UTC)]


def test_russian_genitive_months_with_a_pinned_format() -> None:
    select = PageSelectors(item="div.news-blocks div.news-block", title="a.news-block__title",
                           date="div.news-block__date", date_format="%d %B %Y г.", date_lang="ru")
    parsed = parse_page("senate-ru", (PAGES / "senate-ru.html").read_bytes(), select,
                        base_url="https://senate.parlam.kz/ru-RU/news")
    assert [i.published.date().isoformat() for i in parsed.items if i.published] == [
        "2026-12-03", "2026-11-26", "2026-06-18", "2026-06-11", "2025-11-20"]


def test_xpath_selectors_base_href_and_time_attributes() -> None:
    ksrk = PageSelectors(
        item=("//div[contains(@class,'view-news')]"
              "//div[contains(concat(' ',normalize-space(@class),' '),' views-row ')]"),
        title=".//div[contains(@class,'views-field-title')]//a",
        date=".//div[contains(@class,'views-field-created')]/span")
    court = parse_page("ksrk-ru", (PAGES / "ksrk-ru.html").read_bytes(), ksrk,
                       base_url="https://ksrk.gov.kz/ru/news")
    assert court.items[1].published == datetime(2026, 5, 20, tzinfo=UTC)
    assert court.items[1].url.startswith("https://ksrk.gov.kz/ru/news/konstitucionnyy-sud-priznal")
    gov_il = PageSelectors(item="li.result-item", title="h3.result-item__title a",
                           date=".result-item__date")
    israel = parse_page("israel-mfa", (PAGES / "israel-mfa.html").read_bytes(), gov_il,
                        base_url="https://www.gov.il/en/collectors/news?officeId=b8f9b2a1-mfa")
    # <base href="/"> makes "en/pages/…" a path from the site's root, not from /en/collectors/
    assert israel.items[0].url == ("https://www.gov.il/en/pages/"
                                   "fm-saar-meets-kazakh-fm-kosherbayev-jerusalem-24-nov-2026")
    dfc = PageSelectors(item="div.view-press-releases div.views-row", title="h3 a", date="time")
    press = parse_page("dfc", (PAGES / "dfc-press.html").read_bytes(), dfc,
                       base_url="https://www.dfc.gov/media/press-releases")
    assert press.items[0].published == datetime(2026, 11, 19, 12, tzinfo=UTC)   # <time datetime>


def test_attribute_selectors_and_hashed_class_names() -> None:
    select = PageSelectors(item='div[class^="NewsCard_card"]', title='h3[class^="NewsCard_title"]',
                           link='a[class^="NewsCard_link"]::attr(href)',
                           date='span[class^="NewsCard_date"]', timezone="Asia/Almaty")
    parsed = parse_page("kz-mfa-ru", (PAGES / "kz-mfa-ru.html").read_bytes(), select,
                        base_url="https://www.gov.kz/memleket/entities/mfa/press/news?lang=ru")
    first = parsed.items[5]
    assert first.title == "Заявление МИД Республики Казахстан о присоединении к Соглашениям Авраама"
    assert first.url == "https://www.gov.kz/memleket/entities/mfa/press/news/details/1101139?lang=ru"
    assert first.published == datetime(2025, 11, 7, 4, 15, tzinfo=UTC)


def test_scripts_and_templates_never_become_items() -> None:
    select = PageSelectors(item="div.event-item", title="a.event-item__title",
                           date="div.event-item__date", date_lang="ru")
    parsed = parse_page("akorda-ru", (PAGES / "akorda-ru.html").read_bytes(), select,
                        base_url="https://www.akorda.kz/ru/events")
    assert len(parsed.items) == 7
    assert all("Фальшивая" not in i.title for i in parsed.items)


def test_identity_is_the_link_else_title_and_printed_date() -> None:
    page = ("<html><body>"
            "<div class=n><h3>Мажилис одобрил закон</h3><span>12.11.2025</span></div>"
            "<div class=n><h3>Мажилис одобрил закон</h3><span>13.11.2025</span></div>"
            "</body></html>")
    select = PageSelectors(item="div.n", title="h3", date="span")
    first = parse_page("x", page.encode(), select, base_url="https://parlam.kz/")
    again = parse_page("x", page.encode(), select, base_url="https://parlam.kz/")
    assert [i.url for i in first.items] == ["", ""]
    keys = [i.key for i in first.items]
    assert keys == [i.key for i in again.items] and len(set(keys)) == 2
    assert all(k.startswith("sha256:") for k in keys)


def test_a_page_without_the_items_is_a_failure_that_says_why() -> None:
    redesigned = (b"<html><body><section class='news-grid'><article><h2>Title</h2></article>"
                  b"</section></body></html>")
    with pytest.raises(FeedError) as caught:
        parse_page("mazhilis-ru", redesigned, MAZHILIS, base_url=MAZHILIS_URL)
    assert caught.value.reason == ("selector `ul.news-list li.news-list__item` matched nothing; "
                                   "the page's layout may have changed")
    untitled = b"<ul class=news-list><li class=news-list__item><b>no title here</b></li></ul>"
    with pytest.raises(FeedError,
                       match="selector `a.news-list__title` found no title in any of the 1 item"):
        parse_page("mazhilis-ru", untitled, MAZHILIS, base_url=MAZHILIS_URL)
    with pytest.raises(FeedError, match="empty body"):
        parse_page("mazhilis-ru", b"  \n", MAZHILIS, base_url=MAZHILIS_URL)


def test_dates_that_cannot_be_read_are_a_warning_not_a_failure() -> None:
    page = ("<ul class=news-list><li class=news-list__item><a class=news-list__title href=/a>A</a>"
            "<span class=news-list__date>вчера, 14:30</span></li>"
            "<li class=news-list__item><a class=news-list__title href=/b>B</a>"
            "<span class=news-list__date>12.11.2025 10:00</span></li></ul>")
    parsed = parse_page("mazhilis-ru", page.encode(), MAZHILIS, base_url=MAZHILIS_URL)
    assert [i.published is None for i in parsed.items] == [True, False]
    assert parsed.warning is not None
    assert "date not understood in 1 item(s) (e.g. 'вчера, 14:30')" in parsed.warning


def test_the_header_charset_wins_and_a_meta_charset_is_read() -> None:
    page = ("<html><head><meta charset='windows-1251'></head>"
            "<body><p class=n><a href=/x>Сенат одобрил закон</a></p></body></html>")
    select = PageSelectors(item="p.n", title="a")
    by_meta = parse_page("x", page.encode("cp1251"), select, base_url="https://senate.parlam.kz/")
    assert by_meta.items[0].title == "Сенат одобрил закон"
    plain = page.replace("<meta charset='windows-1251'>", "")
    by_header = parse_page("x", plain.encode("koi8-r"), select,
                           content_type="text/html; charset=KOI8-R",
                           base_url="https://senate.parlam.kz/")
    assert by_header.items[0].title == "Сенат одобрил закон"


def test_hostile_page_is_bounded() -> None:
    """100k elements, a huge attribute, scripts everywhere, javascript: links: cut, capped, fast."""
    huge = "x" * 2_000_000
    rows = "".join(f"<div class=n><a href='javascript:alert({n})' title='{huge if n == 3 else ''}'>"
                   f"Item {n}</a>"
                   "<script>document.write('<div class=n><a>evil</a></div>')</script></div>"
                   for n in range(20_000))
    filler = "<i></i>" * 100_000
    late = "<div class=n><a href=/late>Late</a></div>"
    page = f"<html><body>{rows}{filler}{late}</body></html>".encode()
    select = PageSelectors(item="div.n", title="a")
    started = time.perf_counter()
    parsed = parse_page("x", page, select, base_url="https://example.org/")
    elapsed = time.perf_counter() - started
    assert len(parsed.items) == MAX_ITEMS
    assert all(i.title.startswith("Item ") and i.url == "" for i in parsed.items)
    assert parsed.warning is not None
    assert f"page cut at {MAX_ELEMENTS:,} elements" in parsed.warning
    assert f"the first {MAX_ITEMS} kept" in parsed.warning
    assert "Late" not in {i.title for i in parsed.items}
    assert elapsed < 10       # generous on a loaded 2-core machine; benchmarks/pages.py measures it


def test_deep_nesting_is_refused_by_the_parser_not_followed() -> None:
    page = ("<div class=n><a href=/x>Top</a></div>" + "<div>" * 10_000
            + "<div class=n><a>deep</a></div>" + "</div>" * 10_000).encode()
    parsed = parse_page("x", page, PageSelectors(item="div.n", title="a"),
                        base_url="https://example.org/")
    assert parsed.items[0].title == "Top"


@pytest.mark.parametrize(("selector", "message"), [
    ("div..item", "invalid CSS selector 'div..item'"),
    ("//div[", "invalid XPath '//div['"),
    ("./foo(", "invalid XPath './foo('"),
    ("a::attr(", "invalid CSS selector 'a::attr('"),
    ("", "empty selector"),
])
def test_bad_selectors_are_refused_with_the_reason(selector: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("(", r"\(")):
        compile_selector(selector)
