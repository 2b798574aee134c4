"""The digest's first screen: the verdict per track in plain words, and what changed this week.
Pure.

What a reader on a phone sees before scrolling (issue 14): each track's state with its date,
a warning when a track's follow-up rests on one source or on an analyst's confirmation alone,
the accession's progress; then this week's new happenings, how many count, the candidates
awaiting review and the state changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from watcher.models import CriterionState, CriterionVerdict, TrackVerdict, Transition
from watcher.text import truncate


class Listed(Protocol):
    """What this week's figures read from a listed happening."""

    @property
    def counts(self) -> bool: ...


@dataclass(frozen=True)
class TrackLine:
    """One track on the first screen: 'Deals · FOLLOW-UP · since 11 Mar 2026 …'."""

    id: str
    title: str
    state: str
    words: str                    # the state in plain words, with its date
    warning: str | None = None    # what the follow-up rests on, when that is thin


@dataclass(frozen=True)
class ThisWeek:
    """What changed since the last digest."""

    new: int                      # new happenings
    counting: int                 # of which count as follow-up
    candidates: int               # awaiting an analyst's review (all of them, not only new)
    since: datetime | None
    changes: list[str] = field(default_factory=list)   # state changes, one sentence each

    def figures(self) -> str:
        """'3 new, 1 counting, 2 to review, no state change'."""
        moved = len(self.changes)
        change = ("no state change" if not moved
                  else f"{moved} state change{'s' if moved != 1 else ''}")
        return f"{self.new} new, {self.counting} counting, {self.candidates} to review, {change}"


def track_lines(verdict: CriterionVerdict) -> list[TrackLine]:
    """Each track's state in words, dated; the warning when its follow-up is thinly backed."""
    return [TrackLine(t.id, t.title, t.state.value, _words(t, verdict), _warning(t))
            for t in verdict.tracks]


def _words(t: TrackVerdict, v: CriterionVerdict) -> str:
    if t.state is CriterionState.FOLLOW_UP and t.since is not None:
        n = len(t.counting)
        first = truncate(t.counting[0].event.lead.title, 90) if t.counting else ""
        return (f"follow-up since {t.since:%d %b %Y}, {n} event{'s' if n != 1 else ''}"
                + (f": “{first}”" if first else ""))
    if t.state is CriterionState.WATCHING:
        return f"no follow-up yet; the 6-month mark is {v.warn_at:%d %b %Y}"
    if t.state is CriterionState.WARN:
        return f"no follow-up past the 6-month mark; the 12 months end {v.expire_at:%d %b %Y}"
    return f"no follow-up within the 12 months (to {v.expire_at:%d %b %Y})"


def _warning(t: TrackVerdict) -> str | None:
    """'rests on one source (state.gov)' or 'rests on an analyst's confirmation alone'."""
    if not t.counting:
        return None
    if all(j.backing == "analyst" for j in t.counting):
        return "rests on an analyst's confirmation alone"
    hosts = {j.event.lead.host for j in t.counting if j.backing != "analyst"}
    if all(j.sources <= 1 for j in t.counting) and len(hosts) == 1:
        official = all(j.official for j in t.counting if j.backing != "analyst")
        return f"rests on one {'official ' if official else ''}source"
    return None


def accession_line(verdict: CriterionVerdict) -> str | None:
    """'Formalization: accession ratified (22 Oct 2026)', or None without its stages."""
    f = verdict.formalization
    if f is None:
        return None
    when = f" ({f.stage.reached:%d %b %Y})" if f.stage and f.stage.reached else ""
    return f"Formalization: {f.phrase()}{when}"


def coverage_warning(verdict: CriterionVerdict) -> str | None:
    """When an absence is claimed on a thin watch, the first screen says so."""
    cov = verdict.coverage
    absent = any(t.state in (CriterionState.WARN, CriterionState.HIGH_WATER)
                 for t in verdict.tracks) or (not verdict.tracks and verdict.state in
                                              (CriterionState.WARN, CriterionState.HIGH_WATER))
    if cov is None or not cov.poor or not absent:
        return None
    return f"Coverage poor: {cov.sentence()}; an absence may be a gap in the watch."


def this_week(listed: Sequence[Listed], transitions: list[Transition], since: datetime | None,
              candidates: int) -> ThisWeek:
    """The figures of the week from the happenings listed as new, and the changes stored."""
    moved = [t for t in transitions if t.previous is not None and (since is None or t.at > since)]
    changes = [f"{transition_subject(t)} changed {t.previous} → {t.state} on {t.at:%d %b %Y}."
               for t in moved]
    return ThisWeek(len(listed), sum(1 for e in listed if e.counts), candidates, since, changes)


def transition_subject(t: Transition) -> str:
    """What changed: 'Criterion', 'Track deals', 'Accession'."""
    if t.track is None:
        return "Criterion"
    return "Accession" if t.track == "formalization" else f"Track {t.track}"


def preheader(verdict: CriterionVerdict, week: ThisWeek) -> str:
    """The preview line mail clients show under the subject: each track's state, the week."""
    parts = []
    for t in verdict.tracks:
        since = f" since {t.since:%d %b %Y}" if t.since else ""
        parts.append(f"{t.title}: {t.state.value}{since}")
    head = "; ".join(parts) if len(verdict.tracks) > 1 else verdict.state.value
    return truncate(f"{head} · this week {week.figures()}", 200)


def headline(verdict: CriterionVerdict) -> str:
    """The first screen's title: 'FOLLOW-UP on 1 of 3 tracks', 'WARN: no follow-up on any
    track'; a file with one implicit track keeps its one-sentence verdict."""
    tracks = verdict.tracks
    if len(tracks) <= 1:
        return verdict.sentence()
    followed = sum(1 for t in tracks if t.state is CriterionState.FOLLOW_UP)
    if followed:
        return f"{verdict.state.value} on {followed} of {len(tracks)} tracks"
    return f"{verdict.state.value}: no follow-up on any track"


def position(verdict: CriterionVerdict) -> str:
    """'Day 389 since the baseline (06 Nov 2025), past the 12-month mark (06 Nov 2026)'."""
    v = verdict
    head = f"Day {v.days_since_baseline} since the baseline ({v.baseline:%d %b %Y})"
    if v.now >= v.expire_at:
        return f"{head}, past the 12-month mark ({v.expire_at:%d %b %Y})"
    if v.now >= v.warn_at:
        return f"{head}, past the 6-month mark; the 12 months end {v.expire_at:%d %b %Y}"
    return f"{head}; the 6-month mark is {v.warn_at:%d %b %Y}"
