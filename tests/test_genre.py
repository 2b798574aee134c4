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
    assert {"en", "ru", "kk", "ar", "he"} <= set(CUES)
