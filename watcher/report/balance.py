"""The balance of evidence: momentum (a broader trend) against stall (a high-water mark),
each side's events summed and its strongest shown. A view of scored events; pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from watcher.config import Config
from watcher.models import Certainty, Event


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
            return f"{s.stance} {s.events} event(s) (weight {s.score:.0f}{den})"
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
