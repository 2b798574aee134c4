"""`watcher eval`: the matcher against labeled headlines (../shared/devset format). Pure."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from watcher.config import Config, config_lines
from watcher.errors import WatcherError
from watcher.judge.match import Analysis, Matcher
from watcher.judge.publisher import without_publisher
from watcher.models import Certainty, Match


@dataclass(frozen=True)
class Labeled:
    id: str
    title: str
    summary: str
    labels: frozenset[str]
    lang: str = "?"
    publisher: str | None = None


@dataclass
class Evaluation:
    """Counts per indicator, the confusions, and every mistake with its evidence."""

    indicators: list[str]
    tp: Counter[str] = field(default_factory=Counter)
    fp: Counter[str] = field(default_factory=Counter)
    fn: Counter[str] = field(default_factory=Counter)
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    mistakes: list[str] = field(default_factory=list)
    none_total: int = 0
    none_flagged: int = 0
    titles_only: bool = False
    # the same counts per language of the item (its `lang`), micro over the indicators
    lang_tp: Counter[str] = field(default_factory=Counter)
    lang_fp: Counter[str] = field(default_factory=Counter)
    lang_fn: Counter[str] = field(default_factory=Counter)
    lang_none: Counter[str] = field(default_factory=Counter)
    lang_none_flagged: Counter[str] = field(default_factory=Counter)

    def prf(self, ind: str | None = None) -> tuple[float, float, float]:
        keys = [ind] if ind else self.indicators
        return _prf(*(sum(c[k] for k in keys) for c in (self.tp, self.fp, self.fn)))

    def prf_lang(self, lang: str) -> tuple[float, float, float]:
        """Micro precision, recall and F1 over the items in one language."""
        return _prf(self.lang_tp[lang], self.lang_fp[lang], self.lang_fn[lang])

    @property
    def languages(self) -> list[str]:
        return sorted(set(self.lang_none) | set(self.lang_tp) | set(self.lang_fp)
                      | set(self.lang_fn))


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def load_labeled(path: Path) -> list[Labeled]:
    """Read a JSON-lines file of labeled items; a bad line is an error naming the line."""
    out = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise WatcherError(f"{path}: cannot read: {exc.strerror}") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            publisher = d.get("publisher") or d.get("source")
            out.append(Labeled(str(d["id"]), d["title"], d.get("summary") or "",
                               frozenset(d.get("labels") or []), str(d.get("lang") or "?"),
                               publisher if isinstance(publisher, str) else None))
        except (ValueError, KeyError, TypeError) as exc:
            raise WatcherError(f"{path}:{n}: not a labeled item ({exc})") from None
    return out


def hits(matches: list[Match], indicators: set[str]) -> dict[str, Match]:
    """Matches that count as a prediction: a denial is not a hit."""
    return {m.indicator: m for m in matches
            if m.indicator in indicators and m.certainty is not Certainty.DENIED}


def evaluate_matcher(matcher: Matcher, items: list[Labeled], indicators: list[str],
                     titles_only: bool = False) -> Evaluation:
    """Micro and per-indicator precision/recall over `indicators`; 'none' items counted apart.

    `titles_only` blanks every summary: half the shipped feeds (Google News searches) carry
    only a headline, so the rules must be measured on what those feeds give. A publisher's
    name appended to a title (" - The Astana Times") is cut off first, as the parse stage
    does (the item's `publisher` field names it, if it has one)."""
    ev = Evaluation(indicators, titles_only=titles_only)
    wanted = set(indicators)
    for it in items:
        title = without_publisher(it.title, it.publisher)
        a = matcher.analyse(title, "" if titles_only else it.summary)
        _count(ev, it, a, hits(a.matches, wanted))
    return ev


def _count(ev: Evaluation, it: Labeled, a: Analysis, got: dict[str, Match]) -> None:
    """Add one item's outcome to the counts (overall, per indicator, per language)."""
    truth = set(it.labels) & set(ev.indicators)
    if "none" in it.labels:
        ev.none_total += 1
        ev.none_flagged += bool(got)
        ev.lang_none[it.lang] += 1
        ev.lang_none_flagged[it.lang] += bool(got)
    for ind in ev.indicators:
        if ind in got and ind in truth:
            ev.tp[ind] += 1
            ev.lang_tp[it.lang] += 1
        elif ind in got:
            ev.fp[ind] += 1
            ev.lang_fp[it.lang] += 1
            for t in truth or {"none"}:
                ev.confusion[(t, ind)] += 1
            ev.mistakes.append(f"FP {ind:<26} {it.id}: {it.title}\n"
                               f"   evidence: {got[ind].why()}")
        elif ind in truth:
            ev.fn[ind] += 1
            ev.lang_fn[it.lang] += 1
            for g in set(got) or {"none"}:
                ev.confusion[(ind, g)] += 1
            ev.mistakes.append(f"FN {ind:<26} {it.id}: {it.title}\n"
                               f"   matched instead: {', '.join(sorted(got)) or 'nothing'}\n"
                               f"   {miss_evidence(ind, a)}")


def miss_evidence(ind: str, a: Analysis) -> str:
    """Why an indicator did not count: its match was denied, or how its closest rule failed."""
    for m in a.matches:
        if m.indicator == ind:               # matched, but the report denies it
            return f"denied, so no hit — evidence: {m.why()}"
    traces = [t for t in a.traces if t.indicator == ind]
    if not traces:
        return "closest rule: none (no such indicator)"
    t = min(traces, key=lambda t: (t.missing, -len(t.hits)))
    found = ", ".join(dict.fromkeys(f"“{h.term}” in {h.field}" for h in t.hits)) or "no terms"
    return f"closest rule {t.number}: {t.failed}; hits: {found}"


def format_evaluation(ev: Evaluation) -> str:
    """The table `watcher eval` prints."""
    lines = [f"{'indicator':<28}{'P':>6}{'R':>6}{'F1':>6}{'TP':>5}{'FP':>5}{'FN':>5}"]
    for ind in ev.indicators:
        p, r, f = ev.prf(ind)
        lines.append(f"{ind:<28}{p:6.2f}{r:6.2f}{f:6.2f}{ev.tp[ind]:5d}{ev.fp[ind]:5d}{ev.fn[ind]:5d}")
    p, r, f = ev.prf()
    lines.append(f"{'micro':<28}{p:6.2f}{r:6.2f}{f:6.2f}{sum(ev.tp.values()):5d}"
                 f"{sum(ev.fp.values()):5d}{sum(ev.fn.values()):5d}")
    rate = ev.none_flagged / ev.none_total if ev.none_total else 0.0
    lines.append(f"false-positive rate on 'none' items: {rate:.1%} "
                 f"({ev.none_flagged}/{ev.none_total})")
    if ev.titles_only:
        lines.append("(titles only: every summary blanked)")
    lines += _language_table(ev)
    lines.append("\nconfusions (labeled → predicted, 'none' = no indicator):")
    lines += [f"  {a} → {b}: {n}" for (a, b), n in ev.confusion.most_common()] or ["  (none)"]
    if ev.mistakes:
        lines.append("\nmistakes:")
        lines += ["  " + m for m in ev.mistakes]
    return "\n".join(lines)


def _language_table(ev: Evaluation) -> list[str]:
    """Micro figures per language of the items, and how many of its 'none' items were flagged."""
    head = f"  {'lang':<6}{'P':>6}{'R':>6}{'F1':>6}{'TP':>5}{'FP':>5}{'FN':>5}  FP on 'none'"
    lines = ["\nper language:", head]
    for lang in ev.languages:
        p, r, f = ev.prf_lang(lang)
        counts = f"{ev.lang_tp[lang]:5d}{ev.lang_fp[lang]:5d}{ev.lang_fn[lang]:5d}"
        lines.append(f"  {lang:<6}{p:6.2f}{r:6.2f}{f:6.2f}{counts}  "
                     f"{ev.lang_none_flagged[lang]}/{ev.lang_none[lang]}")
    return lines


def example_failures(config: Config, text: str, name: str) -> list[str]:
    """Each indicator's examples as tests (`watcher check`): a failure names the example's line
    in `text`, the file `name` holds."""
    lines = config_lines(text)
    matcher = Matcher(config)
    problems = []
    for i, ind in enumerate(config.indicators):
        for kind in ("match", "no_match"):
            for j, ex in enumerate(getattr(ind.examples, kind)):
                # a denial ("X will not join") is no match, as in `watcher eval`
                got = {m.indicator for m in matcher.match(ex.title, ex.summary)
                       if m.certainty is not Certainty.DENIED}
                if (ind.id in got) != (kind == "match"):
                    line = lines.get(("indicators", i, "examples", kind, j), 1)
                    verb = ("should match but does not" if kind == "match"
                            else "should not match but does")
                    problems.append(f"{name}:{line}: {ind.id}: example {verb}: {ex.title!r}")
    return problems + _stage_failures(config, lines, name)


def _stage_failures(config: Config, lines: dict[tuple[str | int, ...], int],
                    name: str) -> list[str]:
    """A formalization stage's examples (a confirmed report of the act, or not) and the
    occasion rule's (a report recalling the baseline's occasion, or not)."""
    from watcher.judge.refine import acts_reported, recalls_occasion, refinements
    matcher = refinements(config)
    problems = []
    for k, stage in enumerate(config.criterion.formalization):
        for kind in ("match", "no_match"):
            for j, ex in enumerate(getattr(stage.examples, kind, [])):
                if (stage.id in acts_reported(matcher, ex.title, ex.summary)) != (kind == "match"):
                    line = lines.get(("criterion", "formalization", k, "examples", kind, j), 1)
                    verb = ("should reach it but does not" if kind == "match"
                            else "should not reach it but does")
                    problems.append(
                        f"{name}:{line}: stage {stage.id}: example {verb}: {ex.title!r}")
    occasion = config.criterion.occasion
    for kind in ("match", "no_match"):
        for j, ex in enumerate(getattr(occasion.examples if occasion else None, kind, [])):
            if recalls_occasion(config, ex.title, ex.summary) != (kind == "match"):
                line = lines.get(("criterion", "occasion", "examples", kind, j), 1)
                verb = ("should recall it but does not" if kind == "match"
                        else "should not recall it but does")
                problems.append(f"{name}:{line}: occasion: example {verb}: {ex.title!r}")
    return problems


def format_summary(rows: list[tuple[str, Evaluation]]) -> str:
    """One line per labelled set and form (`watcher eval A B … --both`): micro P, R, F1 and the
    false alarms on 'none', then the same per language, so every set is measured at a glance
    with summaries and with titles only."""
    lines = [f"{'set':<16}{'form':<8}{'P':>6}{'R':>6}{'F1':>6}  FP on 'none'"]
    for name, ev in rows:
        p, r, f = ev.prf()
        form = "titles" if ev.titles_only else "full"
        lines.append(f"{name:<16}{form:<8}{p:6.2f}{r:6.2f}{f:6.2f}  "
                     f"{ev.none_flagged}/{ev.none_total}")
        langs = [f"{lang} {ev.prf_lang(lang)[0]:.2f}/{ev.prf_lang(lang)[1]:.2f}"
                 for lang in ev.languages]
        lines.append(f"{'':<16}{'':<8}  by language (P/R): " + " · ".join(langs))
    return "\n".join(lines)
