"""Rules → one compiled matcher for all indicators; item text → matches with evidence.

Pure: no I/O, no clock. Every term of every indicator is looked up in a single pass over
an item's words; each indicator's rules are then decided from that set of hits. Certainty
is decided per indicator, from the cues in the clauses where that indicator's terms hit.

Fast because most items hit nothing (issue 6: 100,000 items in seconds): each distinct word is
looked up in the term index once per matcher, not once per item; a field none of whose words
can start a term costs a few set operations; only the rules with a hit term are decided, and
a rule clause is decided from the few terms that hit, not by asking each of its terms.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from watcher.config import Config, Indicator, Near, Rule, group_terms
from watcher.judge.cues import by_parts, covers, overlap, tails
from watcher.judge.events import Concepts
from watcher.judge.terms import (
    FIELDS,
    Found,
    Parts,
    Term,
    TermIndex,
    Text,
    compile_term,
)
from watcher.models import Certainty, Hit, Match


def _rule_terms(rule: Rule) -> list[str]:
    out = [t for group in rule.all for t in group_terms(group)[0]] + list(rule.any)
    out += [t for veto in rule.none for t in group_terms(veto)[0]]
    for near in rule.near:
        out += near.a + near.b
    return out


Hits = dict[str, tuple[str, ...]]             # term → the fields it hit in, in FIELDS order


class _Clause:
    """A list of terms (an `all` group, `any`, a `none` entry, a side of `near`), ready to
    answer "which of these hit, in list order" from the hits of one item."""

    def __init__(self, terms: list[str], only: str | None = None) -> None:
        self.only = only
        self.at: dict[str, list[int]] = {}
        for n, t in enumerate(terms):
            self.at.setdefault(t, []).append(n)

    def hit_terms(self, hit: Hits) -> list[str]:
        """The clause's terms that hit (in any field), in clause order, repeats kept."""
        if self.at.keys().isdisjoint(hit):
            return []
        if len(hit) == 1:
            ((t, _),) = hit.items()
            return [t] * len(self.at[t]) if t in self.at else []
        ordered = sorted((n, t) for t in hit if t in self.at for n in self.at[t])
        return [t for _, t in ordered]

    def hits(self, hit: Hits, clause: str) -> list[Hit]:
        only = self.only
        return [Hit(t, f, clause) for t in self.hit_terms(hit) for f in hit[t]
                if only is None or f == only]


@dataclass(frozen=True)
class _CompiledRule:
    vetoes: list[_Clause]
    groups: list[_Clause]
    any: _Clause | None
    near: list[tuple[Near, _Clause, _Clause]]
    # The term sets of which at least one term must hit for the rule to pass (each `all` group,
    # `any`, each side of each `near`): a rule missing one fails, so `match` need not decide it.
    required: tuple[frozenset[str], ...]

    @classmethod
    def of(cls, rule: Rule) -> _CompiledRule:
        required = [group_terms(g)[0] for g in rule.all] + ([list(rule.any)] if rule.any else [])
        required += [side for near in rule.near for side in (near.a, near.b)]
        return cls([_Clause(*group_terms(v)) for v in rule.none],
                   [_Clause(*group_terms(g)) for g in rule.all],
                   _Clause(list(rule.any)) if rule.any else None,
                   [(n, _Clause(n.a), _Clause(n.b)) for n in rule.near],
                   tuple(sorted({frozenset(r) for r in required}, key=len)))

    def may_pass(self, hit: Collection[str]) -> bool:
        return all(not terms.isdisjoint(hit) for terms in self.required)


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
        # cue word sequence → (its place in the list, the cue): an item's found terms are few,
        # the cues (in eleven languages) many, so cues are looked up from what was found
        self.cue_index = {level: by_parts(cues) for level, cues in
                          (("denied", self.denied), ("expected", self.expected),
                           ("confirmed", self.done), ("prospects", self.prospects),
                           ("acts", self.acts))}
        self.index = TermIndex(list(self.terms.values()))
        # Every rule, compiled, in decision order; and for each term the rules it can help pass
        # (a rule with no hit in its all, any or near clauses fails whatever else holds).
        self.rules = [(ind, n, rule, _CompiledRule.of(rule))
                      for ind in self.indicators for n, rule in enumerate(ind.rules, 1)]
        self.rules_of: dict[str, set[int]] = defaultdict(set)
        self.keyed_rules: dict[str, list[int]] = defaultdict(list)   # see _may_pass_any
        for k, (_, _, _, compiled) in enumerate(self.rules):
            for t in compiled.required[0] if compiled.required else ():
                self.keyed_rules[t].append(k)
        self.key_terms = frozenset(self.keyed_rules)
        for k, (_, _, rule, _) in enumerate(self.rules):
            for group in rule.all:
                for t in group_terms(group)[0]:
                    self.rules_of[t].add(k)
            for t in [*rule.any, *(t for near in rule.near for t in near.a + near.b)]:
                self.rules_of[t].add(k)
        # A term stands for the smallest named set that holds it: "азербайджан*" and
        # "azerbaijan*" in one set are one concept, whatever the language of the report.
        self.concepts: dict[str, str] = {}
        for name, members in sorted(config.terms.items(), key=lambda kv: -len(kv[1])):
            for term in members:
                self.concepts[term] = name
        self._concepts_seen: dict[str, frozenset[str]] = {}
        # the word sequences of named sets' terms: a clause naming one is about someone
        self.named_parts = {self.terms[t].parts for t in self.concepts if t in self.terms}
        self.grouping = config.grouping

    def concept_of(self, term: str) -> str:
        """What a rule term stands for across languages (its named term set, else itself)."""
        return self.concepts.get(term, term)

    def concept_map(self) -> Concepts:
        """What terms and headlines stand for across languages, for grouping reports."""
        return Concepts(self.concept_of, self.concepts_in, frozenset(self.grouping.topics),
                        frozenset(self.grouping.actors))

    def concepts_in(self, title: str) -> frozenset[str]:
        """The concepts (named term sets) a headline names, whatever rule they serve: "UN
        Security Council adopts resolution on Gaza force" and "联合国安理会通过决议…加沙…稳定部队"
        both name UN, SECURITY_COUNCIL, RESOLUTION, PALESTINE, STAB_FORCE (issue 12)."""
        held = self._concepts_seen.get(title)
        if held is None:
            found = self.index.find(Text(title, ""))
            held = frozenset(self.concepts[t] for parts, by_field in found.items()
                             if by_field.get("title")
                             for t in self.index.named.get(parts, ()) if t in self.concepts)
            if len(self._concepts_seen) > 50_000:
                self._concepts_seen.clear()
            self._concepts_seen[title] = held
        return held

    def _term(self, text: str) -> Term:
        if text not in self.terms:
            self.terms[text] = compile_term(text)
        return self.terms[text]

    def match(self, title: str, summary: str = "") -> list[Match]:
        """Every indicator the text is evidence for, strongest first.

        Positions are looked for only if some rule could pass on the terms that may hit (those
        of the sequences the text's words can start); most items end before that."""
        text = Text(title, summary)
        starters = self.index.starters_in(text)
        may_hit = frozenset().union(*(s.terms for here in starters.values() for s in here.values()))
        if not may_hit or not self._may_pass_any(may_hit):
            return []
        found = self.index.find(text, starters)
        hit = self._hit(found)
        return self._matches([self._decide(k, hit, found, text) for k in self._rules_with(hit)
                              if self.rules[k][3].may_pass(hit)], found, text)

    def _may_pass_any(self, may_hit: frozenset[str]) -> bool:
        """Whether some rule could pass on these terms.

        Only rules whose most selective required clause (the one with fewest terms) has a
        term here are asked: a rule missing any required clause fails, and the short clauses
        name specific things ("signing ceremony"), the long ones countries that many items
        carry. (Profile, issue 17: asking every rule with any hit term, for every item, was a
        third of the matcher's time.)"""
        keyed = self.keyed_rules
        candidates = {k for t in may_hit & self.key_terms for k in keyed[t]}
        for k in candidates:
            for terms in self.rules[k][3].required:
                if terms.isdisjoint(may_hit):
                    break
            else:
                return True
        return False

    def _rules_with(self, terms: Iterable[str]) -> list[int]:
        """The rules (indexes into self.rules, in order) whose all, any or near name a term."""
        return sorted({k for t in terms for k in self.rules_of.get(t, ())})

    def analyse(self, title: str, summary: str = "") -> Analysis:
        """The matches, and how every rule of every indicator fared (for `watcher explain`)."""
        text = Text(title, summary)
        found = self.index.find(text)
        hit = self._hit(found)
        traces = [self._decide(k, hit, found, text) for k in range(len(self.rules))]
        return Analysis(text, found, traces, self._matches(traces, found, text))

    def _hit(self, found: Found) -> Hits:
        return {t: tuple(f for f in FIELDS if by_field.get(f))
                for parts, by_field in found.items() for t in self.index.named.get(parts, ())}

    def _matches(self, traces: list[RuleTrace], found: Found, text: Text) -> list[Match]:
        best: dict[str, RuleTrace] = {}
        for t in traces:                       # the first strongest passing rule of each
            if t.passed and (t.indicator not in best or t.strength > best[t.indicator].strength):
                best[t.indicator] = t
        out = [self._as_match(ind, best[ind.id], found, text)
               for ind in self.indicators if ind.id in best]
        return sorted(out, key=lambda m: -m.strength)

    def where(self, term: str, found: Found) -> dict[str, list[int]]:
        """Word offsets, per field, where a term (rule term or cue) hit."""
        return found.get(self._term(term).parts, {})

    def _as_match(self, ind: Indicator, trace: RuleTrace, found: Found, text: Text) -> Match:
        certainty, cues = self.certainty_of(trace, found, text)
        return Match(ind.id, trace.strength, certainty, tuple(dict.fromkeys(trace.hits)), cues)

    # --- deciding one rule ----------------------------------------------------------------

    def _decide(self, k: int, hit: Hits, found: Found, text: Text) -> RuleTrace:
        ind, number, _, rule = self.rules[k]
        trace = RuleTrace(ind.id, number)
        for veto in rule.vetoes:
            vetoed = veto.hits(hit, "none")
            if vetoed:
                trace.fail(f"vetoed by none “{vetoed[0].term}” in {vetoed[0].field}")
        for n, group in enumerate(rule.groups, 1):
            got = group.hits(hit, "all")
            trace.hits += got
            trace.groups.update((h.term, f"all{n}") for h in got)
            if group.only == "title":
                trace.headline.add(f"all{n}")
            if not got:
                where = f" in the {group.only}" if group.only else ""
                trace.fail(f"all: group {n} has no hit{where}")
        if rule.any is not None:
            got = rule.any.hits(hit, "any")
            trace.hits += got
            trace.groups.update((h.term, "any") for h in got)
            if not got:
                trace.fail("any: no term hit")
        for n, (near, a, b) in enumerate(rule.near, 1):
            got = self._near(a, b, near.within, hit, found, text, near.field)
            trace.hits += got
            trace.groups.update((h.term, f"near{n}{side}") for h, side in zip(got, "ab"))
            if near.field == "title":
                trace.headline |= {f"near{n}a", f"near{n}b"}
            if not got:
                trace.fail(f"near {n}: no term of a within {near.within} words of a term of b")
        trace.parts = self._strength_parts(ind, trace.hits, found)
        trace.strength = round(sum(w for _, _, w in trace.parts), 3)
        if trace.failed is None and trace.strength < ind.min_score:
            trace.fail(f"strength {trace.strength:g} below min_score {ind.min_score:g}")
        return trace

    def _near(self, a: _Clause, b: _Clause, within: int, hit: Hits, found: Found, text: Text,
              only: str | None = None) -> list[Hit]:
        ta_hit, tb_hit = a.hit_terms(hit), b.hit_terms(hit)
        if not ta_hit or not tb_hit:
            return []
        for name in (only,) if only else FIELDS:
            pa = [(t, p) for t in ta_hit for p in found[self.terms[t].parts].get(name, [])]
            pb = [(t, p) for t in tb_hit for p in found[self.terms[t].parts].get(name, [])]
            units = text.units[name] if pa and pb else None
            for ta, x in pa:
                for tb, y in pb:
                    if abs(x - y if units is None else units[x] - units[y]) <= within:
                        return [Hit(ta, name, "near"), Hit(tb, name, "near")]
        return []

    def _strength_parts(self, ind: Indicator, hits: list[Hit],
                        found: Found) -> list[tuple[str, str, float]]:
        """The field weight each distinct piece of evidence adds: one word sequence counts once
        however it is spelled ("Jackson-Vanik", "Jackson–Vanik"), and terms hitting the same
        spot count once ("kazakh*" and "kazakhstan" on the same word)."""
        best: dict[Parts, tuple[float, str, str]] = {}
        for h in hits:
            parts = self.terms[h.term].parts
            weight = ind.field_weight(h.field)
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
        the summary; a title that makes the whole claim itself (two of the rule's parts in one
        clause, and no part only the summary names) decides alone, so a signed deal's summary
        saying the plant "is expected to open in 2027" leaves it confirmed. When the headline
        leaves a part of the claim to the summary (who joins: "Witkoff names next candidates to
        join the Abraham Accords" over "Azerbaijan and Uzbekistan may become members"), the
        summary's clauses that hold it speak too.

        A clause carries the claim when terms of two of the rule's parts hit in it ("Indonesia …
        will not join … Abraham Accords"); a clause that only names a country ("Kazakhstan ruled
        out sending troops", in the summary of a deal) does not. So a denial about another
        country in another clause ("Israel and Kazakhstan sign deal as Saudi Arabia rules out
        joining") leaves this match confirmed. When the headline carries no claim, its clauses
        holding a part the rule binds to the title speak with the summary's claims (or, when no
        clause carries two parts, its clauses with a hit): a denial in either first ("… does not
        mean Syria's accession"), then an expectation, the headline's first ("Saidov:
        consultations on the Abraham Accords continue")."""
        spots: dict[str, dict[int, set[str]]] = {name: {} for name in FIELDS}
        for h in trace.hits:
            for p in found.get(self.terms[h.term].parts, {}).get(h.field, []):
                clause = text.clauses[h.field][p]
                spots[h.field].setdefault(clause, set()).add(trace.groups.get(h.term, h.term))
        title, summary = spots["title"], spots.get("summary", {})
        headline = {c for c, parts in title.items() if len(parts) >= 2}
        if headline:
            headline |= tails(headline, title, found, text, self.cue_index["acts"],
                              self.named_parts)
            missing = (set().union(*summary.values()) - set().union(*title.values())
                       if summary else set())
            asked = [("title", headline),
                     ("summary", {c for c, ps in summary.items() if ps & missing})]
        else:
            claims = {c for c, parts in summary.items() if len(parts) >= 2}
            if claims:           # the summary's claim, and the headline's part of it
                asked = [("title", {c for c, parts in title.items() if parts & trace.headline}),
                         ("summary", claims)]
            else:                # no clause carries two parts: every clause with a hit
                asked = [("title", set(title)), ("summary", set(summary))]
        said = [cue for name, clauses in asked
                if clauses and (cue := self._cue_in(clauses, name, found, text)) is not None]
        if headline:
            said = said[:1]                     # the headline's cue, else the summary's
        said.sort(key=lambda cue: cue[0] is not Certainty.DENIED)     # a denial first
        return said[0] if said else (Certainty.CONFIRMED, ())

    def _cue_in(self, clauses: set[int], name: str, found: Found,
                text: Text) -> tuple[Certainty, tuple[str, ...]] | None:
        """Denials first, then expectations. A denial inside a longer expectation ("not ruling
        out", "не исключает", "不排除") is that expectation, not a denial; an expectation sharing
        a word with a phrase of an act done ("to ratify" in "votes to ratify") is none; a prospect
        (a draft, a visit, a setback) in clauses that report an act done ("adopts", "signs") is
        none."""
        def cues_at(kind: str) -> list[tuple[Term, int]]:
            index = self.cue_index[kind]
            at = [(n, p, c) for parts, by_field in found.items() if parts in index
                  for p in by_field.get(name, ()) if text.clauses[name][p] in clauses
                  for n, c in index[parts]]
            return [(c, p) for _, p, c in sorted(at, key=lambda x: (x[0], x[1]))]
        done = cues_at("confirmed")
        prospects = cues_at("prospects") if not cues_at("acts") else []
        expected = [(c, p) for c, p in cues_at("expected") + prospects
                    if not any(overlap(d, q, c, p) for d, q in done)]
        denied = [(c, p) for c, p in cues_at("denied")
                  if not any(covers(e, q, c, p) for e, q in expected)]
        for level, near in ((Certainty.DENIED, denied), (Certainty.EXPECTED, expected)):
            if near:
                return level, tuple(dict.fromkeys(c.text for c, _ in near))
        return None
