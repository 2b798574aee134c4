"""Helpers of the certainty cues (watcher.judge.match): cue lookup by word sequence, cues
that overlap or cover each other, and the headline's short tails that speak of its claim
("Azerbaijan's accession to the Accords: a matter of weeks", issue 12 class 10). Pure."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Collection, Mapping

from watcher.judge.terms import Found, Parts, Term, Text

# A headline's clause this short, naming no term of the rule nor of a named set (no state, no
# actor: "Uzbekistan could follow" names one), speaks of the claim beside it ("Azerbaijan's
# accession to the Accords: a matter of weeks", "… – עניין של חודשים").
TAIL_WORDS = 4
# ... after a colon or a spaced dash: a new sentence ("… . Saudi Arabia may follow") is not a tail
ATTACHED = re.compile(r":|\s[-–—]\s")


def bare_tails(clauses: list[int], hit: Collection[int]) -> set[int]:
    """The headline's short clauses not in `hit` (class 10 of issue 12): "…: a matter of weeks"
    says when the claim beside it will happen. An outlet's name ("… - Reuters") has no cue."""
    return {c for c, n in Counter(clauses).items() if c not in hit and n <= TAIL_WORDS}


def by_parts(cues: list[Term]) -> dict[Parts, list[tuple[int, Term]]]:
    out: dict[Parts, list[tuple[int, Term]]] = defaultdict(list)
    for n, c in enumerate(cues):
        out[c.parts].append((n, c))
    return dict(out)


def overlap(a: Term, at: int, b: Term, p: int) -> bool:
    """Two cues share a word ("votes to" and "to ratify" in "votes to ratify")."""
    return at < p + len(b.parts) and p < at + len(a.parts)


def covers(outer: Term, at: int, inner: Term, p: int) -> bool:
    """A longer cue at word `at` spans the words of a shorter one at word `p`."""
    return (len(outer.parts) > len(inner.parts) and at <= p
            and p + len(inner.parts) <= at + len(outer.parts))


def tails(headline: set[int], hit: Collection[int], found: Found, text: Text,
          acts: Mapping[Parts, object], named_parts: Collection[Parts]) -> set[int]:
    """The headline's short clauses that speak of its claim ("…: a matter of weeks"), unless
    the claim's clauses report an act done (`acts`: "X signs deal – more could follow")."""
    at = {(parts, text.clauses["title"][p]) for parts, by_field in found.items()
          for p in by_field.get("title", ())}
    if any(parts in acts and c in headline for parts, c in at):
        return set()
    named = {c for parts, c in at if parts in named_parts}
    ws = text.clauses["title"]
    return {c for c in bare_tails(ws, set(hit) | named)
            if ATTACHED.search(text.gaps["title"][ws.index(c)])}
