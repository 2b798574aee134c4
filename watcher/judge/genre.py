"""Is a report news, or opinion and analysis? Decided from its title, its URL and its feed.

Pure. An op-ed that "Kazakhstan's accession actually is a big deal" can match a follow-up
rule as strongly as the news of a deal, but it reports no happening: it never counts and
never corroborates one (issue 12). The cues are data, one table per language, so a language
is added by adding its table (issue 13):
  * labels: a title that opens or ends with one ("Opinion: …", "… | Analysis", "EXPLAINER-…");
  * starts: a title's first word ("Why …", "Почему …");
  * phrases: anywhere in the title ("is a big deal", "experts say", "что означает");
  * patterns: regular expressions over the normalised title ("what … means");
  * URL path segments (/opinion/, /analysis/, /blogs/ …) and the feed's tier (a think tank
    publishes analysis).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from watcher.judge.events import headline
from watcher.text import normalise, normalised_words, unspaced

NEWS, OPINION, ANALYSIS = "news", "opinion", "analysis"


@dataclass(frozen=True)
class Genre:
    """What kind of piece a report is, and the cue that said so (shown by `watcher explain`)."""

    kind: str = NEWS                  # news | opinion | analysis
    cue: str = ""

    @property
    def is_news(self) -> bool:
        return self.kind == NEWS

    def label(self) -> str:
        """'opinion (title “Opinion:”)' or 'news'."""
        return f"{self.kind} ({self.cue})" if self.cue else self.kind


@dataclass(frozen=True)
class Cues:
    """One language's cues: each maps a normalised word or phrase to opinion or analysis."""

    labels: dict[str, str] = field(default_factory=dict)
    starts: dict[str, str] = field(default_factory=dict)
    phrases: dict[str, str] = field(default_factory=dict)
    patterns: dict[str, str] = field(default_factory=dict)


def _of(kind: str, *terms: str) -> dict[str, str]:
    return dict.fromkeys(terms, kind)


CUES: dict[str, Cues] = {
    "en": Cues(
        labels={**_of(OPINION, "opinion", "opinions", "op ed", "oped", "editorial", "column",
                      "commentary", "comment", "viewpoint", "perspective", "view", "letter",
                      "letters", "guest essay", "essay", "blog"),
                **_of(ANALYSIS, "analysis", "news analysis", "explainer", "explained", "factbox",
                      "fact box", "q a", "interview", "podcast", "insight", "backgrounder")},
        starts={**_of(ANALYSIS, "why", "how", "what", "will", "could", "should", "can", "is",
                      "are", "does", "do")},
        phrases={**_of(OPINION, "op ed", "in my view"),
                 **_of(ANALYSIS, "is a big deal", "actually is", "is actually", "a bigger deal",
                       "isn t a big deal", "here s why", "here is why", "here s what",
                       "here is what", "what to know", "what we know", "what it means",
                       "the case for", "the case against", "lessons from", "expert calls",
                       "experts call", "expert says", "experts say", "analysts say",
                       "analyst says", "explained", "what s next", "what next for")},
        patterns={r"\bwhat\b.{0,80}\bmeans?\b": ANALYSIS, r"\?\s*$": ANALYSIS}),
    "ru": Cues(
        labels={**_of(OPINION, "мнение", "колонка", "комментарий", "точка зрения", "блог",
                      "авторская колонка"),
                **_of(ANALYSIS, "анализ", "аналитика", "интервью", "разбор", "объясняем")},
        starts={**_of(ANALYSIS, "почему", "зачем", "как", "что", "чем", "станет", "сможет")},
        phrases={**_of(ANALYSIS, "что означает", "что значит", "эксперт", "эксперты",
                       "экспертное мнение", "аналитик", "аналитики", "политолог")}),
    "kk": Cues(
        labels={**_of(OPINION, "пікір", "көзқарас"), **_of(ANALYSIS, "талдау", "сұхбат")},
        starts={**_of(ANALYSIS, "неге", "неліктен", "қалай")},
        phrases={**_of(ANALYSIS, "сарапшы", "сарапшылар", "саясаттанушы")}),
    "ar": Cues(
        labels={**_of(OPINION, "راي", "مقال", "مقال راي", "وجهة نظر"),
                **_of(ANALYSIS, "تحليل", "قراءة", "مقابلة")},
        starts={**_of(ANALYSIS, "لماذا", "كيف", "هل", "ماذا")},
        phrases={**_of(ANALYSIS, "ماذا يعني", "قراءة في", "خبير", "خبراء", "محللون", "محلل")}),
    "he": Cues(
        labels={**_of(OPINION, "דעה", "טור", "טור דעה", "מאמר"),
                **_of(ANALYSIS, "ניתוח", "פרשנות", "ראיון")},
        starts={**_of(ANALYSIS, "למה", "מדוע", "איך", "האם")},
        phrases={**_of(ANALYSIS, "מה זה אומר", "מומחה", "מומחים", "פרשן")}),
    # The region's other languages (issue 13). Experts are a label ("Uzmanlar: …") or an
    # attribution ("according to experts"), never the bare word: "Israeli experts arrive" is news.
    "tr": Cues(
        labels={**_of(OPINION, "görüş", "yorum", "köşe yazısı", "başyazı", "makale"),
                **_of(ANALYSIS, "analiz", "röportaj", "söyleşi", "değerlendirme", "uzmanlar",
                      "uzman")},
        starts={**_of(ANALYSIS, "neden", "niçin", "nasıl")},
        phrases={**_of(ANALYSIS, "ne anlama geliyor", "uzmanlara göre", "analistlere göre")}),
    "az": Cues(
        labels={**_of(OPINION, "rəy", "şərh", "köşə"),
                **_of(ANALYSIS, "təhlil", "analiz", "müsahibə", "ekspertlər", "ekspert")},
        starts={**_of(ANALYSIS, "niyə")},
        phrases={**_of(ANALYSIS, "nə deməkdir", "ekspertlərin fikrincə", "nə üçün")}),
    "uz": Cues(
        labels={**_of(OPINION, "fikr", "nuqtai nazar", "фикр"),
                **_of(ANALYSIS, "tahlil", "intervyu", "sharh", "ekspertlar", "таҳлил",
                      "интервью", "шарҳ", "экспертлар")},
        starts={**_of(ANALYSIS, "nega", "нега")},
        phrases={**_of(ANALYSIS, "nima uchun", "нима учун", "ekspertlar fikricha",
                       "nimani anglatadi")}),
    "fa": Cues(
        labels={**_of(OPINION, "یادداشت", "دیدگاه", "سرمقاله"),
                **_of(ANALYSIS, "تحلیل", "گفتگو", "مصاحبه", "کارشناسان")},
        starts={**_of(ANALYSIS, "چرا", "آیا")},
        phrases={**_of(ANALYSIS, "به گفته کارشناسان", "چه معنایی دارد", "تحلیلگران")}),
    "zh": Cues(
        labels={**_of(OPINION, "评论", "社论", "观点", "时评", "社评", "評論", "社論", "觀點"),
                **_of(ANALYSIS, "分析", "专访", "解读", "访谈", "深度", "專訪", "解讀")},
        phrases={**_of(ANALYSIS, "为什么", "為什麼", "专家称", "专家认为", "专家表示",
                       "分析人士", "意味着什么", "意味著什麼")}),
    "es": Cues(
        labels={**_of(OPINION, "opinión", "editorial", "columna", "tribuna"),
                **_of(ANALYSIS, "análisis", "entrevista", "claves", "expertos")},
        phrases={**_of(ANALYSIS, "por qué", "qué significa", "según expertos",
                       "según los expertos", "según analistas")}),
}


def _normalised(cues: Cues) -> Cues:
    """The cues as the title is compared: normalised words (Persian ی and ک as the matcher
    folds them; a Chinese character is a word, so 评论 is "评 论")."""
    def keys(table: dict[str, str]) -> dict[str, str]:
        return {" ".join(normalised_words(normalise(k))): v for k, v in table.items()}
    return Cues(keys(cues.labels), keys(cues.starts), keys(cues.phrases), cues.patterns)


CUES = {lang: _normalised(cues) for lang, cues in CUES.items()}

# URL path segments of opinion and analysis sections, any language.
URL_SEGMENTS: dict[str, str] = {
    **_of(OPINION, "opinion", "opinions", "op-ed", "op-eds", "oped", "columns", "column",
          "columnists", "editorial", "editorials", "commentary", "comment", "views", "blog",
          "blogs", "letters", "commentisfree", "mnenie", "mneniya", "kolonka", "kolonki", "pikir"),
    **_of(ANALYSIS, "analysis", "analyses", "analytics", "analitika", "explainer", "explainers",
          "explained", "perspective", "perspectives", "insight", "insights", "interview",
          "interviews", "podcast", "podcasts"),
    # the region's sites (issue 13): Turkish, Azerbaijani, Uzbek, Persian, Chinese, Spanish
    **_of(OPINION, "gorus", "yorum", "yazarlar", "kose-yazilari", "fikr", "yaddasht", "pinglun",
          "guandian", "columnas", "tribuna"),
    **_of(ANALYSIS, "analiz", "tehlil", "tahlil", "musahibe", "roportaj", "tahlil-va-nazar",
          "fenxi", "jiedu", "analisis", "entrevistas"),
}
# Feeds whose every piece is analysis.
TIERS: dict[str, str] = {"thinktank": ANALYSIS}

_SEPARATORS = re.compile(r"\s*[:|：｜]\s*|\s+[-–—]\s+")      # fullwidth ：｜ in Chinese
_LEADING_LABEL = re.compile(r"^\s*([^\W\d_][\w' -]{0,24}?)\s*[-–—:|：｜]\s*(?=\w)")


def genre_of(title: str, url: str = "", tier: str = "") -> Genre:
    """The genre of a report: the first cue found in its title, URL path, then feed tier."""
    return _title_genre(title) or _url_genre(url) or _tier_genre(tier) or Genre()


@functools.lru_cache(maxsize=1 << 14)
def _title_genre(title: str) -> Genre | None:
    parts = [p for p in _SEPARATORS.split(title) if p.strip()]
    lead = _LEADING_LABEL.match(title)
    short = (parts if len(parts) > 1 else []) + ([lead.group(1)] if lead else [])
    labels = {label for p in short
              if len((label := " ".join(normalised_words(normalise(p)))).split()) <= 3}
    norm = normalise(headline(title)).strip()
    ws = normalised_words(norm)
    text = f" {' '.join(ws)} "
    for cues in CUES.values():
        found = (_first(cues.labels, labels, "title label “{}”")
                 or _first(cues.starts, set(ws[:1]), "title opens “{}”")
                 or _phrase(cues.phrases, text)
                 or _pattern(cues.patterns, norm))
        if found:
            return found
    return None


def _first(table: dict[str, str], candidates: set[str], cue: str) -> Genre | None:
    for c in sorted(candidates):
        if c in table:
            return Genre(table[c], cue.format(_shown(c)))
    return None


def _phrase(table: dict[str, str], text: str) -> Genre | None:
    for phrase, kind in table.items():
        if f" {phrase} " in text:
            return Genre(kind, f"title says “{_shown(phrase)}”")
    return None


def _shown(key: str) -> str:
    """A cue as written: Chinese characters without the spaces the comparison puts between."""
    return "".join(key.split()) if all(unspaced(w) for w in key.split()) else key


def _pattern(table: dict[str, str], norm: str) -> Genre | None:
    for pattern, kind in table.items():
        if re.search(pattern, norm):
            return Genre(kind, f"title form /{pattern}/")
    return None


def _url_genre(url: str) -> Genre | None:
    segments = [s.lower() for s in urlsplit(url).path.split("/")[:-1] if s]
    for s in segments:
        if s in URL_SEGMENTS:
            return Genre(URL_SEGMENTS[s], f"URL section /{s}/")
    return None


def _tier_genre(tier: str) -> Genre | None:
    return Genre(TIERS[tier], f"{tier} feed") if tier in TIERS else None
