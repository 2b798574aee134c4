"""Rules the criterion applies to a report beyond the indicators' (DESIGN §6): which formalization
step it reports (`criterion.formalization[].match`) and whether it recalls the baseline's own
occasion (`criterion.occasion`). Compiled once per config, as one matcher whose "indicators"
are these rules. Pure.
"""

from __future__ import annotations

from watcher.config import Config, Examples, Indicator, Rule
from watcher.judge.match import Matcher
from watcher.models import Certainty

OCCASION = "occasion"                  # the occasion rule's id among the stages' ids

_COMPILED: dict[int, tuple[Config, Matcher]] = {}       # per config object, kept alive with it


def refinements(config: Config) -> Matcher:
    """The stages' rules and the occasion rule compiled as one matcher, once per config."""
    held = _COMPILED.get(id(config))
    if held is not None and held[0] is config:
        return held[1]
    rules: list[tuple[str, str, list[Rule]]] = [
        (s.id, s.title, s.rules) for s in config.criterion.formalization if s.match is not None]
    if config.criterion.occasion is not None:
        rules.append((OCCASION, "the baseline's occasion", config.criterion.occasion.rules))
    pseudo = [Indicator.model_construct(
        id=rid, group="criterion", title=title, source="criterion", weight=1.0,
        stance="momentum", contract=False, min_score=0.0, fields={"title": 2.0, "summary": 1.0},
        match=match, examples=Examples.model_construct(match=[], no_match=[]), alert=None)
        for rid, title, match in rules]
    matcher = Matcher(config.model_copy(update={"indicators": pseudo}))
    if len(_COMPILED) > 16:
        _COMPILED.clear()
    _COMPILED[id(config)] = (config, matcher)
    return matcher


def acts_reported(matcher: Matcher, title: str, summary: str = "") -> set[str]:
    """The stages whose rule a report passes as a confirmed report of the act."""
    return {m.indicator for m in matcher.match(title, summary)
            if m.certainty is Certainty.CONFIRMED}


def recalls_occasion(config: Config, title: str, summary: str = "") -> bool:
    """Whether a report recalls the baseline's occasion (any certainty but a denial)."""
    if config.criterion.occasion is None:
        return False
    return any(m.indicator == OCCASION and m.certainty is not Certainty.DENIED
               for m in refinements(config).match(title, summary))
