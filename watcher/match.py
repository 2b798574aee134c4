"""Rules → one compiled matcher for all indicators; item text → matches with evidence.

Pure: no I/O, no clock. Every term of every indicator is looked up in a single pass over
an item's words; each indicator's rule is then decided from that set of hits.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

from watcher.config import Config, Indicator, Rule
from watcher.models import Certainty, Hit, Match
from watcher.text import words

FIELDS = ("title", "summary")


@dataclass(frozen=True)
class Term:
    """A phrase as word patterns; a word ending in '*' matches any word it begins."""

    text: str
    parts: tuple[tuple[str, bool], ...]   # (word, is_prefix)


def compile_term(text: str) -> Term:
    """'Казахстан* signs' → Term with a prefix first word and an exact second word."""
    parts: list[tuple[str, bool]] = []
    for raw in text.split():
        prefix = raw.endswith("*")
        tokens = words(raw.rstrip("*"))
        for n, tok in enumerate(tokens):
            parts.append((tok, prefix and n == len(tokens) - 1))
    if not parts:
        raise ValueError(f"term {text!r} has no letters or digits")
    return Term(text, tuple(parts))


# positions[term_text][field] = word offsets where the term starts
Found = dict[str, dict[str, list[int]]]


class _TermIndex:
    """All terms, indexed by their first word (exact) or its prefix, for one pass per field.

    Almost no word of an item starts a term, so each distinct word is looked up once
    (memoised across items: the vocabulary of news is small) and only the positions of words
    that start some term are visited. Same result as visiting every position."""

    MEMO = 200_000        # distinct words remembered; cleared when full (bounded memory)

    def __init__(self, terms: list[Term]) -> None:
        self.exact: dict[str, list[Term]] = defaultdict(list)
        self.prefix: dict[str, list[Term]] = defaultdict(list)
        for term in {t.text: t for t in terms}.values():
            word, is_prefix = term.parts[0]
            (self.prefix if is_prefix else self.exact)[word].append(term)
        self.prefix_lengths = sorted({len(w) for w in self.prefix})
        self._memo: dict[str, list[Term]] = {}

    def find(self, fields: dict[str, list[str]], starting: dict[str, list[Term]]) -> Found:
        """Where each term starts, per field, given `starting` (see `starting`)."""
        found: Found = {}
        for field, toks in fields.items():
            for tok in starting.keys() & set(toks):
                terms = starting[tok]
                for i in _positions(toks, tok):
                    for term in terms:
                        if len(term.parts) == 1 or _matches_at(term, toks, i):
                            found.setdefault(term.text, {}).setdefault(field, []).append(i)
        for spots in found.values():      # ascending, as a left-to-right scan finds them
            for positions in spots.values():
                positions.sort()
        return found

    def starting(self, distinct: set[str]) -> dict[str, list[Term]]:
        """The words among `distinct` that start at least one term, with those terms."""
        memo = self._memo
        if len(memo) > self.MEMO:
            memo.clear()
        out = {}
        for tok in distinct:
            terms = memo.get(tok)
            if terms is None:
                terms = memo[tok] = self._candidates(tok)
            if terms:
                out[tok] = terms
        return out

    def _candidates(self, tok: str) -> list[Term]:
        out = list(self.exact.get(tok, ()))
        for n in self.prefix_lengths:
            if n > len(tok):
                break
            out.extend(self.prefix.get(tok[:n], ()))
        return out


def _positions(toks: list[str], tok: str) -> list[int]:
    """Every index of tok in toks (list.index scans in C)."""
    out, i = [], -1
    try:
        while True:
            i = toks.index(tok, i + 1)
            out.append(i)
    except ValueError:
        return out


def _matches_at(term: Term, toks: list[str], i: int) -> bool:
    if i + len(term.parts) > len(toks):
        return False
    for (word, is_prefix), tok in zip(term.parts, toks[i:i + len(term.parts)]):
        if not (tok.startswith(word) if is_prefix else tok == word):
            return False
    return True


def _gate(rule: Rule) -> list[frozenset[str]]:
    """Term sets that must each have a hit for the rule to pass (necessary, not sufficient)."""
    gate = [frozenset(group) for group in rule.all]
    gate += [frozenset(rule.any)] if rule.any else []
    for near in rule.near:
        gate += [frozenset(near.a), frozenset(near.b)]
    return gate


def _rule_terms(rule: Rule) -> list[str]:
    out = [t for group in rule.all for t in group] + list(rule.any) + list(rule.none)
    for near in rule.near:
        out += near.a + near.b
    return out


class Matcher:
    """Compiled once from the config; `match` is then a pure function of an item's text."""

    def __init__(self, config: Config) -> None:
        self.indicators = list(config.indicators)
        self.denied = [compile_term(t) for t in config.certainty.denied]
        self.expected = [compile_term(t) for t in config.certainty.expected]
        terms = [compile_term(t) for ind in self.indicators for t in _rule_terms(ind.match)]
        self.index = _TermIndex(terms + self.denied + self.expected)
        self.gates: dict[str, list[tuple[Indicator, list[frozenset[str]]]]] = defaultdict(list)
        for ind in self.indicators:
            # Each indicator under the terms of one clause it needs (its most selective by
            # the proxy of word length): a text with no hit there cannot match it. Indexing
            # every term of every rule made the gate visit ~20 indicators an item (profile).
            gate = _gate(ind.match)
            key = max(gate, key=lambda g: min(len(w) for t in g for w, _ in compile_term(t).parts))
            for term in key:
                self.gates[term].append((ind, gate))

    def match(self, title: str, summary: str = "") -> list[Match]:
        """Every indicator the text is evidence for, strongest first."""
        fields = {"title": words(title), "summary": words(summary)}
        # Most items name nothing a rule needs. Decide that from their distinct words before
        # looking for positions: the terms those words start are every term that can hit.
        starting = self.index.starting(set(fields["title"]).union(fields["summary"]))
        if not starting or not self._gated({t.text for ts in starting.values() for t in ts}):
            return []
        found = self.index.find(fields, starting)
        passed = self._gated(found.keys())
        if not passed:
            return []
        # Only indicators with a hit in every required clause can match: decide those,
        # in config order (the order of equally strong matches).
        candidates = [ind for ind in self.indicators if ind.id in passed]
        certainty, cues = self._certainty(found)
        out = [m for ind in candidates
               if (m := _decide(ind, found, fields, certainty, cues)) is not None]
        return sorted(out, key=lambda m: -m.strength)

    def _gated(self, hit: Collection[str]) -> set[str]:
        """Indicators with a hit in every clause their rule cannot match without."""
        return {ind.id for term in hit for ind, gate in self.gates.get(term, ())
                if all(not g.isdisjoint(hit) for g in gate)}

    def _certainty(self, found: Found) -> tuple[Certainty, tuple[str, ...]]:
        """The title speaks first; a cue only in the summary counts when the title has none."""
        for field in FIELDS:
            for level, terms in ((Certainty.DENIED, self.denied), (Certainty.EXPECTED, self.expected)):
                cues = tuple(t.text for t in terms if field in found.get(t.text, {}))
                if cues:
                    return level, cues
        return Certainty.CONFIRMED, ()


def _hits(terms: list[str], found: Found, clause: str) -> list[Hit]:
    return [Hit(t, f, clause) for t in terms for f in FIELDS if f in found.get(t, {})]


def _near(a: list[str], b: list[str], within: int, found: Found) -> list[Hit]:
    for field in FIELDS:
        pa = [(t, p) for t in a for p in found.get(t, {}).get(field, [])]
        pb = [(t, p) for t in b for p in found.get(t, {}).get(field, [])]
        for ta, x in pa:
            for tb, y in pb:
                if abs(x - y) <= within:
                    return [Hit(ta, field, "near"), Hit(tb, field, "near")]
    return []


def _decide(ind: Indicator, found: Found, fields: dict[str, list[str]],
            certainty: Certainty, cues: tuple[str, ...]) -> Match | None:
    rule = ind.match
    if _hits(list(rule.none), found, "none"):
        return None
    hits: list[Hit] = []
    for group in rule.all:
        group_hits = _hits(group, found, "all")
        if not group_hits:
            return None
        hits += group_hits
    if rule.any:
        any_hits = _hits(list(rule.any), found, "any")
        if not any_hits:
            return None
        hits += any_hits
    for near in rule.near:
        near_hits = _near(near.a, near.b, near.within, found)
        if not near_hits:
            return None
        hits += near_hits
    best: dict[str, float] = {}
    for h in hits:
        best[h.term] = max(best.get(h.term, 0.0), ind.fields.get(h.field, 1.0))  # type: ignore[call-overload]
    strength = round(sum(best.values()), 3)
    if strength < ind.min_score:
        return None
    return Match(ind.id, strength, certainty, tuple(dict.fromkeys(hits)), cues)
