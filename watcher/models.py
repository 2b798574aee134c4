"""The typed data that flows between stages (one type per stage, no ORM here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum


class Certainty(str, Enum):
    """How firmly a report says the thing happened."""

    CONFIRMED = "confirmed"
    EXPECTED = "expected"
    DENIED = "denied"


@dataclass(frozen=True)
class Item:
    """One feed entry, parsed and cleaned: what `store` keeps and `match` reads."""

    feed_id: str
    key: str                      # identity in the feed: guid, else link, else content hash
    title: str
    summary: str
    url: str
    published: datetime | None    # UTC, aware
    lang: str | None = None
    source: str | None = None     # the original publisher's domain (else name) when an
                                  # aggregator names it: the independent-source key
    publisher: str | None = None  # the publisher's name, as the aggregator or the title gives it


@dataclass(frozen=True)
class StoredItem:
    """An item as stored, with its row id (what `match` and `explain` work on)."""

    id: int
    item: Item
    host: str
    seen_at: datetime


@dataclass(frozen=True)
class Hit:
    """One term of a rule found in one field: the evidence shown to analysts."""

    term: str
    field: str
    clause: str                   # all | any | near


@dataclass(frozen=True)
class Match:
    """An item's match against one indicator."""

    indicator: str
    strength: float               # Σ field weights of distinct terms hit
    certainty: Certainty
    hits: tuple[Hit, ...]
    cues: tuple[str, ...] = ()    # the certainty cues found ("reportedly", "signed", ...)

    def why(self, most: int = 5) -> str:
        """One line an analyst reads: which terms hit where (headline first), and the certainty."""
        fields: dict[str, list[str]] = {}
        for h in sorted(self.hits, key=lambda h: h.field != "title"):
            fields.setdefault(h.term, [])
            if h.field not in fields[h.term]:
                fields[h.term].append(h.field)
        shown = list(fields.items())[:most]
        text = ", ".join(f"“{term}” in {'/'.join(f)}" for term, f in shown)
        if len(fields) > most:
            text += f" (+{len(fields) - most} more)"
        if self.certainty is not Certainty.CONFIRMED:
            cue = f" ({', '.join(self.cues)})" if self.cues else ""
            text += f"; {self.certainty.value}{cue}"
        return text


@dataclass(frozen=True)
class MatchedItem:
    """A stored item with one of its matches: the unit events are built from."""

    item_id: int
    feed_id: str
    title: str
    url: str
    published: datetime           # UTC; falls back to when it was first seen
    seen_at: datetime             # UTC; when this service first stored it
    host: str                     # independent-source key (publisher host)
    tier: str
    match: Match
    summary: str = ""             # to tell a syndicated copy from an independent report


@dataclass(frozen=True)
class Event:
    """Items about one happening for one indicator, with their independent sources.

    Built once by `events.cluster`; `score.score_events` returns scored copies."""

    indicator: str
    items: list[MatchedItem] = field(default_factory=list)
    score: float = 0.0
    independent: int = 0          # independent sources (copies of one text count once)

    @property
    def lead(self) -> MatchedItem:
        """The item that represents the event: the strongest, then the earliest."""
        return max(self.items, key=lambda m: (m.match.strength, -m.published.timestamp()))

    @property
    def first_seen(self) -> datetime:
        return min(m.published for m in self.items)

    @property
    def sources(self) -> list[str]:
        return sorted({m.host for m in self.items})

    @property
    def certainty(self) -> Certainty:
        """Confirmed if any report confirms it, else expected if any expects it, else denied."""
        values = {m.match.certainty for m in self.items}
        for c in (Certainty.CONFIRMED, Certainty.EXPECTED):
            if c in values:
                return c
        return Certainty.DENIED


@dataclass(frozen=True)
class FeedStatus:
    """A feed's health as ops and analysts see it."""

    feed_id: str
    url: str
    tier: str
    last_status: int | None
    last_error: str | None
    failures: int
    last_success_at: datetime | None
    last_attempt_at: datetime | None
    next_due_at: datetime | None
    items_total: int
    retired: bool = False


class CriterionState(str, Enum):
    """DESIGN §6."""

    WATCHING = "WATCHING"
    FOLLOW_UP = "FOLLOW-UP"
    WARN = "WARN"
    HIGH_WATER = "HIGH-WATER"


@dataclass(frozen=True)
class Coverage:
    """How much of the watch was actually observed between the baseline and now."""

    days: int                     # days in the window
    feeds: int                    # feeds configured
    feed_days_observed: int       # (feed, day) pairs with at least one successful poll
    failing_now: int              # feeds failing at the moment
    items: int                    # items stored in the window
    recent_items: int             # items stored in the last four weeks
    poor: bool                    # below the criterion's coverage thresholds

    @property
    def share(self) -> float:
        """Observed feed-days out of all feed-days in the window."""
        expected = self.days * self.feeds
        return self.feed_days_observed / expected if expected else 0.0

    @property
    def per_week(self) -> float:
        return self.items / max(self.days / 7, 1.0)

    @property
    def recent_per_week(self) -> float:
        return self.recent_items / min(4.0, max(self.days / 7, 1.0))

    def sentence(self) -> str:
        """'82% of feed-days observed (30 feeds, 2 failing now); 240 items a week (310 lately)'."""
        return (f"{self.share:.0%} of feed-days observed since the baseline ({self.feeds} feeds, "
                f"{self.failing_now} failing now); {self.per_week:.0f} items a week "
                f"({self.recent_per_week:.0f} in the last four weeks)")


@dataclass(frozen=True)
class CriterionVerdict:
    """Where the 6–12 month test stands on a given day, and why."""

    state: CriterionState
    now: datetime
    baseline: datetime
    warn_at: datetime
    expire_at: datetime
    counting_event: Event | None = None
    coverage: Coverage | None = None

    @property
    def days_since_baseline(self) -> int:
        return (self.now - self.baseline).days

    @property
    def days_to_warn(self) -> int:
        return (self.warn_at - self.now).days

    @property
    def days_to_expire(self) -> int:
        return (self.expire_at - self.now).days

    def sentence(self) -> str:
        """The headline an analyst reads first."""
        d = self.days_since_baseline
        if self.state is CriterionState.FOLLOW_UP and self.counting_event is not None:
            ev = self.counting_event
            return (f"FOLLOW-UP: measurable follow-up seen {ev.first_seen:%d %b %Y} "
                    f"({ev.indicator}: “{ev.lead.title}”, "
                    f"{ev.independent or len(ev.sources)} independent source(s)); "
                    f"day {d} since the baseline.")
        if self.state is CriterionState.WATCHING:
            return (f"WATCHING: no measurable follow-up yet, day {d} since the baseline; "
                    f"{self.days_to_warn} days to the 6-month warning, "
                    f"{self.days_to_expire} to the 12-month high-water mark.")
        cov = self.coverage
        if cov is not None and cov.poor:
            return self._unestablished(d, cov)
        seen = f" Coverage: {cov.sentence()}." if cov is not None else ""
        if self.state is CriterionState.WARN:
            return (f"WARN: no measurable follow-up {d} days after the baseline; "
                    f"{self.days_to_expire} days left before this is the high-water mark.{seen}")
        return (f"HIGH-WATER: no measurable follow-up in the {d} days since the baseline: "
                f"the accession looks like the high-water mark of the expansion.{seen}")

    def _unestablished(self, d: int, cov: Coverage) -> str:
        """An absence claimed only as far as the watch saw: poor coverage is said first."""
        return (f"{self.state.value} (coverage poor): no measurable follow-up seen in the {d} days "
                f"since the baseline, but only {cov.sentence()}; this may be a gap in the watch "
                f"rather than an absence of follow-up.")


# --- what the store remembers beyond items, as the digest, alerts and status read it ------

@dataclass(frozen=True)
class Transition:
    """One change of the criterion's state, as stored (the first has no `previous`)."""

    id: int
    state: str
    previous: str | None
    at: datetime
    detail: str


@dataclass(frozen=True)
class ServiceRun:
    """One start of the service and the last moment it was seen alive (uptime)."""

    started_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True)
class IngestIssue:
    """A feed document read with errors: items after the error may be lost."""

    feed_id: str
    at: datetime
    detail: str


@dataclass(frozen=True)
class Silence:
    """Alerts for `indicator` (or "criterion") are off until `until`; the digest still says it."""

    indicator: str
    until: datetime
    reason: str
    since: datetime | None = None     # when it was set


@dataclass(frozen=True)
class AlertMark:
    """What an alert covered (an item of an indicator, or a criterion transition), so it never
    alerts twice; `status` says whether it was queued or silenced."""

    subject: str                  # indicator id, or "criterion"
    ref: int                      # item id, or criterion_transition id
    status: str                   # queued | silenced
