"""Events as the digest lists them: one entry per happening, whatever indicators it matched.
Pure.

The matcher builds one event per indicator, so a story that two indicators matched ("Azerbaijan
agrees to join the Accords" is new_signatory and central_asia_c5) would be listed twice with two
scores. Events that share a report are one happening: listed once, with all its indicators, under
the judgement that says most (the one that counts, else a candidate, else the strongest).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from watcher.config import Config
from watcher.ingest.markup import strip_html
from watcher.models import CriterionVerdict, Event, Judgement
from watcher.text import truncate

_SENTENCE_END = re.compile(r"(?<=[.!?。])\s+")
_READ_MORE = re.compile(r"\s*(?:read more|continue reading|подробнее|толығырақ)\W*$",
                        re.IGNORECASE)
# Scripts that name a language well enough for a mark; feeds that declare `lang:` say it better.
_SCRIPTS = (("ru", re.compile(r"[\u0400-\u04ff]")), ("he", re.compile(r"[\u0590-\u05ff]")),
            ("ar", re.compile(r"[\u0600-\u06ff]")), ("zh", re.compile(r"[\u4e00-\u9fff]")))
SNIPPET_CHARS = 220


def group(events: Sequence[Event]) -> list[list[Event]]:
    """Events that share a report, transitively, as one happening (input order kept inside)."""
    owner: dict[int, int] = {}         # item id → group index
    groups: list[list[Event]] = []
    for e in events:
        hits = sorted({owner[m.item_id] for m in e.items if m.item_id in owner})
        if not hits:
            groups.append([e])
            target = len(groups) - 1
        else:
            target = hits[0]
            groups[target].append(e)
            for other in reversed(hits[1:]):          # a late report joined two happenings
                groups[target].extend(groups[other])
                groups[other] = []
        for member in groups[target]:
            for m in member.items:
                owner[m.item_id] = target
    return [g for g in groups if g]


def lead_event(members: list[Event], verdict: CriterionVerdict) -> Event:
    """The event whose judgement the entry shows: one that counts, else a candidate, else the
    strongest (the newest on equal scores)."""
    def rank(e: Event) -> tuple[bool, bool, float, datetime]:
        j = verdict.judgement(e)
        return (j is not None and j.counts, j is not None and j.candidate, e.score, e.first_seen)
    return max(members, key=rank)


def order_key(e: Event, j: Judgement | None) -> tuple[bool, bool, float, float]:
    """Counting first, then candidates, then strongest; the newest first on equal scores."""
    return (not (j is not None and j.counts), not (j is not None and j.candidate), -e.score,
            -e.first_seen.timestamp())


def strength(score: float, threshold: float) -> str:
    """The score in words against the criterion's threshold: strong (three times it),
    moderate (at it) or weak (below: it cannot count)."""
    if score >= 3 * threshold:
        return "strong"
    return "moderate" if score >= threshold else "weak"


def snippet(title: str, summary: str) -> str:
    """The lead report's first one or two sentences, when its summary says more than its title
    (an aggregator's summary is often the title again, with the outlet's name)."""
    text = _READ_MORE.sub("", " ".join(strip_html(summary).split()))
    if not text or text.casefold().startswith(title.casefold()[:40]):
        return ""
    sentences = _SENTENCE_END.split(text)
    out = sentences[0]
    if len(sentences) > 1 and len(out) + len(sentences[1]) < SNIPPET_CHARS:
        out = f"{out} {sentences[1]}"
    return truncate(out, SNIPPET_CHARS)


def language(title: str, feed_id: str, config: Config) -> str | None:
    """The title's language when it is not English: the feed's declared `lang`, else the
    script's usual language; None for English (or unknown Latin-script) titles."""
    declared = next((f.lang for f in config.feeds if f.id == feed_id), None)
    if declared:
        return None if declared.lower().startswith("en") else declared.lower()
    return next((code for code, script in _SCRIPTS if script.search(title)), None)
