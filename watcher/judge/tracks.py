"""The criterion per track (DESIGN §6): a state for each kind of follow-up the Alert names.

Pure: events, decisions and "now" in, the verdict out. Each track is WATCHING until the
6-month mark, WARN until the 12-month mark and HIGH-WATER after it, unless one of its events
counts: then it is FOLLOW-UP from the day that event was corroborated, for good (the Alert
asks whether follow-up occurred within the window). The overall state is FOLLOW-UP when any
track is, as the Alert reads; otherwise the tracks share the window's state.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from watcher.config import Config, Track
from watcher.judge.counting import judge_events
from watcher.judge.criterion import add_months
from watcher.judge.formalization import in_order, progress, stage_rule
from watcher.models import (
    Coverage,
    CriterionState,
    CriterionVerdict,
    Decision,
    Event,
    Judgement,
    TrackVerdict,
)


def evaluate_tracks(config: Config, events: list[Event], now: datetime,
                    coverage: Coverage | None = None,
                    decisions: Sequence[Decision] = ()) -> CriterionVerdict:
    """Where each track, the accession's formalization and the whole criterion stand at `now`,
    from the events seen up to then and the analysts' decisions."""
    baseline = config.baseline_at
    warn_at = add_months(baseline, config.criterion.warn_months)
    expire_at = add_months(baseline, config.criterion.expire_months)
    judged = in_order(config, judge_events(events, config, decisions, stage_rule(config)))
    window = _window_state(now, warn_at, expire_at)
    tracks = tuple(_track(t, config, judged, now, window) for t in config.tracks)
    counting = sorted((j for t in tracks for j in t.counting),
                      key=lambda j: (j.qualified, -j.event.score))
    state = CriterionState.FOLLOW_UP if counting else window
    return CriterionVerdict(state, now, baseline, warn_at, expire_at,
                            counting[0].event if counting else None, coverage, tracks,
                            progress(config, judged, now), tuple(judged), tuple(decisions))


def _window_state(now: datetime, warn_at: datetime, expire_at: datetime) -> CriterionState:
    if now >= expire_at:
        return CriterionState.HIGH_WATER
    if now >= warn_at:
        return CriterionState.WARN
    return CriterionState.WATCHING


def _track(track: Track, config: Config, judged: list[Judgement], now: datetime,
           window: CriterionState) -> TrackVerdict:
    today = now.date()
    mine = [j for j in judged if j.track == track.id]
    counting = tuple(sorted(_distinct([j for j in mine if j.counts and j.qualified is not None
                                       and j.qualified <= today and j.happened <= today]),
                            key=lambda j: (j.qualified or today, -j.event.score)))
    candidates = tuple(_distinct([j for j in mine if j.candidate]))
    state = CriterionState.FOLLOW_UP if counting else window
    return TrackVerdict(track.id, track.title, tuple(config.resolve(track.indicators)), state,
                        counting[0].qualified if counting else None, counting, candidates)


def _distinct(judged: list[Judgement]) -> list[Judgement]:
    """One happening once: of events sharing a report (the same story under two indicators of
    one track, e.g. new_signatory and central_asia_c5), the strongest stays."""
    taken: set[int] = set()
    out = []
    for j in sorted(judged, key=lambda j: (-j.event.score, j.happened, j.id)):
        ids = {m.item_id for m in j.event.items}
        if ids.isdisjoint(taken):
            out.append(j)
        taken |= ids
    return out
