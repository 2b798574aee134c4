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
        """'weight 5 × strength/2 4 × tier 1.3 × corroboration 1.5 (2 sources) × confirmed 1 = 39.0'."""
        return (f"weight {self.weight:g} × strength/2 {self.strength / 2:g} × tier {self.tier:g} × "
                f"corroboration {self.corroboration:.2f} ({self.sources} independent source(s)) × "
                f"{self.certainty.value} {CERTAINTY_FACTOR[self.certainty]:g} = {self.value:g}")


def score_parts(event: Event, config: Config) -> ScoreParts:
    """weight × strength × source tier × corroboration × certainty, as separate factors."""
    tier: float = max(config.tiers.get(m.tier, 1.0) for m in event.items)  # type: ignore[call-overload]
    return ScoreParts(config.indicator(event.indicator).weight,
                      max(m.match.strength for m in event.items), tier,
                      event.independent or len(event.sources), event.certainty)


def score_event(event: Event, config: Config) -> float:
    """One number per event, comparable across indicators."""
    return score_parts(event, config).value


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


@dataclass(frozen=True)
class BalanceItem:
    """One event on one side of the balance, as analysts read it."""

    indicator: str
    title: str
    url: str
    first_seen: datetime
    score: float
    certainty: str
    why: str


@dataclass(frozen=True)
class Side:
    """One side of the balance of evidence: how many events, their summed score, the strongest."""

    stance: str
    events: int
    score: float
    strongest: list[BalanceItem]
    denials: int = 0


@dataclass(frozen=True)
class Balance:
    """Momentum (a broader trend) against stall (a high-water mark) over the criterion window."""

    momentum: Side
    stall: Side

    @property
    def share(self) -> float | None:
        """Momentum's share of all scored evidence (None when there is none)."""
        total = self.momentum.score + self.stall.score
        return self.momentum.score / total if total else None

    def sentence(self) -> str:
        """'momentum 12 events (score 310.5) · stall 5 events (score 40.2), 3 of them denials'."""
        def side(s: Side) -> str:
            den = f", {s.denials} of them denials" if s.denials else ""
            return f"{s.stance} {s.events} event(s) (score {s.score:g}{den})"
        share = f"; momentum holds {self.share:.0%} of the weight" if self.share is not None else ""
        return f"{side(self.momentum)} · {side(self.stall)}{share}"


def stance_of(event: Event, config: Config) -> str:
    """An event's side: its indicator's stance, except that a denial always counts as stall
    ("Indonesia says it will not join" is evidence the wave stops here)."""
    if event.certainty is Certainty.DENIED:
        return "stall"
    return config.indicator(event.indicator).stance


def _distinct(events: list[Event]) -> list[Event]:
    """One happening once: an event sharing a report with a stronger one on the same side (the
    same story matched by two indicators, e.g. new_signatory and central_asia_c5) is dropped."""
    taken: set[int] = set()
    out = []
    for e in events:
        ids = {m.item_id for m in e.items}
        if not ids & taken:
            out.append(e)
        taken |= ids
    return out


def balance_of(events: list[Event], config: Config, now: datetime, top: int = 3) -> Balance:
    """Both sides over the window (baseline → now), each with its strongest events."""
    seen = [e for e in events if config.baseline_at <= e.first_seen <= now]
    sides = []
    for stance in ("momentum", "stall"):
        mine = _distinct(sorted((e for e in seen if stance_of(e, config) == stance),
                                key=lambda e: (-e.score, e.first_seen)))
        items = [BalanceItem(e.indicator, e.lead.title, e.lead.url, e.first_seen, e.score,
                             e.certainty.value, e.lead.match.why()) for e in mine[:top]]
        sides.append(Side(stance, len(mine), round(sum(e.score for e in mine), 2), items,
                          sum(1 for e in mine if e.certainty is Certainty.DENIED)))
    return Balance(sides[0], sides[1])
