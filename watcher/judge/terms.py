"""Terms and the term index: the part of matching that finds where rule terms hit an item.

A term is a phrase of word patterns ('Казахстан* signs'); the index holds every distinct word
sequence of every rule and answers, for one item's words, where each starts. Pure.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property

from watcher.text import (
    clauses,
    gaps,
    normalise,
    normalised_words,
    spaced,
    unspaced,
    variants,
    words,
)

FIELDS = ("title", "summary")
Parts = tuple[tuple[str, bool], ...]          # (word, is_prefix) per word of a term


@dataclass(frozen=True)
class Term:
    """A phrase as word patterns; a word ending in '*' matches any word it begins."""

    text: str
    parts: Parts


def compile_term(text: str) -> Term:
    """'Казахстан* signs' → Term with a prefix first word and an exact second word."""
    parts: list[tuple[str, bool]] = []
    for raw in text.split():
        prefix = raw.endswith("*")
        toks = words(raw.rstrip("*"))
        for n, tok in enumerate(toks):
            parts.append((tok, prefix and n == len(toks) - 1))
    if not parts:
        raise ValueError(f"term {text!r} has no letters or digits")
    return Term(text, tuple(parts))


class Text:
    """One item's fields as the matcher sees them: words, their clause, their spelling variants.

    Clauses and variants are worked out when first asked for: most items match nothing and
    need neither."""

    def __init__(self, title: str, summary: str) -> None:
        self.normalised = {"title": normalise(title), "summary": normalise(summary)}
        self.spaced = {f: spaced(n) for f, n in self.normalised.items()}
        self.words: dict[str, list[str]] = {f: normalised_words(n, self.spaced[f])
                                            for f, n in self.normalised.items()}

    @classmethod
    def of(cls, title: str, summary: str) -> Text:
        return cls(title, summary)

    @cached_property
    def clauses(self) -> dict[str, list[int]]:
        return {f: clauses(n, self.spaced[f]) for f, n in self.normalised.items()}

    @cached_property
    def gaps(self) -> dict[str, list[str]]:
        return {f: gaps(n, self.spaced[f]) for f, n in self.normalised.items()}

    @cached_property
    def forms(self) -> dict[str, list[tuple[str, ...]]]:
        return {f: [variants(w) for w in ws] for f, ws in self.words.items()}

    @cached_property
    def units(self) -> dict[str, list[float] | None]:
        """Per field, each word's position for `near`, or None where it is its offset (no
        Chinese or Japanese). A character of those scripts is a word but counts half a word of
        distance: their words are one to three characters long, so a window of 8 stays ~8
        words."""
        out: dict[str, list[float] | None] = dict.fromkeys(self.words)
        for name, ws in self.words.items():
            if self.spaced[name]:
                continue
            at, pos = [], 0.0
            for w in ws:
                at.append(pos)
                pos += 0.5 if unspaced(w) else 1.0
            out[name] = at
        return out


# positions[parts][field] = word offsets where a term with these words starts
Found = dict[Parts, dict[str, list[int]]]
_CACHE_MAX = 100_000                          # distinct words remembered by the term index


class TermIndex:
    """Distinct word sequences, indexed by their first word (exact) or its prefix.

    What a distinct word can be is worked out once and remembered: the sequences it can start
    (itself, or a spelling of it without Arabic or Hebrew proclitics, is their first word), and
    the word patterns it satisfies later in a sequence."""

    def __init__(self, terms: list[Term]) -> None:
        self.exact: dict[str, list[Parts]] = defaultdict(list)
        self.prefix: dict[str, list[Parts]] = defaultdict(list)
        later: set[tuple[str, bool]] = set()
        for parts in {t.parts for t in terms}:
            word, is_prefix = parts[0]
            (self.prefix if is_prefix else self.exact)[word].append(parts)
            later.update(parts[1:])
        self.prefix_lengths = sorted({len(w) for w in self.prefix})
        self.named: dict[Parts, list[str]] = defaultdict(list)     # word sequence → its terms
        for t in terms:
            self.named[t.parts].append(t.text)
        self.later_exact = {w for w, is_prefix in later if not is_prefix}
        self.later_prefix = {w for w, is_prefix in later if is_prefix}
        self.later_lengths = sorted({len(w) for w in self.later_prefix})
        self._memo = _Memo()

    def starters_in(self, text: Text) -> dict[str, dict[str, _Starts]]:
        """Per field, its distinct words that can start a sequence, with the sequences."""
        memo = self._memo
        if len(memo.starts) > _CACHE_MAX or len(memo.satisfies) > _CACHE_MAX:
            memo = self._memo = _Memo()       # swapped whole: a thread holding the old one is fine
        starts, starters = memo.starts, memo.starters
        out: dict[str, dict[str, _Starts]] = {}
        for name in FIELDS:
            distinct = set(text.words[name])
            for w in distinct.difference(starts):
                cands = self._candidates(variants(w))
                if cands:
                    starters.add(w)          # before `starts`: a word in `starts` is settled
                starts[w] = _Starts.of(cands, self.named)
            out[name] = {w: starts[w] for w in distinct & starters}
        return out

    def find(self, text: Text, starters: dict[str, dict[str, _Starts]] | None = None) -> Found:
        """Where each sequence starts, per field (`starters`: what starters_in said of text)."""
        found: Found = defaultdict(lambda: defaultdict(list))
        if starters is None:
            starters = self.starters_in(text)
        satisfies = self._memo.satisfies
        for name in FIELDS:
            here = starters[name]
            if not here:
                continue
            ws = text.words[name]
            last = len(ws) - 1
            for i, w in enumerate(ws):
                start = here.get(w)
                if start is None:
                    continue
                for parts in start.single:
                    found[parts][name].append(i)
                if not start.by_second or i == last:
                    continue
                sat = self._satisfies(ws[i + 1], satisfies)
                for second in start.by_second.keys() & sat:
                    for parts in start.by_second[second]:
                        if self._continues(parts, ws, i, satisfies):
                            found[parts][name].append(i)
        return found

    def _candidates(self, word_forms: tuple[str, ...]) -> set[Parts]:
        out: set[Parts] = set()
        for tok in word_forms:
            out.update(self.exact.get(tok, ()))
            for n in self.prefix_lengths:
                if n > len(tok):
                    break
                out.update(self.prefix.get(tok[:n], ()))
        return out

    def _continues(self, parts: Parts, ws: list[str], i: int,
                   satisfies: dict[str, frozenset[tuple[str, bool]]]) -> bool:
        """The words after position i + 1 satisfy the rest of the sequence (its first two do)."""
        if i + len(parts) > len(ws):
            return False
        return all(parts[k] in self._satisfies(ws[i + k], satisfies) for k in range(2, len(parts)))

    def _satisfies(self, word: str, satisfies: dict[str, frozenset[tuple[str, bool]]]
                   ) -> frozenset[tuple[str, bool]]:
        """The (word, is_prefix) patterns of later words in sequences that this word satisfies."""
        sat = satisfies.get(word)
        if sat is None:
            sat = satisfies[word] = self._satisfied(variants(word))
        return sat

    def _satisfied(self, word_forms: tuple[str, ...]) -> frozenset[tuple[str, bool]]:
        out: set[tuple[str, bool]] = set()
        for f in word_forms:
            if f in self.later_exact:
                out.add((f, False))
            for n in self.later_lengths:
                if n > len(f):
                    break
                if f[:n] in self.later_prefix:
                    out.add((f[:n], True))
        return frozenset(out)


@dataclass(frozen=True)
class _Starts:
    """The sequences a word can start: one-word ones, longer ones by their second word, and
    the terms of all of them (those that may hit where the word is)."""

    single: tuple[Parts, ...]
    by_second: dict[tuple[str, bool], tuple[Parts, ...]]
    terms: frozenset[str]

    @classmethod
    def of(cls, cands: set[Parts], named: dict[Parts, list[str]]) -> _Starts:
        by_second: dict[tuple[str, bool], list[Parts]] = defaultdict(list)
        for parts in cands:
            if len(parts) > 1:
                by_second[parts[1]].append(parts)
        return cls(tuple(p for p in cands if len(p) == 1),
                   {k: tuple(v) for k, v in by_second.items()},
                   frozenset(t for parts in cands for t in named.get(parts, ())))


class _Memo:
    """What the term index learned about words: the sequences each can start (`starts`), the
    words that start any (`starters`), the later-word patterns each satisfies."""

    def __init__(self) -> None:
        self.starts: dict[str, _Starts] = {}
        self.starters: set[str] = set()
        self.satisfies: dict[str, frozenset[tuple[str, bool]]] = {}
