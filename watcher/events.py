"""Matched items → events: reports of the same happening grouped, sources counted.

Pure: the same matched items always give the same events, so history can be replayed.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from watcher.models import Certainty, Event, MatchedItem
from watcher.text import words

WINDOW = timedelta(days=4)
SIMILAR = 0.5           # share of the shorter title's salient words
MIN_SHARED = 2
_SHORT_SUFFIXES = {"co", "com", "org", "net", "gov", "ac", "edu"}
_STOP = frozenset("""the a an of to in on for and with at by from as is are was be will its it
that this after over says said new и в во на с по к о от для из за что как the""".split())


def host_of(url: str) -> str:
    """Publisher key: the registrable part of a URL's host (news.bbc.co.uk → bbc.co.uk)."""
    host = (urlsplit(url).hostname or "").lower().removeprefix("www.")
    labels = host.split(".")
    if len(labels) >= 3 and labels[-2] in _SHORT_SUFFIXES and len(labels[-1]) == 2:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:]) if len(labels) >= 2 else host


def salient(title: str) -> frozenset[str]:
    """Words that say what happened: long enough, not stop words, truncated to a stem."""
    return frozenset(w[:6] for w in words(title) if len(w) > 2 and w not in _STOP)


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Overlap coefficient: a short headline inside a longer one still counts as the same."""
    shared = len(a & b)
    if shared < MIN_SHARED:
        return 0.0
    return shared / min(len(a), len(b))


def cluster(matched: list[MatchedItem]) -> list[Event]:
    """Group each indicator's items into events: close in time and alike in title."""
    events: list[Event] = []
    open_: dict[tuple[str, bool], list[tuple[Event, frozenset[str]]]] = {}
    for m in sorted(matched, key=lambda m: (m.published, m.item_id)):
        words_ = salient(m.title)
        # A denial ("X will not join") never joins a report that it happened, however alike.
        key = (m.match.indicator, m.match.certainty is Certainty.DENIED)
        candidates = [(ev, w) for ev, w in open_.get(key, [])
                      if m.published - max(i.published for i in ev.items) <= WINDOW]
        best = max(candidates, key=lambda c: similarity(words_, c[1]), default=None)
        if best is not None and similarity(words_, best[1]) >= SIMILAR:
            best[0].items.append(m)
            continue
        ev = Event(indicator=m.match.indicator, items=[m])
        events.append(ev)
        open_.setdefault(key, []).append((ev, words_))
    return events
