"""Who published a report: its registrable domain and its name. Pure.

Corroboration counts independent publishers, so the publisher must be the same whichever way a
report reaches us: through its own feed (the item's link), through an aggregator that names it
(Google News's `<source url>`), or only by the name an aggregator appends to the headline
("… - The Astana Times"). Hosts are reduced with the Public Suffix List (the `publicsuffixlist`
package's bundled copy, never fetched): mofa.go.jp and meti.go.jp are two publishers, because
go.jp is a suffix under which each ministry registers; edition.cnn.com and cnn.com are one.

The name appended to a headline is the publisher's, not news: it is cut off before matching
("astana" in "- The Astana Times" is no evidence about Astana) and kept as the publisher.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections import Counter
from collections.abc import Iterable
from urllib.parse import parse_qs, urlsplit

from publicsuffixlist import PublicSuffixList

from watcher.text import normalise, words

# The separators sites and aggregators put before their name, and how surely each does.
# " - " (Google News) and " | " are a site's name when the tail reads like a name; an en dash
# only in Latin script (Kazakh and Russian write "X – Y" for "X is Y"); an em dash is how Russian
# attributes a claim ("… — Трамп", "… — источники"), so only a known name is cut after it.
_NAME_SEPARATORS = (" - ", " | ", " – ", " — ", " · ")
_LATIN_ONLY = " – "
_KNOWN_ONLY = " — "
MAX_NAME_WORDS = 5
UNCASED_NAME_WORDS = 3      # a name in a script without capitals: shorter, to be safe
# Section labels sites append as they append their name: they say what kind of piece it is
# (the genre), so they stay in the headline.
_SECTIONS = frozenset(normalise(w) for w in [
    # English
    "opinion", "opinions", "analysis", "commentary", "comment", "editorial", "column",
    "columns", "interview", "explainer", "explained", "factbox", "backgrounder", "insight",
    "viewpoint", "perspective", "essay", "letter", "letters", "blog", "podcast", "video",
    "photos", "live", "review", "op-ed", "oped", "q&a",
    # Russian, Kazakh, Uzbek
    "мнение", "аналитика", "анализ", "разбор", "колонка", "интервью", "комментарий", "видео",
    "блог", "пікір", "көзқарас", "талдау", "сұхбат", "tahlil", "intervyu", "fikr", "sharh",
    # Turkish, Azerbaijani
    "görüş", "analiz", "röportaj", "yorum", "köşe", "rəy", "təhlil", "müsahibə", "şərh",
    # Arabic, Persian, Hebrew
    "رأي", "مقال", "تحليل", "مقابلة", "حوار", "تحلیل", "یادداشت", "گفتگو", "مصاحبه",
    "دیدگاه", "דעה", "טור", "ניתוח", "פרשנות", "ראיון",
    # Chinese (one label a tail)
    "评论", "社论", "分析", "专访", "观点", "解读", "访谈"])
_CONNECTORS = frozenset(["of", "the", "and", "de", "la", "le", "el", "al", "du", "des", "da",
                         "di", "van", "von", "für", "und", "y", "e", "et", "&", "on"])
_DOMAIN_LIKE = re.compile(r"[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}", re.UNICODE)
_COMPACT = re.compile(r"[\W_]+", re.UNICODE)


@functools.cache
def _psl() -> PublicSuffixList:
    """The bundled Public Suffix List, read once (~0.2 s) on first use."""
    return PublicSuffixList()


def load_suffix_list() -> None:
    """Read the bundled list now: a writing process does it on opening, so its first poll does
    not spend the ~0.1–0.2 s inside the write transaction that stores the items (keys are
    computed there), holding SQLite's lock while another process waits."""
    _psl()


def domain_of(url_or_host: str) -> str:
    """The registrable domain of a URL or host: news.bbc.co.uk → bbc.co.uk, mofa.go.jp stays,
    an IP address or a single label (localhost) stays as it is; "" when there is no host."""
    text = url_or_host.strip()
    try:
        host = (urlsplit(text).hostname or "") if "://" in text else text.split("/", 1)[0]
    except ValueError:
        return ""
    host = host.lower().rstrip(".").removeprefix("www.")
    if not host or "." not in host or _is_ip(host):
        return host
    if "xn--" in host:
        host = _unicode_host(host)
    return _psl().privatesuffix(host) or host


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _unicode_host(host: str) -> str:
    """xn--80ak6aa92e.com → its Unicode form, so both spellings of a domain are one publisher."""
    try:
        return host.encode("ascii").decode("idna")
    except UnicodeError:
        return host


def domain_in(name: str) -> str | None:
    """The registrable domain a publisher's name spells ("Israel.cm", "Kazinform.kz",
    "Газета.Ru"), if it does: only a known public suffix makes a name a domain ("U.S" does not)."""
    found = _DOMAIN_LIKE.search(name.lower())
    if found is None or _is_ip(found.group()):
        return None
    return _psl().privatesuffix(found.group(), accept_unknown=False)


def compact(name: str) -> str:
    """A name reduced for comparison: "The Astana Times" → "astanatimes" (the article, case,
    spaces and punctuation dropped)."""
    squeezed = _COMPACT.sub(" ", name.casefold()).split()
    if len(squeezed) > 1 and squeezed[0] == "the":
        squeezed = squeezed[1:]
    return "".join(squeezed)


def split_title(title: str, names: Iterable[str] = ()) -> tuple[str, str | None]:
    """The headline and the publisher's name appended to it, or (title, None).

    `names` are the publisher names already known for the item (the aggregator's source, a
    suffix the feed repeats on every item): after any separator, a known name is cut. Without
    one, the tail is cut only when it reads as a name: a domain ("Israel.cm"), or a short run
    of capitalised words after " - " or " | " (" - The Astana Times", " | Kazinform"), or after
    an en dash in Latin script (" – Reuters")."""
    known = {compact(n) for n in names if n and compact(n)}
    for sep in _NAME_SEPARATORS:
        head, found, tail = title.rpartition(sep)
        head, tail = head.rstrip(), tail.strip()
        if not found or not head or not tail:
            continue
        if compact(tail) in known or _reads_as_name(tail, sep):
            return head, tail
    return title, None


def without_publisher(title: str, *names: object) -> str:
    """The headline alone (see split_title); names that are not strings are ignored, so a
    JSON line's `publisher` field can be passed as it is."""
    return split_title(title, [n for n in names if isinstance(n, str)])[0]


def _reads_as_name(tail: str, sep: str) -> bool:
    ws = tail.split()
    if len(ws) > MAX_NAME_WORDS or _is_section(tail):
        return False
    if domain_in(tail) is not None:
        return True
    if sep == _KNOWN_ONLY:
        return False
    if sep == _LATIN_ONLY and not all(ch.isascii() or not ch.isalpha() or _latin(ch)
                                      for ch in tail):
        return False
    cased = [w for w in ws if any(ch.isupper() or ch.islower() for ch in w)]
    if not cased:       # Arabic, Hebrew, Persian, Chinese: no capitals to tell a name by
        return sep != _LATIN_ONLY and len(ws) <= UNCASED_NAME_WORDS
    return _capitalised(cased)


def _is_section(tail: str) -> bool:
    """A section label (" | Opinion", " - تحليل", " — 评论"): the genre's cue, kept."""
    norm = normalise(tail)
    return norm.strip(" .:") in _SECTIONS or any(w in _SECTIONS for w in words(tail))


def _latin(ch: str) -> bool:
    return "\u00c0" <= ch <= "\u024f"


def _capitalised(ws: list[str]) -> bool:
    """Every word is written as a name: a capital first ("The Astana Times") or inside
    ("i24NEWS"); connectors like "of", "the" aside, but not first."""
    if ws[0].casefold() in _CONNECTORS and not ws[0][0].isupper():
        return False
    return all(w[0].isupper() or any(ch.isupper() for ch in w) or w.casefold() in _CONNECTORS
               for w in ws)


def site_suffix(titles: list[str]) -> str | None:
    """The name a site appends to every headline of its feed (" | Kazinform"), if one tail
    after a separator ends most of them (three at least): it is the site's, not news."""
    tails: Counter[str] = Counter()
    for title in titles:
        for sep in _NAME_SEPARATORS:
            head, found, tail = title.rpartition(sep)
            if found and head.strip() and 0 < len(tail.split()) <= MAX_NAME_WORDS \
                    and not _is_section(tail):
                tails[tail.strip()] += 1
                break
    if not tails:
        return None
    tail, n = tails.most_common(1)[0]
    return tail if n >= 3 and n * 2 >= len(titles) else None


def publisher_key(source: str | None, url: str) -> str:
    """The independent-source key of a report: the domain of the publisher an aggregator names
    (else its name, lower-cased), else the domain of the report's own link (or of the article
    an aggregator's redirect names)."""
    if source:
        if "://" in source or domain_in(source) is not None:
            key = domain_of(source) if "://" in source else domain_in(source) or ""
            if key:
                return key
        return " ".join(source.casefold().split())
    return domain_of(relayed_url(url) or url)


def relayed_url(url: str) -> str | None:
    """The publisher's article an aggregator's redirect link names outright (Bing News:
    bing.com/news/apiclick.aspx?…&url=…), else None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if not (parts.hostname or "").lower().endswith("bing.com") or \
            not parts.path.lower().endswith("/apiclick.aspx"):
        return None
    target = parse_qs(parts.query).get("url", [""])[0]
    return target if urlsplit(target).scheme in ("http", "https") else None


def same_publisher(a: str, b: str) -> bool:
    """Two publisher keys name one publisher: equal, or a name and the domain it spells
    ("the astana times" and astanatimes.com)."""
    if a == b:
        return True
    if _is_domain_key(a) == _is_domain_key(b):
        return False
    name, domain = (a, b) if _is_domain_key(b) else (b, a)
    return compact(name) == compact(domain.split(".", 1)[0])


def _is_domain_key(key: str) -> bool:
    return "." in key and " " not in key
