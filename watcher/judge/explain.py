"""`watcher explain ITEM`: why a stored item matched (or nearly did), as lines an analyst reads.

Pure: the item, the config, the compiled matcher and the current events in, text lines out.
"""

from __future__ import annotations

from watcher.config import Config, Indicator, Rule, group_terms
from watcher.judge.counting import judge_event
from watcher.judge.formalization import stage_rule
from watcher.judge.genre import genre_of
from watcher.judge.match import Analysis, Matcher, RuleTrace
from watcher.judge.score import CERTAINTY_FACTOR, score_match, score_parts
from watcher.judge.terms import FIELDS
from watcher.judge.why import judgement_lines
from watcher.models import Certainty, CriterionVerdict, Event, Match, StoredItem

NO_EVENT = "  event: none stored for this indicator (stored matches predate the current rules?)"
SHOWN_TERMS = 8


def explain_item(stored: StoredItem, config: Config, matcher: Matcher, events: list[Event],
                 stored_matches: set[str], *, show_all: bool = False,
                 verdict: CriterionVerdict | None = None) -> list[str]:
    """Header, normalised text by clause, then one block per matched (or nearly matched) indicator.

    `verdict` (the criterion over `events`, with the analysts' decisions) says whether each
    event counts and why not; without it each event is judged without decisions."""
    it = stored.item
    feed = next((f for f in config.feeds if f.id == it.feed_id), None)
    tier_name = feed.tier if feed else "outlet"
    tier = config.tier_factor(tier_name)
    analysis = matcher.analyse(it.title, it.summary)
    when = (f"published {it.published:%Y-%m-%d %H:%M} UTC · " if it.published else "") + \
        f"seen {stored.seen_at:%Y-%m-%d %H:%M} UTC"
    who = f"{it.publisher} ({stored.host})" if it.publisher else stored.host
    head = f"item {stored.id} · feed {it.feed_id} · publisher {who} · tier {tier_name} (×{tier:g})"
    out = [head, when, f"url {it.url}",
           f"genre: {genre_of(it.title, it.url, tier_name).label()}", ""]
    out += _text_lines(analysis)
    matched = {m.indicator: m for m in analysis.matches}
    for ind in config.indicators:
        traces = [t for t in analysis.traces if t.indicator == ind.id]
        if ind.id in matched:
            out += _match_block(ind, matched[ind.id], traces, analysis, matcher, config, tier,
                                events, stored.id)
            out += _judgement(ind, events, stored.id, config, verdict)
        elif show_all or any(t.hits and t.missing == 1 for t in traces):   # a near miss
            out += _miss_block(ind, traces, matcher, config)
    if not matched:
        out += ["", "matches no indicator"]
    if set(matched) != stored_matches:
        stored_list = ", ".join(sorted(stored_matches)) or "none"
        out += ["", (f"note: the stored matches ({stored_list}) differ from the current rules; "
                     "run `watcher rematch` so events and the criterion follow them")]
    return out


def _text_lines(a: Analysis) -> list[str]:
    out = []
    for name in FIELDS:
        ws, clauses = a.text.words[name], a.text.clauses[name]
        parts: dict[int, list[str]] = {}
        for w, c in zip(ws, clauses):
            parts.setdefault(c, []).append(w)
        shown = " ‖ ".join(" ".join(p) for p in parts.values()) or "(empty)"
        out.append(f"{name + ':':<9}{shown[:900]}")
    return out + ["         (normalised words; ‖ separates clauses, which scope certainty cues)"]


def _match_block(ind: Indicator, m: Match, traces: list[RuleTrace], a: Analysis, matcher: Matcher,
                 config: Config, tier: float, events: list[Event], item_id: int) -> list[str]:
    best = max((t for t in traces if t.passed), key=lambda t: t.strength)
    track = config.track_of(ind.id)
    counts = (f"counts for the {track} track" if track else
              "formalization (completes the baseline)" if config.stages_of(ind.id) else
              "not a follow-up indicator")
    out = ["", f"✔ {ind.id} — {ind.title}", f"  {ind.stance} · weight {ind.weight:g} · {counts}"]
    out += _rule_lines(ind, best.number, matcher, config)
    out.append("  hits: " + " · ".join(f"{h.clause} “{h.term}” in {h.field}" for h in m.hits))
    arithmetic = " + ".join(f"“{t}” {f} {w:g}" for t, f, w in best.parts)
    out.append(f"  strength {m.strength:g} = {arithmetic} (min_score {ind.min_score:g})")
    out.append("  certainty: " + _certainty_line(m, a, matcher))
    out.append(f"  this report alone: weight {ind.weight:g} × strength/2 {m.strength / 2:g} "
               f"× tier {tier:g} × {m.certainty.value} {CERTAINTY_FACTOR[m.certainty]:g} "
               f"= {score_match(m, ind, tier):g}")
    return out + _event_lines(ind, events, item_id, config)


def _event_lines(ind: Indicator, events: list[Event], item_id: int, config: Config) -> list[str]:
    ev = _event_of(ind, events, item_id)
    if ev is None:
        return [NO_EVENT]
    others = [i for i in ev.items if i.item_id != item_id]
    independent = ev.independent or len(ev.sources)
    reports = f"{len(ev.items)} report(s) since {ev.first_seen:%Y-%m-%d}"
    out = [f"  event: {reports}, lead “{ev.lead.title}”",
           f"    publishers: {', '.join(ev.sources)} ({independent} independent)"]
    out += [f"    with: [{i.item_id}] {i.host}: {i.title}" for i in others[:5]]
    if len(others) > 5:
        out.append(f"    … and {len(others) - 5} more")
    threshold = f"threshold {config.criterion.threshold:g}"
    out.append(f"    score = {score_parts(ev, config).arithmetic()} ({threshold})")
    return out


def _event_of(ind: Indicator, events: list[Event], item_id: int) -> Event | None:
    """The event of this indicator that holds the item."""
    return next((e for e in events if e.indicator == ind.id
                 and any(i.item_id == item_id for i in e.items)), None)


def _judgement(ind: Indicator, events: list[Event], item_id: int, config: Config,
               verdict: CriterionVerdict | None) -> list[str]:
    """The counting rule on the item's event: the facts it looked at and its answer."""
    ev = _event_of(ind, events, item_id)
    if ev is None:
        return []
    j = verdict.judgement(ev) if verdict is not None else None
    return judgement_lines(j or judge_event(ev, config, (), stage_rule(config)))


def _certainty_line(m: Match, a: Analysis, matcher: Matcher) -> str:
    if m.certainty is Certainty.CONFIRMED:
        return "confirmed (no denial or expectation cue in the clauses where its terms hit)"
    places = []
    for cue in m.cues:
        for name, positions in matcher.where(cue, a.found).items():
            clause = a.text.clauses[name][positions[0]]
            words = [w for w, c in zip(a.text.words[name], a.text.clauses[name]) if c == clause]
            places.append(f"“{cue}” in {name} clause “{' '.join(words)}”")
            break
    return f"{m.certainty.value} — cue {'; '.join(places) or ', '.join(m.cues)}"


def _miss_block(ind: Indicator, traces: list[RuleTrace], matcher: Matcher,
                config: Config) -> list[str]:
    out = ["", f"✘ {ind.id} — {ind.title} (near miss)"]
    for t in traces:
        hits = ", ".join(f"“{h.term}” in {h.field}" for h in t.hits) or "no terms"
        out.append(f"  rule {t.number}: {t.failed}; hits: {hits}")
    return out + _rule_lines(ind, None, matcher, config)


def _rule_lines(ind: Indicator, passed: int | None, matcher: Matcher, config: Config) -> list[str]:
    out = []
    for n, rule in enumerate(ind.rules, 1):
        label = f"rule {n} of {len(ind.rules)}" if len(ind.rules) > 1 else "rule"
        mark = " (matched)" if n == passed and len(ind.rules) > 1 else ""
        out.append(f"  {label}{mark}: " + "; ".join(_clauses(rule, config)))
    return out


def _clauses(rule: Rule, config: Config) -> list[str]:
    out = []
    for group in rule.all:
        terms, only = group_terms(group)
        out.append(f"all{'@' + only if only else ''} {_terms(terms, config)}")
    if rule.any:
        out.append(f"any {_terms(list(rule.any), config)}")
    for near in rule.near:
        where = f"@{near.field}" if near.field else ""
        out.append(f"near{where}({near.within}) "
                   f"{_terms(near.a, config)} ~ {_terms(near.b, config)}")
    anywhere = [t for v in rule.none for t in group_terms(v)[0] if group_terms(v)[1] is None]
    if anywhere:
        out.append(f"none {_terms(anywhere, config)}")
    for veto in rule.none:
        terms, only = group_terms(veto)
        if only:
            out.append(f"none@{only} {_terms(terms, config)}")
    return out


def _terms(terms: list[str], config: Config) -> str:
    """A term list, with named sets shown by name and long lists cut."""
    names = [k for k, v in config.terms.items() if v and set(v) <= set(terms)]
    names = [k for k in names
             if not any(set(config.terms[k]) < set(config.terms[j]) for j in names)]
    rest = [t for t in terms if not any(t in config.terms[k] for k in names)]
    shown = [f"${k}" for k in names] + [f"“{t}”" for t in rest[:SHOWN_TERMS]]
    more = f" …(+{len(rest) - SHOWN_TERMS})" if len(rest) > SHOWN_TERMS else ""
    return "[" + ", ".join(shown) + more + "]"
