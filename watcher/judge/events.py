"""Matched items → events: reports of the same happening grouped, sources counted.

Pure: the same matched items always give the same events, so history can be replayed.

Two reports of one indicator are the same happening when they are close in time and say the
same thing: their titles share most salient words (inflection-tolerant), or — across languages
— their names agree once transliterated (Азербайджан ~ Azerbaijan, Израиль ~ Israel) or they
name the same aligned concepts (the named term sets their headlines hold: UN, SECURITY_COUNCIL,
RESOLUTION, PALESTINE …; a distinctive number such as a resolution's, and the same dated day,
count as shared too) within a shorter window: the same UN resolution reported in English,
Russian, Hebrew, Arabic and Chinese is one corroborated event (issue 12). Two reports that date
their happenings to different days, or carry distinctive numbers none of which they share, are
different happenings however alike. One outlet does not report one happening twice, so a
second story from the same publisher joins an event only if it is a near-copy of the first.

Corroboration counts independent sources: publishers, with copies of one text counted once
(a syndicated wire story on ten sites is one report, not ten).
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise

from watcher.judge.happening import happened_on
from watcher.judge.publisher import domain_of, same_publisher
from watcher.models import Certainty, Event, MatchedItem
from watcher.text import unspaced, words

WINDOW = timedelta(days=4)
CROSS_WINDOW = timedelta(days=2)   # concept-only alignment (e.g. Arabic ~ English) is weaker
CONCEPTS = 0.8                     # share of the smaller headline's concepts the other must hit
SIMILAR = 0.5                      # share of the shorter title's salient words
MIN_SHARED = 2
DUPLICATE = 0.7                    # title overlap (Jaccard) of a rewrite of the same story
SAME_TEXT = 0.6                    # summary overlap (Jaccard) of a syndicated copy
_STOP = frozenset(["the", "a", "an", "of", "to", "in", "on", "for", "and", "with", "at", "by",
                   "from", "as", "is", "are", "was", "be", "will", "its", "it", "that", "this",
                   "after", "over", "says", "said", "new", "и", "в", "во", "на", "с", "по", "к",
                   "о", "от", "для", "из", "за", "что", "как"])
_LATIN = str.maketrans({"w": "v", "b": "v", "c": "k", "q": "k", "z": "s", "x": "ks", "j": "ds"})
_CYRILLIC = dict(zip("абвгдежзийклмнопрстуфхцчшщъыьэюяәғқңөұүһі",
                     ["a", "b", "v", "g", "d", "e", "zh", "z", "i", "i", "k", "l", "m", "n",
                      "o", "p", "r", "s", "t", "u", "f", "kh", "ts", "ch", "sh", "sh", "_", "y",
                      "_", "e", "yu", "ya", "a", "g", "k", "n", "o", "u", "u", "h", "i"]))
_VOWELS = frozenset("aeiouyh_")


def host_of(url: str) -> str:
    """Publisher key of a link: its registrable domain under the Public Suffix List
    (news.bbc.co.uk → bbc.co.uk; mofa.go.jp and meti.go.jp stay two publishers)."""
    return domain_of(url)


def headline(title: str) -> str:
    """The title without a trailing publisher name ("… - Reuters", "… | Astana Times"), which
    aggregators and sites append and which says nothing about what happened."""
    for sep in (" - ", " – ", " — ", " | "):
        head, found, tail = title.rpartition(sep)
        if found and head and len(tail.split()) <= 5:
            return head
    return title


def salient(title: str) -> frozenset[str]:
    """Words that say what happened: long enough, not stop words; in Chinese and Japanese,
    whose words are characters to the matcher, pairs of neighbouring characters."""
    ws = words(headline(title))
    pairs = {a + b for a, b in pairwise(ws) if unspaced(a) and unspaced(b)}
    return frozenset(w for w in ws if len(w) > 2 and w not in _STOP) | pairs


@functools.lru_cache(maxsize=1 << 16)
def skeleton(word: str) -> str:
    """A script-neutral consonant skeleton: Азербайджан and Azerbaijan both give "srvdsn",
    Авраама and Abraham "vrm" (b and v are one letter here, as transliteration often makes them)."""
    latin = "".join(_CYRILLIC.get(ch, ch) for ch in word)
    return "".join(ch for ch in latin.translate(_LATIN) if ch.isascii() and ch not in _VOWELS)


def script_of(title: str) -> str:
    """The dominant script of a title's letters (LATIN, CYRILLIC, ARABIC, HEBREW, ...)."""
    if title.isascii():                    # every ASCII letter is LATIN
        return "LATIN" if any(ch.isalpha() for ch in title) else "OTHER"
    counts: dict[str, int] = {}
    for ch in title:
        if ch.isalpha():
            name = _script(ch)
            counts[name] = counts.get(name, 0) + 1
    return max(counts, key=lambda k: counts[k], default="OTHER")


@functools.lru_cache(maxsize=4096)
def _script(ch: str) -> str:
    return unicodedata.name(ch, "OTHER").split()[0]


def _alike(a: str, b: str) -> bool:
    """Same word up to inflection: a common prefix of ≥ 4 letters, all but 3 of the shorter."""
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n >= max(4, min(len(a), len(b)) - 3) or a == b


@functools.lru_cache(maxsize=1 << 16)
def _shared(a: frozenset[str], b: frozenset[str]) -> tuple[int, int, int]:
    """How many of the smaller set's words the larger one has, up to inflection.

    Only words with the same first four letters can be alike (_alike wants a common prefix
    of four or more), so each word is compared with those alone; and the same pairs of titles
    come again and again (syndicated copies, an event's reports compared with each new one),
    so the answer is remembered. Profile, issue 17: _alike was called 800,000 times for a
    month's 1,300 matches, half of `watcher status`."""
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    heads = _heads(large)
    shared = sum(1 for w in small if w in large or any(_alike(w, v) for v in heads.get(w[:4], ())))
    return shared, len(small), len(large)


@functools.lru_cache(maxsize=1 << 14)
def _heads(ws: frozenset[str]) -> dict[str, list[str]]:
    """The words of at least four letters, by their first four."""
    out: dict[str, list[str]] = {}
    for w in ws:
        if len(w) >= 4:
            out.setdefault(w[:4], []).append(w)
    return out


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Overlap coefficient over inflection-tolerant word matches: a short headline inside a
    longer one still counts as the same."""
    shared, small, _ = _shared(a, b)
    return shared / small if shared >= MIN_SHARED else 0.0


def near_copy(a: frozenset[str], b: frozenset[str]) -> bool:
    """Nearly the same words both ways (Jaccard): a rewrite of one story, not a new one."""
    shared, small, large = _shared(a, b)
    return shared >= MIN_SHARED and shared / (small + large - shared) >= DUPLICATE


@dataclass(frozen=True)
class Concepts:
    """What a report's terms and headline stand for across languages (from the matcher and the
    config's `grouping`): `of_term` maps a rule term to its named set, `in_title` gives the named
    sets a headline holds; `topics` and `actors`, when given, are the sets compared."""

    of_term: Callable[[str], str]
    in_title: Callable[[str], frozenset[str]] | None = None
    topics: frozenset[str] = frozenset()
    actors: frozenset[str] = frozenset()

    def of(self, m: MatchedItem) -> tuple[frozenset[str], frozenset[str]]:
        """The report's concepts and, of them, its actors."""
        hits = [h for h in m.match.hits if h.field == "title"] or list(m.match.hits)
        found = frozenset(self.of_term(h.term) for h in hits)
        found |= self.in_title(m.title) if self.in_title else frozenset()
        if self.topics or self.actors:
            found &= self.topics | self.actors
        return found, found & self.actors


@dataclass(frozen=True)
class Signature:
    """What a report says, in forms that can be compared within and across languages."""

    words: frozenset[str]
    names: frozenset[str]
    concepts: frozenset[str]
    script: str
    numbers: frozenset[str] = frozenset()     # distinctive figures: 2803, 150, 787 (not years)
    day: date | None = None                   # the day the report dates its happening to
    actors: frozenset[str] = frozenset()      # who acted, as concepts (KZ, OTHER_STATES …)

    @classmethod
    def of(cls, m: MatchedItem, concepts: Concepts) -> Signature:
        ws = salient(m.title)
        names = frozenset(s for w in ws if len(w) > 3 and len(s := skeleton(w)) >= 3)
        # what the headline says, in concepts; the summary's only when the title has no hit
        said, actors = concepts.of(m)
        numbers = frozenset(w for w in words(headline(m.title)) if _distinctive(w))
        return cls(ws, names, said, script_of(m.title), numbers,
                   happened_on(m.title, m.summary, m.published), actors)


def _distinctive(word: str) -> bool:
    """A figure that tells one happening from another: three digits or more, not a year."""
    return word.isdigit() and len(word) >= 3 and not (len(word) == 4 and 1900 <= int(word) <= 2100)


def same_happening(a: MatchedItem, sa: Signature, b: MatchedItem, sb: Signature) -> float:
    """How surely two reports of one indicator are about one happening (0 = not at all)."""
    gap = abs(a.published - b.published)
    if gap > WINDOW or _apart(sa, sb):
        return 0.0
    score = similarity(sa.words, sb.words)
    if same_publisher(a.host, b.host):   # one outlet, two stories: only a near-copy is the same one
        return score if near_copy(sa.words, sb.words) else 0.0
    if sa.script != sb.script:
        score = max(score, similarity(sa.names, sb.names))
    if gap <= CROSS_WINDOW and _aligned(sa, sb):
        score = max(score, SIMILAR)
    return score if score >= SIMILAR else 0.0


def _apart(sa: Signature, sb: Signature) -> bool:
    """Two happenings for sure: dated to days apart, each with figures the other lacks, or each
    naming actors the other does not ("Kazakhstan sends medics" and "Indonesia sends troops")."""
    if sa.day is not None and sb.day is not None and abs(sa.day - sb.day) > timedelta(days=1):
        return True
    if sa.actors and sb.actors and not sa.actors & sb.actors:
        return True
    return bool(sa.numbers and sb.numbers and not sa.numbers & sb.numbers)


def _aligned(sa: Signature, sb: Signature) -> bool:
    """The headlines name (nearly) the same concepts, in whatever language: at least two shared,
    and most of the sparer headline's (a shared figure and the same dated day count too)."""
    shared = len(sa.concepts & sb.concepts) + len(sa.numbers & sb.numbers)
    shared += sa.day is not None and sa.day == sb.day
    fewest = min(len(sa.concepts) + len(sa.numbers), len(sb.concepts) + len(sb.numbers))
    return shared >= 2 and shared >= CONCEPTS * fewest


# The reports of one event being built, each with its signature.
_Group = list[tuple[MatchedItem, Signature]]


def cluster(matched: list[MatchedItem],
            concept: Concepts | Callable[[str], str] | None = None) -> list[Event]:
    """Group each indicator's items into events: close in time and saying the same thing.

    `concept`: what terms and headlines stand for in any language (Matcher.concept_map()), or just
    a rule term → its named set; without it each term is its own concept."""
    concepts = (concept if isinstance(concept, Concepts)
                else Concepts(concept or (lambda term: term)))
    groups: list[_Group] = []
    open_: dict[tuple[str, bool], list[_Group]] = {}
    # Ties in time (pages print dates without a time: many items at 00:00) are broken by what
    # the item is, not by its row id, which follows the order concurrent feeds were stored in.
    for m in sorted(matched, key=lambda m: (m.published, m.feed_id, m.url, m.title, m.item_id)):
        sig = Signature.of(m, concepts)
        # A denial ("X will not join") never joins a report that it happened, however alike.
        key = (m.match.indicator, m.match.certainty is Certainty.DENIED)
        best, best_score = None, 0.0
        live = open_[key] = _still_open(open_.get(key, []), m)
        for group in live:
            if _outlet_has_other_story(group, m, sig):
                continue
            score = max(same_happening(m, sig, other, s) for other, s in group)
            if score > best_score:
                best, best_score = group, score
        if best is not None:
            best.append((m, sig))
            continue
        groups.append([(m, sig)])
        open_.setdefault(key, []).append(groups[-1])
    return [_event([m for m, _ in group]) for group in groups]


def _still_open(groups: list[_Group], m: MatchedItem) -> list[_Group]:
    """The groups `m` may join. Items come in date order, so a group's last item is its
    latest: once that is more than WINDOW before `m`, no item of the group can be the same
    happening (same_happening says 0), and the group is closed for good. Without this every
    item was compared with every group since the start: quadratic in a year (issue 17)."""
    return [g for g in groups if m.published - g[-1][0].published <= WINDOW]


def _event(items: list[MatchedItem]) -> Event:
    return Event(items[0].match.indicator, items, independent=independent_sources(items))


def _outlet_has_other_story(group: _Group, m: MatchedItem, sig: Signature) -> bool:
    return any(same_publisher(other.host, m.host) and not near_copy(s.words, sig.words)
               for other, s in group)


def independent_sources(items: list[MatchedItem]) -> int:
    """Publishers that reported independently: items are one source when they share a host or
    carry the same text (a syndicated copy), counted as connected groups."""
    parent = list(range(len(items)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    texts = [(tuple(words(headline(m.title))), frozenset(words(m.summary))) for m in items]
    for i in range(len(items)):
        for j in range(i):
            if root(i) == root(j):         # joined already: nothing to learn (issue 17)
                continue
            if same_publisher(items[i].host, items[j].host) or _copies(texts[i], texts[j]):
                parent[root(i)] = root(j)
    return len({root(i) for i in range(len(items))})


# A report's text as compared for copies: its headline's words, its summary's word set.
_Text = tuple[tuple[str, ...], frozenset[str]]


def _copies(a: _Text, b: _Text) -> bool:
    """Near-exact duplicates: the same title (and, when both have one, much the same summary)."""
    if a[0] != b[0]:
        return False
    if not a[1] or not b[1]:
        return True
    return len(a[1] & b[1]) / len(a[1] | b[1]) >= SAME_TEXT
