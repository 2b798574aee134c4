"""Events: one happening across outlets and languages; independent sources, not copies."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from tests.conftest import at
from tests.rules import probe_config
from watcher.judge.events import cluster, host_of, skeleton
from watcher.judge.match import Matcher
from watcher.judge.score import score_events
from watcher.models import Event, MatchedItem

CFG = probe_config("""
    all: [$AZ, $JOIN, $ACCORDS]
    """, top="""
    terms:
      AZ: [Azerbaijan*, Азербайджан*, أذربيجان]
      JOIN: [join*, присоедин*, انضمام]
      ACCORDS: ["Abraham Accords", "Соглашени* Авраама", "اتفاقيات إبراهيم"]
    """)
M = Matcher(CFG)
_n = iter(range(10_000))


def report(title: str, day: str, url: str, summary: str = "") -> MatchedItem:
    (m,) = M.match(title, summary)
    return MatchedItem(
        next(_n), "f", title, url, at(day), at(day), host_of(url), "outlet", m, summary
    )


def events(*items: MatchedItem) -> list[Event]:
    return score_events(cluster(list(items), M.concept_of), CFG)


def test_names_align_across_cyrillic_and_latin() -> None:
    assert skeleton("азербайджана") .startswith(skeleton("azerbaijan"))
    assert skeleton("авраама") == skeleton("abraham")


def test_one_happening_in_english_and_russian_is_one_event() -> None:
    (ev,) = events(
        report(
            "Azerbaijan agrees to join the Abraham Accords, Trump says",
            "2026-11-18",
            "https://apnews.com/a",
        ),
        report(
            "Азербайджан присоединится к Соглашениям Авраама, заявил Трамп",
            "2026-11-18",
            "https://tass.ru/b",
        ),
    )
    assert ev.sources == ["apnews.com", "tass.ru"] and ev.independent == 2


def test_arabic_and_english_align_by_concept_only_when_close_in_time() -> None:
    en = report("Azerbaijan to join the Abraham Accords", "2026-11-18", "https://apnews.com/a")
    assert (
        len(
            events(
                en,
                report(
                    "أذربيجان تعلن انضمام إلى اتفاقيات إبراهيم",
                    "2026-11-19",
                    "https://aljazeera.net/b",
                ),
            )
        )
        == 1
    )
    assert (
        len(
            events(
                en,
                report(
                    "أذربيجان تعلن انضمام إلى اتفاقيات إبراهيم",
                    "2026-11-21",
                    "https://aljazeera.net/c",
                ),
            )
        )
        == 2
    )


def test_two_stories_from_one_outlet_stay_two_events() -> None:
    evs = events(
        report(
            "Azerbaijan agrees to join the Abraham Accords", "2026-11-18", "https://apnews.com/a"
        ),
        report(
            "Azerbaijan opposition protests plan to join the Abraham Accords",
            "2026-11-19",
            "https://apnews.com/b",
        ),
    )
    assert len(evs) == 2


def test_a_second_outlet_still_joins_an_event_with_one_story_per_outlet() -> None:
    (ev,) = events(
        report(
            "Azerbaijan agrees to join the Abraham Accords", "2026-11-18", "https://apnews.com/a"
        ),
        report(
            "Azerbaijan agrees to join Abraham Accords, White House says",
            "2026-11-18",
            "https://reuters.com/b",
        ),
    )
    assert ev.independent == 2


def test_ten_syndicated_copies_weigh_less_than_two_independent_reports() -> None:
    text = (
        "Azerbaijan agrees to join the Abraham Accords",
        "Baku will sign the declaration next month, the White House said.",
    )
    copies = [
        report(f"{text[0]} - Site {n}", "2026-11-18", f"https://site{n}.com/x", text[1])
        for n in range(10)
    ]
    (syndicated,) = events(*copies)
    assert len(syndicated.sources) == 10 and syndicated.independent == 1
    (two,) = events(
        report(text[0], "2026-11-18", "https://apnews.com/a", text[1]),
        report(
            "Azerbaijan will join the Abraham Accords, Aliyev's office confirms",
            "2026-11-18",
            "https://trend.az/b",
            "President Aliyev's office said the decision followed talks with Washington.",
        ),
    )
    assert two.independent == 2 and two.score > syndicated.score


def test_same_headline_with_different_reporting_counts_twice() -> None:
    (ev,) = events(
        report(
            "Azerbaijan to join the Abraham Accords",
            "2026-11-18",
            "https://a.com/1",
            "Trump announced the decision after a call with Aliyev on Tuesday.",
        ),
        report(
            "Azerbaijan to join the Abraham Accords",
            "2026-11-18",
            "https://b.com/2",
            "Baku's foreign ministry confirmed the step, citing energy ties with Israel.",
        ),
    )
    assert ev.independent == 2


CFG2 = probe_config("""
    all: [$AZ, $ACCORDS]
    any: [$JOIN, $TRUMP, $BAKU]
    """, top="""
    terms:
      AZ: [Azerbaijan*, Азербайджан*, أذربيجان]
      JOIN: [join*, присоедин*, انضمام]
      TRUMP: [Trump, ترامب]
      BAKU: [Baku, باكو]
      ACCORDS: ["Abraham Accords", "Соглашени* Авраама", "اتفاقيات إبراهيم"]
    """)
M2 = Matcher(CFG2)


def report2(title: str, url: str, summary: str = "") -> MatchedItem:
    (m,) = M2.match(title, summary)
    return MatchedItem(
        next(_n),
        "f",
        title,
        url,
        at("2026-11-18"),
        at("2026-11-18"),
        host_of(url),
        "outlet",
        m,
        summary,
    )


def events2(*items: MatchedItem) -> list[Event]:
    return score_events(cluster(list(items), M2.concept_of), CFG2)


def test_a_headline_in_another_script_that_adds_a_detail_still_joins_the_event() -> None:
    en = report2("Azerbaijan to join the Abraham Accords", "https://apnews.com/a")
    ar = report2(
        "ترامب: أذربيجان تعلن انضمام إلى اتفاقيات إبراهيم", "https://aljazeera.net/b"
    )  # adds "Trump"
    (ev,) = events2(en, ar)
    assert ev.independent == 2


def test_concepts_only_in_a_summary_do_not_split_a_cross_script_event() -> None:
    en = report2("Azerbaijan to join the Abraham Accords", "https://apnews.com/a")
    ar = report2(
        "أذربيجان تعلن انضمام إلى اتفاقيات إبراهيم", "https://aljazeera.net/b", "ترامب باكو"
    )  # background terms
    assert len(events2(en, ar)) == 1


def test_cross_script_headlines_sharing_too_few_concepts_stay_apart() -> None:
    en = report2("Azerbaijan to join the Abraham Accords, Trump says", "https://apnews.com/a")
    ar = report2("باكو تستضيف منتدى حول أذربيجان و اتفاقيات إبراهيم", "https://aljazeera.net/b")
    assert len(events2(en, ar)) == 2


def test_two_chinese_reports_of_one_happening_share_character_pairs() -> None:
    from watcher.judge.events import salient, similarity
    a = salient("阿塞拜疆宣布加入亚伯拉罕协议")
    b = salient("特朗普：阿塞拜疆将加入亚伯拉罕协议")
    c = salient("哈萨克斯坦总统会见以色列外长")
    assert similarity(a, b) >= 0.5 and similarity(a, c) == 0.0


def test_closing_groups_past_the_window_changes_no_event(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Two months of reports, a few happenings a week retold by many outlets at every
    distance in time around the 4-day window: the same events as comparing every group."""
    import random
    rng = random.Random(17)
    verbs = ["joins", "will join", "is set to join", "formally joins", "moves to join"]
    extras = ["", " today", " after talks", " in Washington", " as expected", " — officials"]
    items = []
    for n in range(600):
        day = rng.randrange(60)
        title = (f"Azerbaijan {rng.choice(verbs)} the Abraham Accords{rng.choice(extras)}"
                 f"{' ' + str(day // 5) if rng.random() < 0.5 else ''}")
        m = report(title, "2026-01-01", f"https://outlet{rng.randrange(12)}.example/{n}")
        when = m.published + timedelta(days=day, hours=rng.randrange(24))
        items.append(dataclasses.replace(m, published=when, seen_at=when))
    got = [[m.item_id for m in e.items] for e in cluster(items, M.concept_of)]
    from watcher.judge import events as ev
    monkeypatch.setattr(ev, "_still_open", lambda groups, m: groups)     # as before issue 17
    assert got == [[m.item_id for m in e.items] for e in cluster(items, M.concept_of)]
    assert 10 < len(got) < 500


def test_items_printed_at_the_same_moment_cluster_the_same_whatever_their_row_order() -> None:
    """Pages print dates without a time, so many items share 00:00; the rows' ids follow the
    order in which concurrent feeds were stored. The events must not depend on that."""
    from dataclasses import replace
    items = [report("Azerbaijan joins the Abraham Accords", "2026-04-15", "https://a.example/1"),
             report("Azerbaijan to join Abraham Accords, talks say", "2026-04-15",
                    "https://b.example/2"),
             report("Азербайджан присоединился к Соглашениям Авраама", "2026-04-15",
                    "https://c.example/3"),
             report("Azerbaijan joins Abraham Accords at ceremony", "2026-04-15",
                    "https://d.example/4")]

    def shape(rows: list[MatchedItem]) -> list[list[str]]:
        return [[m.url for m in e.items] for e in cluster(rows, M.concept_of)]

    first = shape(items)
    reordered = [replace(m, item_id=100 - n) for n, m in enumerate(items)]
    assert shape(reordered) == first
