"""How far Kazakhstan's own accession has gone: announced → signed → … → ratified. Pure.

Formalization completes the baseline rather than following it up (DESIGN §6), so it is a line
of progress, never a track. A stage is reached by a corroborated news event of its indicators
whose reports say the act was done: where one indicator reports several stages
(`ratification`: the bill, the Constitutional Court, the Mazhilis, the Senate and the law), the
stage's own `match` rule must pass on a report, *confirmed* (a ratification "expected", "to be
voted", "in due time" reaches nothing), and only the reports that reach a stage corroborate it.
The furthest stage reached is where the accession stands (an earlier step nobody reported is
taken as passed); a step reported before the one it follows needs stronger evidence.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

from watcher.config import Config, Stage
from watcher.judge.counting import StageOf
from watcher.judge.events import independent_sources
from watcher.judge.refine import acts_reported, refinements
from watcher.models import (
    Event,
    Formalization,
    Judgement,
    MatchedItem,
    Reason,
    StageProgress,
)


def stage_rule(config: Config) -> StageOf:
    """The furthest stage an event's reports reach that they corroborate (else the furthest
    any reaches, pending), with the reports that reach it; (None, []) when none reaches one."""
    matcher = refinements(config)
    need = config.criterion.corroboration

    def stage_of(event: Event, news: list[MatchedItem]) -> tuple[str | None, list[MatchedItem]]:
        stages = config.stages_of(event.indicator)
        reach = {m.item_id: _furthest(stages, acts_reported(matcher, m.title, m.summary)
                                      if any(s.match is not None for s in stages) else set())
                 for m in news}
        furthest: tuple[str, list[MatchedItem]] | None = None
        for k in range(len(stages) - 1, -1, -1):
            backers = [m for m in news if reach[m.item_id] >= k]
            if not backers:
                continue
            furthest = furthest or (stages[k].id, backers)
            if independent_sources(backers) >= need or any(m.tier == "official" for m in backers):
                return stages[k].id, backers
        return furthest or (None, [])
    return stage_of


def _furthest(stages: list[Stage], acts: set[str]) -> int:
    """The index of the furthest stage a report reaches (-1: none)."""
    return max((k for k, s in enumerate(stages) if s.match is None or s.id in acts), default=-1)


def in_order(config: Config, judged: list[Judgement]) -> list[Judgement]:
    """A step that leaps over two or more earlier steps of its process, none of them reached
    (the Senate's vote with no bill, court ruling or Mazhilis vote seen), is more often a
    misreading than news: it reaches its stage only on stronger evidence (an official source,
    an analyst's confirmation, or one more independent source than usual); else it waits for
    review as OUT_OF_ORDER."""
    order = [s.id for s in config.criterion.formalization]
    strong = config.criterion.corroboration + 1
    reached: set[str | None] = set()
    out = dict(enumerate(judged))
    steps = sorted((k for k, j in out.items() if _qualifies(j)),
                   key=lambda k: order.index(out[k].stage or ""))
    for k in steps:                   # in the process's order: a step held back holds back the next
        j = out[k]
        before = _earlier_steps(config, j)
        if (len(before) >= 2 and not reached.intersection(before)
                and j.backing == "sources" and j.sources < strong
                and (j.decision is None or j.decision.action != "confirm")):
            out[k] = dataclasses.replace(j, reason=Reason.OUT_OF_ORDER, qualified=None, backing="")
        else:
            reached.add(j.stage)
    return list(out.values())


def _earlier_steps(config: Config, j: Judgement) -> list[str]:
    """The steps of the event's own process (its indicator's stages) before the one it reaches."""
    steps = [s.id for s in config.stages_of(j.event.indicator)]
    return steps[:steps.index(j.stage)] if j.stage in steps else []


def _qualifies(j: Judgement) -> bool:
    return j.stage is not None and j.reason is Reason.FORMALIZATION and j.qualified is not None


def progress(config: Config, judged: list[Judgement], now: datetime) -> Formalization | None:
    """Each stage with the date it was reached and its evidence; None without stages."""
    stages = config.criterion.formalization
    if not stages:
        return None
    today = now.date()

    def when(j: Judgement) -> date:
        return j.qualified or today
    out = []
    for s in stages:
        evidence = tuple(sorted((j for j in judged if j.stage == s.id and _qualifies(j)
                                 and when(j) <= today), key=when))
        if not s.indicators:                # the announcement: the baseline itself
            reached = config.baseline.date if now >= config.baseline_at else None
        else:
            reached = evidence[0].qualified if evidence else None
        out.append(StageProgress(s.id, s.title, reached, evidence))
    pending = tuple(j for j in judged if j.stage is not None and j.candidate)
    return Formalization(tuple(out), pending)
