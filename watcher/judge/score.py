"""Event and indicator scores (DESIGN §5): weight × strength × source tier × corroboration.

Pure. Corroboration counts independent publishers, so ten copies of one syndicated
story count as one source.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from watcher.config import Config, Indicator
from watcher.models import Certainty, Event, Match

CERTAINTY_FACTOR = {Certainty.CONFIRMED: 1.0, Certainty.EXPECTED: 0.5, Certainty.DENIED: 0.25}


def corroboration(sources: int) -> float:
    """1 source → 1.0, 2 → 1.5, 4 → 2.0: more independent outlets, diminishing returns."""
    return 1.0 + 0.5 * math.log2(max(sources, 1))


def score_match(match: Match, ind: Indicator, tier: float = 1.0) -> float:
    """One report on its own: weight × strength/2 × tier × certainty factor (no corroboration)."""
    return round(ind.weight * match.strength / 2.0 * tier * CERTAINTY_FACTOR[match.certainty], 3)


@dataclass(frozen=True)
class ScoreParts:
    """The factors of an event's score, for `watcher explain`."""

    weight: float
    strength: float            # the strongest report's match strength
    tier: float                # the best source tier's factor
    sources: int               # independent sources
    certainty: Certainty

    @property
    def corroboration(self) -> float:
        return corroboration(self.sources)

    @property
    def value(self) -> float:
        return round(self.weight * self.strength / 2.0 * self.tier * self.corroboration
                     * CERTAINTY_FACTOR[self.certainty], 2)

    def arithmetic(self) -> str:
        """'weight 5 × strength/2 4 × tier 1.3 × corroboration 1.5 (2 sources) × confirmed 1
        = 39.0'."""
        return (f"weight {self.weight:g} × strength/2 {self.strength / 2:g} × tier {self.tier:g} × "
                f"corroboration {self.corroboration:.2f} ({self.sources} independent source(s)) × "
                f"{self.certainty.value} {CERTAINTY_FACTOR[self.certainty]:g} = {self.value:g}")


def score_parts(event: Event, config: Config) -> ScoreParts:
    """weight × strength × source tier × corroboration × certainty, as separate factors."""
    tier = max(config.tier_factor(m.tier) for m in event.items)
    return ScoreParts(config.indicator(event.indicator).weight,
                      max(m.match.strength for m in event.items), tier,
                      event.independent or len(event.sources), event.certainty)


def score_event(event: Event, config: Config) -> float:
    """One number per event, comparable across indicators."""
    return score_parts(event, config).value


def score_events(events: list[Event], config: Config) -> list[Event]:
    """The events with their scores, strongest first (new values; the input is left as it was)."""
    scored = [replace(ev, score=score_event(ev, config)) for ev in events]
    return sorted(scored, key=lambda e: (-e.score, e.first_seen))
