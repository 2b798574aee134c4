"""Event and indicator scores (DESIGN §5): weight × strength × source tier × corroboration.

Pure. Corroboration counts independent publishers, so ten copies of one syndicated
story count as one source.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from watcher.config import Config, Indicator
from watcher.models import Certainty, Event, Match

CERTAINTY_FACTOR = {Certainty.CONFIRMED: 1.0, Certainty.EXPECTED: 0.5, Certainty.DENIED: 0.25}


def corroboration(sources: int) -> float:
    """1 source → 1.0, 2 → 1.5, 4 → 2.0: more independent outlets, diminishing returns."""
    return 1.0 + 0.5 * math.log2(max(sources, 1))


def score_match(match: Match, ind: Indicator, tier: float = 1.0) -> float:
    """One report on its own: weight × strength/2 × tier × certainty factor (no corroboration)."""
    return round(ind.weight * match.strength / 2.0 * tier * CERTAINTY_FACTOR[match.certainty], 3)


def score_event(event: Event, config: Config) -> float:
    """One number per event, comparable across indicators."""
    ind = config.indicator(event.indicator)
    strength = max(m.match.strength for m in event.items) / 2.0
    tier = max(config.tiers.get(m.tier, 1.0) for m in event.items)  # type: ignore[call-overload]
    value = (ind.weight * strength * tier * corroboration(event.independent or len(event.sources))
             * CERTAINTY_FACTOR[event.certainty])
    return round(value, 2)


def score_events(events: list[Event], config: Config) -> list[Event]:
    """Set every event's score; strongest first."""
    for ev in events:
        ev.score = score_event(ev, config)
    return sorted(events, key=lambda e: (-e.score, e.first_seen))


@dataclass(frozen=True)
class IndicatorSummary:
    """One row of the digest's indicator table."""

    indicator: str
    title: str
    stance: str
    new_events: int
    total_events: int
    strongest: Event | None
    denied: int = 0               # denial events in the window (shown on the stall side)


def summarise(events: list[Event], config: Config, new_since: datetime | None) -> list[IndicatorSummary]:
    """Per indicator: events new since the last digest, all events in the window, the strongest."""
    rows = []
    for ind in config.indicators:
        mine = [e for e in events if e.indicator == ind.id and e.certainty is not Certainty.DENIED]
        new = [e for e in mine if new_since is None or max(m.seen_at for m in e.items) > new_since]
        strongest = max(mine, key=lambda e: e.score, default=None)
        denied = sum(1 for e in events if e.indicator == ind.id and e.certainty is Certainty.DENIED)
        rows.append(IndicatorSummary(ind.id, ind.title, ind.stance, len(new), len(mine), strongest,
                                     denied))
    return rows
