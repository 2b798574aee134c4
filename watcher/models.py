"""The typed data that flows between stages (one type per stage, no ORM here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from functools import cached_property


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

    def scant(self) -> str:
        """The sentence after 'but' or 'coverage poor:': 'only 19% of feed-days …', or 'none of
        the window observed …'."""
        text = self.sentence()
        return text if text.startswith("none") else f"only {text}"

    def sentence(self) -> str:
        """'82% of feed-days observed (30 feeds, 2 failing now); 240 items a week (310 lately)';
        a watch that saw none of the window says so, not '0 items a week' (items stored after
        the window closed are not in it)."""
        if not self.feed_days_observed and not self.items:
            return (f"none of the window observed ({self.feeds} feeds, {self.failing_now} "
                    "failing now): the watch began after it, or stored nothing in it")
        return (f"{self.share:.0%} of feed-days observed since the baseline ({self.feeds} feeds, "
                f"{self.failing_now} failing now); {self.per_week:.0f} items a week in the "
                f"window ({self.recent_per_week:.0f} in its last four weeks)")


@dataclass(frozen=True)
class Decision:
    """An analyst's call on an event, kept on its reports (items) so that it follows the
    happening through rematch, reload and growth: whichever event holds one of these items."""

    id: int
    items: frozenset[int]
    action: str                   # confirm | dismiss
    by: str
    at: datetime
    note: str = ""                # the note of a confirmation, the reason of a dismissal
    undone_at: datetime | None = None

    def line(self) -> str:
        """'dismissed by alice on 03 Dec 2025: an appeal, nobody joined'."""
        verb = "confirmed" if self.action == "confirm" else "dismissed"
        note = f": {self.note}" if self.note else ""
        undone = f" (undone {self.undone_at:%d %b %Y})" if self.undone_at else ""
        return f"{verb} by {self.by} on {self.at:%d %b %Y}{note}{undone}"


class Reason(str, Enum):
    """Why an event does not count, in the order they are tested (the first one is said)."""

    DISMISSED = "dismissed"
    OUTSIDE = "outside the window"
    GRACE = "within the grace period"
    FORMALIZATION = "formalization (completes the baseline)"
    NOT_FOLLOW_UP = "not a follow-up indicator"
    UNCONFIRMED = "expected or denied"
    OPINION = "opinion"
    BELOW = "below the threshold"
    # every report says someone welcomed or praised it: a reaction, not the step's report
    REACTION = "a reaction, not the step (awaiting review)"
    SINGLE_SOURCE = "single source awaiting review"
    # a formalization step reported before the step it follows, on ordinary evidence
    OUT_OF_ORDER = "a step out of order awaiting review"


@dataclass(frozen=True)
class Judgement:
    """One event against the counting rule (DESIGN §6): whether it counts, else the first
    reason, and the facts the rule looked at."""

    event: Event
    id: str                       # short id: "E" + its earliest stored report's id
    track: str | None             # the track it would count for; None for other indicators
    happened: date                # the happening's date (from the text, else the first report)
    sources: int                  # independent publishers of its news reports
    official: bool                # an official-tier source reported it (as news)
    genre: str                    # news, or opinion/analysis when every report is
    genre_cue: str
    decision: Decision | None
    reason: Reason | None         # None: it counts (or, for formalization, it qualifies)
    qualified: date | None = None  # when it became corroborated (sources, official or analyst)
    backing: str = ""             # what corroborates it: sources | official | analyst | ""
    stage: str | None = None      # the formalization stage it reaches

    @property
    def counts(self) -> bool:
        return self.reason is None and self.track is not None

    @property
    def candidate(self) -> bool:
        """Passes everything but corroboration: shown, listed for review, never flips a state."""
        return self.reason in (Reason.REACTION, Reason.SINGLE_SOURCE, Reason.OUT_OF_ORDER)

    @property
    def why_not(self) -> str | None:
        """The first reason in words ('dismissed by alice'), None when it counts."""
        if self.reason is Reason.DISMISSED and self.decision is not None:
            return f"dismissed by {self.decision.by}"
        return self.reason.value if self.reason is not None else None

    @property
    def corroboration(self) -> str:
        """What stands behind it: '3 independent sources', 'an official source', 'confirmed by
        alice'."""
        if self.backing == "analyst" and self.decision is not None:
            return f"confirmed by {self.decision.by}"
        if self.backing == "official":
            return "an official source"
        return f"{self.sources} independent source(s)"


@dataclass(frozen=True)
class TrackVerdict:
    """One kind of follow-up at a given day: its state, since when, and the events behind it."""

    id: str
    title: str
    indicators: tuple[str, ...]
    state: CriterionState
    since: date | None                     # when it reached FOLLOW-UP
    counting: tuple[Judgement, ...] = ()
    candidates: tuple[Judgement, ...] = ()


@dataclass(frozen=True)
class StageProgress:
    """One step of the accession's formalization and the events that reached it."""

    id: str
    title: str
    reached: date | None
    evidence: tuple[Judgement, ...] = ()


@dataclass(frozen=True)
class Formalization:
    """How far Kazakhstan's own accession has gone: shown as progress, never as follow-up."""

    stages: tuple[StageProgress, ...]
    pending: tuple[Judgement, ...] = ()    # single-source reports of a step, awaiting review

    @property
    def stage(self) -> StageProgress | None:
        """The furthest step reached (an earlier step not reported is taken as passed)."""
        return next((s for s in reversed(self.stages) if s.reached is not None), None)

    def reached_by(self) -> str:
        """What stands behind the furthest step: 'signed on 02 Apr 2026 (E12: an official
        source)'; '' when it is the announcement or nothing is reached."""
        now = self.stage
        if now is None or not now.evidence or now.reached is None:
            return ""
        j = now.evidence[0]
        return f"{now.title} on {now.reached:%d %b %Y} ({j.id}: {j.corroboration})"

    def phrase(self) -> str:
        """'accession announced, not yet signed' or 'accession ratified'."""
        now = self.stage
        if now is None:
            return f"accession not yet {self.stages[0].title}"
        after = self.stages[self.stages.index(now) + 1:]
        return f"accession {now.title}" + (f", not yet {after[0].title}" if after else "")


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
    tracks: tuple[TrackVerdict, ...] = ()
    formalization: Formalization | None = None
    judged: tuple[Judgement, ...] = ()     # every event, judged; see judgement()
    decisions: tuple[Decision, ...] = ()

    def judgement(self, event: Event) -> Judgement | None:
        """This verdict's judgement of an event (the same rule everywhere it is shown)."""
        return self._by_event.get(id(event))

    @cached_property
    def _by_event(self) -> dict[int, Judgement]:
        return {id(j.event): j for j in self.judged}

    @property
    def candidates(self) -> list[Judgement]:
        return [j for t in self.tracks for j in t.candidates]

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
        """The headline an analyst reads first (watcher.judge.sentence): with tracks, one
        clause per track."""
        from watcher.judge.sentence import verdict_sentence
        return verdict_sentence(self)


# --- what the store remembers beyond items, as the digest, alerts and status read it ------

@dataclass(frozen=True)
class Transition:
    """One change of the criterion's state, as stored (the first has no `previous`)."""

    id: int
    state: str
    previous: str | None
    at: datetime
    detail: str
    track: str | None = None      # a track's id, "formalization", or None for the whole criterion


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
