"""The matcher as it was before the speed work of issue 6, frozen: the reference the shipped
matcher must agree with exactly (tests/test_match_equivalence.py).

A verbatim copy of watcher/text.py (normalisation, words, clauses, proclitic variants) and
watcher/match.py at commit dd67d9b. It lives in tests, not in shipped code. When the rule
language changes on purpose, change this copy in the same commit, so the difference is visible.

Changed on purpose since (issue 13, the region's languages): the folding of Turkish ı, Uzbek
apostrophes, Arabic/Persian heh forms; Chinese and Japanese characters as one-character words,
counting half a word in `near`; ؛ ؟ 。 as clause breaks and the new languages' conjunctions; a
denial cue inside a longer expectation cue yields to it; a headline that makes the claim decides
its certainty alone (the summary is not consulted).

Changed on purpose since (issue 12, the blind replay's classes 3-5): an expectation cue sharing a
word with a `certainty.confirmed` phrase ("votes to" in "votes to ratify") says nothing; a headline
that leaves a part of the claim to the summary lets the summary's clauses holding that part speak
after it; a headline with no claim speaks (its clauses holding a part bound to the title) with the
summary's claims, a denial in either first; every named set's terms are looked for (a set is a
concept for grouping reports even when no rule uses it). Classes 9-11: a `certainty.prospects`
cue (a draft, a setback, a visit, a review) is an expectation unless the clauses asked hold a
`certainty.acts` cue (an act done: "adopts", "signs"); a headline's clause of at most four words
holding no hit nor a named set's term, after a colon or a spaced dash, speaks with the headline's
claim ("…: a matter of weeks"), unless the claim's clause holds an act done.
"""
# ruff: noqa
# mypy: ignore-errors

from __future__ import annotations

import html
import re
import unicodedata

_TAG = re.compile(r"<[^>]{0,2000}>")
# Inline tags vanish without a trace ("<em>Thu</em>." → "Thu."); others separate words.
_INLINE = re.compile(r"</?(a|b|i|u|em|strong|span|font|abbr|code|small|sub|sup|mark|q|cite|time)"
                     r"\b[^>]{0,2000}>", re.IGNORECASE)
_SCRIPT = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_SPACE = re.compile(r"\s+")
# Bidi overrides and zero-width characters can disguise text; they carry no meaning here.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d"
                                    "\u202e\u2066\u2067\u2068\u2069\ufeff\u00ad"), None)
_FOLD = str.maketrans({"ё": "е", "’": "'", "‘": "'", "ʻ": "'", "ʼ": "'", "`": "'", "ı": "i",
                       # Arabic: hamza-carrying and wasla alef → bare alef, alef maqsura → ya,
                       # Persian kaf/ya → Arabic (Iranian sources), tatweel (stretching) dropped
                       "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ک": "ك", "ی": "ي",
                       "ة": "ه", "ە": "ه", "ھ": "ه",
                       "\u0640": None})
_TURKISH_ENDING = (r"(?:s|[iuüea]|y[iuüea]|n[iuüea]|[dt][ea]n?|[dt][ea]ki|n?[iuü]n|n[dt][ea]n?"
                   r"|y?l[ea]|l[ea]r\w*|d[iuü]r|s[iuü]|c[ea])\b")
_UZ_APOSTROPHE = re.compile(r"(?<=[og])'(?=\w)(?!" + _TURKISH_ENDING + r")")
_UNSPACED = ("\u3005-\u3007\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
             "\U00020000-\U0002ffff")
_WORD = re.compile(rf"[{_UNSPACED}]|[^\W{_UNSPACED}]+")
# Clause breaks: sentence punctuation, a spaced dash, and conjunctions that start a new claim
# ("Israel signs deal *as* Saudi Arabia rules out joining"): a certainty cue speaks for the
# words of its own clause only.
_BREAK = re.compile(r"[;:!?|•؛؟。]|\.(?=\s|$)|\s[-–—]\s|^[-–—]\s")
_CONJUNCTIONS = frozenset([
    "but", "while", "whereas", "although", "though", "however", "as", "after", "amid",
    "но", "а", "однако", "тогда", "пока", "после", "хотя", "бірақ", "ал",
    "لكن", "بينما", "فيما", "رغم", "אבל", "בעוד", "אף",
    "ama", "fakat", "amma", "lakin", "lekin", "biroq", "ammo", "biraq", "اما", "ولي", "但"])
# One-letter proclitics written attached to the next word: Arabic wa/fa (and), bi/li (in, to)
# and the article al-; Hebrew ve, she, ha, be, le, mi, ke.
_AR_CONJ, _AR_PREP, _AR_ARTICLE = "وف", "بل", "ال"
_HE_FIRST, _HE_SECOND = "וש", "הבלמכ"


def strip_html(text: str) -> str:
    """HTML fragment → plain text: scripts dropped, tags removed, entities decoded, spaces folded."""
    text = _SCRIPT.sub(" ", text)
    text = _INLINE.sub("", text)
    text = _TAG.sub(" ", text)
    text = html.unescape(text).translate(_INVISIBLE)
    text = "".join(ch if unicodedata.category(ch)[0] != "C" or ch in "\t\n" else " " for ch in text)
    return _SPACE.sub(" ", text).strip()


def normalise(text: str) -> str:
    """The form every rule sees: Unicode NFKC, case-folded, invisible characters removed.

    Combining marks that survive composition are dropped (Arabic harakat, Hebrew niqqud, the
    dot Turkish İ leaves after case-folding), so a vowelled or dotted spelling stays one word
    and equals the plain one; Arabic letter variants are folded (see _FOLD)."""
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE).casefold().translate(_FOLD)
    return _UZ_APOSTROPHE.sub("", "".join(ch for ch in text if not _is_mark(ch)))


def _is_mark(ch: str) -> bool:
    return ch >= "\u0300" and unicodedata.category(ch) == "Mn"


def words(text: str) -> list[str]:
    """Normalised words in order, in any script (Latin, Cyrillic, Hebrew, Arabic...)."""
    return _WORD.findall(normalise(text))


def tokens(text: str) -> tuple[list[str], list[int]]:
    """Normalised words and, for each, the number of the clause it belongs to."""
    norm = normalise(text)
    out: list[str] = []
    clauses: list[int] = []
    clause, last_end = 0, 0
    for m in _WORD.finditer(norm):
        gap = norm[last_end:m.start()]
        word = m.group()
        if out and (_is_break(gap, out[-1]) or word in _CONJUNCTIONS):
            clause += 1
        out.append(word)
        clauses.append(clause)
        last_end = m.end()
    return out, clauses


def _is_break(gap: str, previous: str) -> bool:
    # "U.S. signs" is one clause: a full stop after a one-letter word is an abbreviation.
    if _BREAK.search(gap) is None:
        return False
    return not (gap.startswith(".") and len(previous) == 1 and _BREAK.search(gap[1:]) is None)


def variants(word: str) -> tuple[str, ...]:
    """A word and the same word without attached Arabic or Hebrew proclitics.

    Arabic and Hebrew write "and", "in", "to", "the" as letters glued to the next word
    (وكازاخستان, لإسرائيل, בישראל); a term written without them matches either form."""
    first = word[:1]
    if "\u0600" <= first <= "\u06ff":
        return _arabic_variants(word)
    if "\u0590" <= first <= "\u05ff":
        return _hebrew_variants(word)
    return (word,)


def _arabic_variants(word: str) -> tuple[str, ...]:
    forms = [word]
    if word[0] in _AR_CONJ and len(word) > 3:
        forms.append(word[1:])
    for f in list(forms):
        if f.startswith("لل") and len(f) > 3:          # li + al- is written lil-
            forms += ["ال" + f[2:], f[2:]]
        elif f[0] in _AR_PREP and len(f) > 3:
            forms.append(f[1:])
    for f in list(forms):
        if f.startswith(_AR_ARTICLE) and len(f) > 4:
            forms.append(f[2:])
    return tuple(dict.fromkeys(forms))


def _hebrew_variants(word: str) -> tuple[str, ...]:
    forms = [word]
    rest = word[1:] if word[0] in _HE_FIRST and len(word) > 3 else word
    if rest is not word:
        forms.append(rest)
    if rest[0] in _HE_SECOND and len(rest) > 3:
        forms.append(rest[1:])
    if word[0] in _HE_SECOND and len(word) > 3:
        forms.append(word[1:])
    return tuple(dict.fromkeys(forms))


def truncate(text: str, limit: int) -> str:
    """Cut at a word boundary with an ellipsis, for titles in mail subjects and tables."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0] if " " in text[: limit - 1] else text[: limit - 1]
    return cut.rstrip() + "…"


# --- watcher/match.py ------------------------------------------------------------

from collections import defaultdict
from dataclasses import dataclass, field

from watcher.config import Config, Indicator, Rule, group_terms
from watcher.models import Certainty, Hit, Match

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


@dataclass(frozen=True)
class Text:
    """One item's fields as the matcher sees them: words, their clause, their spelling variants."""

    words: dict[str, list[str]]
    clauses: dict[str, list[int]]
    forms: dict[str, list[tuple[str, ...]]]
    gaps: dict[str, list[str]]          # before each word: what separates it from the last

    @classmethod
    def of(cls, title: str, summary: str) -> Text:
        ws: dict[str, list[str]] = {}
        cl: dict[str, list[int]] = {}
        gs: dict[str, list[str]] = {}
        for name, text in (("title", title), ("summary", summary)):
            ws[name], cl[name] = tokens(text)
            norm, last = normalise(text), 0
            gs[name] = []
            for m in _WORD.finditer(norm):
                gs[name].append(norm[last:m.start()])
                last = m.end()
        return cls(ws, cl, {f: [variants(w) for w in ws[f]] for f in FIELDS}, gs)


# positions[parts][field] = word offsets where a term with these words starts
Found = dict[Parts, dict[str, list[int]]]


class _TermIndex:
    """Distinct word sequences, indexed by their first word (exact) or its prefix."""

    def __init__(self, terms: list[Term]) -> None:
        self.exact: dict[str, list[Parts]] = defaultdict(list)
        self.prefix: dict[str, list[Parts]] = defaultdict(list)
        for parts in {t.parts for t in terms}:
            word, is_prefix = parts[0]
            (self.prefix if is_prefix else self.exact)[word].append(parts)
        self.prefix_lengths = sorted({len(w) for w in self.prefix})

    def find(self, text: Text) -> Found:
        found: Found = defaultdict(lambda: defaultdict(list))
        for name in FIELDS:
            forms = text.forms[name]
            for i, word_forms in enumerate(forms):
                for parts in self._candidates(word_forms):
                    if _matches_at(parts, forms, i) and i not in found[parts][name]:
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


def _matches_at(parts: Parts, forms: list[tuple[str, ...]], i: int) -> bool:
    if i + len(parts) > len(forms):
        return False
    for (word, is_prefix), word_forms in zip(parts, forms[i:i + len(parts)]):
        if not any(f.startswith(word) if is_prefix else f == word for f in word_forms):
            return False
    return True


def _rule_terms(rule: Rule) -> list[str]:
    out = [t for group in rule.all for t in group_terms(group)[0]] + list(rule.any)
    out += [t for veto in rule.none for t in group_terms(veto)[0]]
    for near in rule.near:
        out += near.a + near.b
    return out


@dataclass
class RuleTrace:
    """How one rule of an indicator fared on an item: its hits, and the first reason it failed."""

    indicator: str
    number: int                        # 1-based position among the indicator's alternatives
    hits: list[Hit] = field(default_factory=list)
    failed: str | None = None
    strength: float = 0.0
    parts: list[tuple[str, str, float]] = field(default_factory=list)   # (term, field, weight)
    missing: int = 0                   # how many of its clauses failed (a near miss has one)
    groups: dict[str, str] = field(default_factory=dict)   # term → the rule clause it hit for
    headline: set[str] = field(default_factory=set)   # the rule clauses bound to the title

    @property
    def passed(self) -> bool:
        return self.failed is None

    def fail(self, reason: str) -> None:
        """Record a failing clause; the first reason is the one reported."""
        self.failed = self.failed or reason
        self.missing += 1


@dataclass(frozen=True)
class Analysis:
    """One item through the matcher: its text, every term found, every rule's fate, the matches."""

    text: Text
    found: Found
    traces: list[RuleTrace]
    matches: list[Match]


class Matcher:
    """Compiled once from the config; `match` is then a pure function of an item's text."""

    def __init__(self, config: Config) -> None:
        self.indicators = list(config.indicators)
        self.terms: dict[str, Term] = {}
        for text in [t for ind in self.indicators for r in ind.rules for t in _rule_terms(r)]:
            self._term(text)
        for members in config.terms.values():     # a named set is a concept even if no rule uses it
            for text in members:
                self._term(text)
        self.denied = [self._term(t) for t in config.certainty.denied]
        self.expected = [self._term(t) for t in config.certainty.expected]
        self.done = [self._term(t) for t in config.certainty.confirmed]
        self.prospects = [self._term(t) for t in config.certainty.prospects]
        self.acts = [self._term(t) for t in config.certainty.acts]
        self.index = _TermIndex(list(self.terms.values()))
        # A term stands for the smallest named set that holds it: "азербайджан*" and
        # "azerbaijan*" in one set are one concept, whatever the language of the report.
        self.concepts: dict[str, str] = {}
        for name, members in sorted(config.terms.items(), key=lambda kv: -len(kv[1])):
            for term in members:
                self.concepts[term] = name

    def concept_of(self, term: str) -> str:
        """What a rule term stands for across languages (its named term set, else itself)."""
        return self.concepts.get(term, term)

    def _term(self, text: str) -> Term:
        if text not in self.terms:
            self.terms[text] = compile_term(text)
        return self.terms[text]

    def match(self, title: str, summary: str = "") -> list[Match]:
        """Every indicator the text is evidence for, strongest first."""
        return self.analyse(title, summary).matches

    def analyse(self, title: str, summary: str = "") -> Analysis:
        """The matches, and how every rule of every indicator fared (for `watcher explain`)."""
        text = Text.of(title, summary)
        found = self.index.find(text)
        traces = [self._decide(ind, n, rule, found, text)
                  for ind in self.indicators for n, rule in enumerate(ind.rules, 1)]
        out = []
        for ind in self.indicators:
            passed = [t for t in traces if t.indicator == ind.id and t.passed]
            best = max(passed, key=lambda t: t.strength, default=None)
            if best is not None:
                out.append(self._as_match(ind, best, found, text))
        return Analysis(text, found, traces, sorted(out, key=lambda m: -m.strength))

    def where(self, term: str, found: Found) -> dict[str, list[int]]:
        """Word offsets, per field, where a term (rule term or cue) hit."""
        return found.get(self._term(term).parts, {})

    def _as_match(self, ind: Indicator, trace: RuleTrace, found: Found, text: Text) -> Match:
        certainty, cues = self.certainty_of(trace, found, text)
        return Match(ind.id, trace.strength, certainty, tuple(dict.fromkeys(trace.hits)), cues)

    # --- deciding one rule ----------------------------------------------------------------

    def _hits(self, terms: list[str], found: Found, clause: str, only: str | None = None) -> list[Hit]:
        return [Hit(t, f, clause) for t in terms for f in FIELDS
                if (only is None or f == only) and found.get(self.terms[t].parts, {}).get(f)]

    def _decide(self, ind: Indicator, number: int, rule: Rule, found: Found, text: Text) -> RuleTrace:
        trace = RuleTrace(ind.id, number)
        for veto in rule.none:
            terms, only = group_terms(veto)
            vetoed = self._hits(terms, found, "none", only)
            if vetoed:
                trace.fail(f"vetoed by none “{vetoed[0].term}” in {vetoed[0].field}")
        for k, group in enumerate(rule.all, 1):
            terms, only = group_terms(group)
            got = self._hits(terms, found, "all", only)
            trace.hits += got
            trace.groups.update((h.term, f"all{k}") for h in got)
            if only == "title":
                trace.headline.add(f"all{k}")
            if not got:
                trace.fail(f"all: group {k} has no hit" + (f" in the {only}" if only else ""))
        if rule.any:
            got = self._hits(list(rule.any), found, "any")
            trace.hits += got
            trace.groups.update((h.term, "any") for h in got)
            if not got:
                trace.fail("any: no term hit")
        for k, near in enumerate(rule.near, 1):
            got = self._near(near.a, near.b, near.within, found, near.field, text)
            trace.hits += got
            trace.groups.update((h.term, f"near{k}{side}") for h, side in zip(got, "ab"))
            if near.field == "title":
                trace.headline |= {f"near{k}a", f"near{k}b"}
            if not got:
                trace.fail(f"near {k}: no term of a within {near.within} words of a term of b")
        trace.parts = self._strength_parts(ind, trace.hits, found)
        trace.strength = round(sum(w for _, _, w in trace.parts), 3)
        if trace.failed is None and trace.strength < ind.min_score:
            trace.fail(f"strength {trace.strength:g} below min_score {ind.min_score:g}")
        return trace

    def _near(self, a: list[str], b: list[str], within: int, found: Found,
              only: str | None, text: Text) -> list[Hit]:
        for name in (only,) if only else FIELDS:
            # a Chinese or Japanese character is a word but counts half a word of distance
            units = [0.0]
            for w in text.words[name]:
                units.append(units[-1] + (0.5 if re.match(f"[{_UNSPACED}]", w) else 1.0))
            pa = [(t, p) for t in a for p in found.get(self.terms[t].parts, {}).get(name, [])]
            pb = [(t, p) for t in b for p in found.get(self.terms[t].parts, {}).get(name, [])]
            for ta, x in pa:
                for tb, y in pb:
                    if abs(units[x] - units[y]) <= within:
                        return [Hit(ta, name, "near"), Hit(tb, name, "near")]
        return []

    def _strength_parts(self, ind: Indicator, hits: list[Hit], found: Found) -> list[tuple[str, str, float]]:
        """The field weight each distinct piece of evidence adds: one word sequence counts once
        however it is spelled ("Jackson-Vanik", "Jackson–Vanik"), and terms hitting the same
        spot count once ("kazakh*" and "kazakhstan" on the same word)."""
        best: dict[Parts, tuple[float, str, str]] = {}
        for h in hits:
            parts = self.terms[h.term].parts
            weight: float = ind.fields.get(h.field, 1.0)  # type: ignore[call-overload]
            if weight > best.get(parts, (-1.0, "", ""))[0]:
                best[parts] = (weight, h.field, h.term)
        spots: dict[tuple[str, int], tuple[str, str, float]] = {}
        for parts, (weight, name, term) in best.items():
            spot = (name, found[parts][name][0])
            if weight > spots.get(spot, ("", "", -1.0))[2]:
                spots[spot] = (term, name, weight)
        return list(spots.values())

    # --- certainty ------------------------------------------------------------------------

    def certainty_of(self, trace: RuleTrace, found: Found,
                     text: Text) -> tuple[Certainty, tuple[str, ...]]:
        """Cues in the clauses that carry this indicator's claim: the title speaks first, then
        the summary.

        A clause carries the claim when terms of two of the rule's parts hit in it ("Indonesia …
        will not join … Abraham Accords"); a clause that only names a country ("Kazakhstan ruled
        out sending troops", in the summary of a deal) does not. Only when no clause carries two
        parts do clauses with any hit count. So a denial about another country in another clause
        ("Israel and Kazakhstan sign deal as Saudi Arabia rules out joining") leaves this match
        confirmed."""
        spots: dict[str, dict[int, set[str]]] = {name: {} for name in FIELDS}
        for h in trace.hits:
            for p in found.get(self.terms[h.term].parts, {}).get(h.field, []):
                clause = text.clauses[h.field][p]
                spots[h.field].setdefault(clause, set()).add(trace.groups.get(h.term, h.term))
        title, summary = spots["title"], spots["summary"]
        headline = {c for c, parts in title.items() if len(parts) >= 2}
        if headline:        # a short clause with no hit speaks of the claim ("…: a matter of weeks")
            sizes: dict[int, int] = defaultdict(int)
            for c in text.clauses["title"]:
                sizes[c] += 1
            named_parts = {self.terms[t].parts for t in self.concepts if t in self.terms}
            named = {text.clauses["title"][p] for parts in named_parts
                     for p in found.get(parts, {}).get("title", [])}
            acted = any(text.clauses["title"][p] in headline for a in self.acts
                        for p in found.get(a.parts, {}).get("title", []))
            if not acted:       # "X signs deal – more could follow": the act is done
                first = {c: text.clauses["title"].index(c) for c in sizes}
                headline |= {c for c, n in sizes.items()
                             if c not in title and c not in named and n <= 4
                             and re.search(r":|\s[-–—]\s", text.gaps["title"][first[c]])}
            missing = set().union(*summary.values()) - set().union(*title.values()) if summary else set()
            asked = [("title", headline), ("summary", {c for c, ps in summary.items() if ps & missing})]
        else:
            claims = {c for c, parts in summary.items() if len(parts) >= 2}
            if claims:           # the summary's claim, and the headline's part of it
                asked = [("title", {c for c, parts in title.items() if parts & trace.headline}),
                         ("summary", claims)]
            else:                # no clause carries two parts: every clause with a hit
                asked = [("title", set(title)), ("summary", set(summary))]
        said = []
        for name, clauses in asked:
            if clauses:
                cue = self._cue_in(clauses, name, found, text)
                if cue is not None:
                    said.append(cue)
        if headline:
            said = said[:1]
        denials = [c for c in said if c[0] is Certainty.DENIED]
        if denials:
            return denials[0]
        return said[0] if said else (Certainty.CONFIRMED, ())

    def _cue_in(self, clauses: set[int], name: str, found: Found,
                text: Text) -> tuple[Certainty, tuple[str, ...]] | None:
        """Denials first, then expectations. A denial inside a longer expectation ("not ruling
        out", "не исключает", "不排除") is that expectation, not a denial."""
        def cues_at(cues: list[Term]) -> list[tuple[Term, int]]:
            return [(c, p) for c in cues for p in found.get(c.parts, {}).get(name, [])
                    if text.clauses[name][p] in clauses]
        done = cues_at(self.done)
        # a prospect (a draft, a visit, a setback) beside an act done says nothing
        prospects = cues_at(self.prospects) if not cues_at(self.acts) else []
        expected = [(c, p) for c, p in cues_at(self.expected) + prospects
                    if not any(q < p + len(c.parts) and p < q + len(d.parts) for d, q in done)]
        denied = [(c, p) for c, p in cues_at(self.denied) if not any(_covers(e, q, c, p) for e, q in expected)]
        for level, near in ((Certainty.DENIED, denied), (Certainty.EXPECTED, expected)):
            if near:
                return level, tuple(dict.fromkeys(c.text for c, _ in near))
        return None


def _covers(outer: Term, at: int, inner: Term, p: int) -> bool:
    """A longer cue at word `at` spans the words of a shorter one at word `p`."""
    return len(outer.parts) > len(inner.parts) and at <= p and p + len(inner.parts) <= at + len(outer.parts)
