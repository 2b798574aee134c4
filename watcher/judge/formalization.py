"""How far Kazakhstan's own accession has gone: announced → signed → … → ratified. Pure.

Formalization completes the baseline rather than following it up (DESIGN §6), so it is a line
of progress, never a track. A stage is reached by a corroborated, confirmed news event of its
indicators; where one indicator reports several stages (`ratification`: the bill, the
Constitutional Council, the vote, the law), the stage's own `match` rule, in the rule
language, tells them apart on the event's reports. The furthest stage reached is where the
accession stands (an earlier step nobody reported is taken as passed).
"""

from __future__ import annotations

from datetime import datetime

from watcher.config import Config, Examples, Indicator
from watcher.judge.counting import StageOf
from watcher.judge.match import Matcher
from watcher.models import Event, Formalization, Judgement, MatchedItem, Reason, StageProgress

_COMPILED: dict[int, tuple[Config, Matcher]] = {}       # per config object, kept alive with it


def _stage_matcher(config: Config) -> Matcher:
    """The stages' rules compiled as one matcher (a stage is a pseudo-indicator), once per config."""
    held = _COMPILED.get(id(config))
    if held is not None and held[0] is config:
        return held[1]
    pseudo = [Indicator.model_construct(
        id=s.id, group="formalization", title=s.title, source="criterion.formalization",
        weight=1.0, stance="momentum", contract=False, min_score=0.0,
        fields={"title": 2.0, "summary": 1.0}, match=s.match,
        examples=Examples.model_construct(match=[], no_match=[]), alert=None)
        for s in config.criterion.formalization if s.match is not None]
    matcher = Matcher(config.model_copy(update={"indicators": pseudo}))
    if len(_COMPILED) > 16:
        _COMPILED.clear()
    _COMPILED[id(config)] = (config, matcher)
    return matcher


def stage_rule(config: Config) -> StageOf:
    """The furthest stage an event's news reports reach (None: none of its stages' rules)."""
    matcher = _stage_matcher(config)

    def stage_of(event: Event, news: list[MatchedItem]) -> str | None:
        stages = config.stages_of(event.indicator)
        if any(s.match is not None for s in stages):
            passed = {m.indicator for r in news for m in matcher.match(r.title, r.summary)}
        else:
            passed = set()
        reached = [s.id for s in stages if s.match is None or s.id in passed]
        return reached[-1] if reached else None
    return stage_of


def progress(config: Config, judged: list[Judgement], now: datetime) -> Formalization | None:
    """Each stage with the date it was reached and its evidence; None without stages."""
    stages = config.criterion.formalization
    if not stages:
        return None
    today = now.date()
    out = []
    for s in stages:
        evidence = tuple(sorted((j for j in judged if j.stage == s.id and j.reason is Reason.FORMALIZATION
                                 and j.qualified is not None and j.qualified <= today),
                                key=lambda j: j.qualified or today))
        if not s.indicators:                # the announcement: the baseline itself
            reached = config.baseline.date if now >= config.baseline_at else None
        else:
            reached = evidence[0].qualified if evidence else None
        out.append(StageProgress(s.id, s.title, reached, evidence))
    pending = tuple(j for j in judged if j.stage is not None and j.candidate)
    return Formalization(tuple(out), pending)
