"""Opinion and analysis told from news by title, URL and feed tier (issue 12)."""

from __future__ import annotations

import pytest

from watcher.judge.genre import CUES, genre_of


@pytest.mark.parametrize(("title", "url", "tier", "kind"), [
    ("Opinion: Kazakhstan's accession is a win for peace", "", "outlet", "opinion"),
    ("Kazakhstan's Abraham Accords move | Opinion - The Hill", "", "aggregator", "opinion"),
    ("Op-Ed: Astana's bet on the Accords", "", "outlet", "opinion"),
    ("EXPLAINER-Why Kazakhstan joined the Abraham Accords", "", "wire", "analysis"),
    ("Analysis: the Accords reach Central Asia - Reuters", "", "aggregator", "analysis"),
    ("Kazakhstan's accession to the Abraham Accords actually is a big deal", "", "outlet",
     "analysis"),
    ("Why Kazakhstan joined the Abraham Accords now", "", "outlet", "analysis"),
    ("What Kazakhstan's accession means for Central Asia", "", "outlet", "analysis"),
    ("Expert calls Kazakhstan-Israel water deal a model for the region", "", "outlet", "analysis"),
    ("Will Uzbekistan be next to join the Abraham Accords?", "", "outlet", "analysis"),
    ("Мнение: Казахстан и Соглашения Авраама", "", "outlet", "opinion"),
    ("Почему Казахстан присоединился к Соглашениям Авраама", "", "outlet", "analysis"),
    ("Эксперт: присоединение Казахстана носит символический характер", "", "outlet", "analysis"),
    ("Қазақстан неге қосылды? Сарапшылар түсіндіреді", "", "outlet", "analysis"),
    ("لماذا انضمت كازاخستان إلى اتفاقيات إبراهيم", "", "outlet", "analysis"),
    ("מדוע קזחסטן הצטרפה להסכמי אברהם", "", "outlet", "analysis"),
    # the URL's section and the feed's tier
    ("Kazakhstan and the Accords", "https://www.newarab.com/analysis/israel-kazakhstan", "outlet",
     "analysis"),
    ("Kazakhstan and the Accords", "https://thehill.com/opinion/international/123-kz/", "outlet",
     "opinion"),
    ("Kazakhstan and the Accords", "https://www.atlanticcouncil.org/blogs/menasource/kz/", "outlet",
     "opinion"),
    ("Kazakhstan signs water deal with Israel", "https://www.atlanticcouncil.org/x", "thinktank",
     "analysis"),
])
def test_opinion_and_analysis_are_told_with_their_cue(
    title: str, url: str, tier: str, kind: str
) -> None:
    genre = genre_of(title, url, tier)
    assert genre.kind == kind and genre.cue and not genre.is_news


@pytest.mark.parametrize("title", [
    "Kazakhstan and Israel sign water technology agreement",
    "Kazakhstan and Israel sign water technology agreement - Reuters",
    "US, Kazakhstan sign big deal on critical minerals",         # "big deal" is not "is a big deal"
    "Kazakh-Israeli data analysis center opens in Astana",        # "analysis" is not a label here
    "Trump tells Saudi crown prince: 'It's time' to join Abraham Accords",
    "Казахстан и Израиль подписали меморандум о сотрудничестве",
    "Azerbaijan joins the Abraham Accords | Times of Central Asia",
])
def test_news_stays_news(title: str) -> None:
    assert genre_of(title, "https://example.com/news/2026/01/story", "wire").is_news


@pytest.mark.parametrize(("title", "url", "kind", "cue"), [
    ("Görüş: Kazakistan'ın İbrahim Anlaşmaları kararı", "", "opinion", "görüş"),
    ("Neden Kazakistan İbrahim Anlaşmaları'na katıldı", "", "analysis", "neden"),
    ("Uzmanlar: Kazakistan'ın adımı sembolik", "", "analysis", "uzmanlar"),
    ("Rəy: Qazaxıstan İbrahim Sazişlərinə niyə qoşuldu", "", "opinion", "rəy"),
    ("Niyə Qazaxıstan İbrahim Sazişlərinə qoşuldu", "", "analysis", "niyə"),
    ("Tahlil: Qozog'iston Avraam kelishuvlariga qo'shiladimi", "", "analysis", "tahlil"),
    ("Nega Qozog'iston Avraam kelishuvlariga qo'shildi", "", "analysis", "nega"),
    ("Таҳлил: Қозоғистон ва Авраам келишувлари", "", "analysis", "таҳлил"),
    ("یادداشت: قزاقستان و پیمان ابراهیم", "", "opinion", "يادداشت"),
    ("چرا قزاقستان به پیمان ابراهیم پیوست", "", "analysis", "چرا"),
    ("评论：哈萨克斯坦加入亚伯拉罕协议", "", "opinion", "评论"),
    ("专家称哈萨克斯坦此举具有象征意义", "", "analysis", "专家称"),
    ("哈萨克斯坦为什么加入亚伯拉罕协议", "", "analysis", "为什么"),
    ("Opinión: Kazajistán y los Acuerdos de Abraham", "", "opinion", "opinión"),
    ("Análisis: Kazajistán se une a los Acuerdos de Abraham", "", "analysis", "análisis"),
    ("Kazakistan ve İbrahim Anlaşmaları", "https://www.aa.com.tr/tr/analiz/kz-123", "analysis",
     "/analiz/"),
    ("Kazakistan ve İbrahim Anlaşmaları", "https://www.hurriyet.com.tr/yazarlar/ali/kz-1",
     "opinion", "/yazarlar/"),
])
def test_the_regions_languages_are_told_with_their_cue(
    title: str, url: str, kind: str, cue: str
) -> None:
    """Opinion and analysis in Turkish, Azerbaijani, Uzbek, Persian, Chinese and Spanish (issue
    13): a label, an opening question word, an attribution to experts, a site's section."""
    genre = genre_of(title, url, "outlet")
    assert genre.kind == kind and cue in genre.cue, genre


@pytest.mark.parametrize("title", [
    "Kazakistan ile İsrail su teknolojisi anlaşması imzaladı",
    "Qazaxıstan və İsrail su sazişi imzaladı",
    "Qozog'iston va Isroil suv kelishuvini imzoladi",
    "قزاقستان و اسرائیل توافقنامه آب امضا کردند",
    "哈萨克斯坦与以色列签署水务协议",
    "以色列专家抵达阿斯塔纳",                   # experts arriving are news, not an attribution
    "Kazajistán e Israel firman un acuerdo sobre el agua",
])
def test_news_in_the_regions_languages_stays_news(title: str) -> None:
    assert genre_of(title, "https://example.com/news/2026/01/story", "outlet").is_news


def test_cues_are_data_a_language_is_a_table() -> None:
    """Another language is one more entry in CUES (issue 13 adds them)."""
    from watcher.judge import genre as module
    module.CUES["xx"] = module.Cues(labels={"zzmeinung": "opinion"})
    try:
        module._title_genre.cache_clear()
        assert genre_of("Zzmeinung: something").kind == "opinion"
    finally:
        del module.CUES["xx"]
        module._title_genre.cache_clear()
    assert {"en", "ru", "kk", "ar", "he", "tr", "az", "uz", "fa", "zh", "es"} <= set(CUES)


def test_the_digest_line_of_an_op_ed_says_its_genre_and_cue() -> None:
    """Shown as context, never counted (issue 13 item 3): the line the digest, alerts and
    `watcher review` print names the genre and what told it, in the region's languages too."""
    from tests.test_tracks import CFG, events, report
    from watcher.judge.counting import judge_event
    from watcher.judge.why import counts_line
    for title, url, said in [
        ("Görüş: Kazakistan ve İsrail su anlaşması imzaladı", "https://example.com.tr/x",
         "does not count: opinion (opinion: title label “görüş”)"),
        ("Kazakhstan and Israel sign water technology agreement", "https://thehill.com/opinion/kz",
         "does not count: opinion (opinion: URL section /opinion/)"),
    ]:
        (ev,) = [e for e in events(report(title, "2026-02-02", url))
                 if e.indicator == "kz_israel_deal"]
        assert counts_line(judge_event(ev, CFG)) == said
