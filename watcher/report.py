"""Events, verdict and feed health → the digest model templates render. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from watcher.config import Config
from watcher.models import CriterionVerdict, Event, FeedStatus
from watcher.score import Balance, IndicatorSummary, balance_of, summarise
from watcher.text import truncate

SILENT_AFTER = timedelta(days=2)


@dataclass(frozen=True)
class EventView:
    """An event as a digest line: what happened, where it was reported, why it matched."""

    indicator: str
    indicator_title: str
    title: str
    url: str
    first_seen: datetime
    sources: list[str]
    score: float
    certainty: str
    why: str
    counts: bool
    independent: int = 1          # independent sources among `sources` (copies count once)


@dataclass(frozen=True)
class IndicatorSection:
    """The new events of one indicator, strongest first, cut at the digest's limit."""

    indicator: str
    title: str
    stance: str
    events: list[EventView]
    more: int


@dataclass(frozen=True)
class FeedProblem:
    feed_id: str
    url: str
    problem: str


@dataclass
class DigestReport:
    """Everything one digest says, before it becomes HTML or text."""

    period: str
    generated_at: datetime
    verdict: CriterionVerdict
    since: datetime | None
    rows: list[IndicatorSummary]
    sections: list[IndicatorSection]
    balance: Balance
    feeds_total: int
    feed_problems: list[FeedProblem] = field(default_factory=list)

    @property
    def state(self) -> str:
        return self.verdict.state.value

    @property
    def new_total(self) -> int:
        return sum(len(s.events) + s.more for s in self.sections)


def view(event: Event, config: Config, counts: bool) -> EventView:
    """Flatten one event for the templates; `why` is the lead report's evidence."""
    lead = event.lead
    return EventView(event.indicator, config.indicator(event.indicator).title,
                     truncate(lead.title, 300), lead.url, event.first_seen, event.sources,
                     event.score, event.certainty.value, lead.match.why(), counts,
                     event.independent or len(event.sources))


def feed_problems(feeds: list[FeedStatus], now: datetime) -> list[FeedProblem]:
    """Feeds ops must look at: retired, failing, or silent for long."""
    out = []
    for f in feeds:
        if f.retired:
            out.append(FeedProblem(f.feed_id, f.url, f"retired: {f.last_error}"))
        elif f.failures:
            out.append(FeedProblem(f.feed_id, f.url, f"{f.last_error} ({f.failures} failures in a row)"))
        elif f.last_success_at and now - f.last_success_at > SILENT_AFTER:
            out.append(FeedProblem(f.feed_id, f.url, f"no successful poll since {f.last_success_at:%Y-%m-%d %H:%M} UTC"))
    return out


def build_digest(config: Config, events: list[Event], verdict: CriterionVerdict,
                 feeds: list[FeedStatus], *, period: str, now: datetime,
                 since: datetime | None) -> DigestReport:
    """The digest for one period: `since` is when the last digest went out (None: first)."""
    from watcher.criterion import counts
    rows = summarise(events, config, since)
    sections = []
    for ind in config.indicators:
        new = [e for e in events if e.indicator == ind.id
               and (since is None or max(m.seen_at for m in e.items) > since)]
        new.sort(key=lambda e: (-e.score, e.first_seen))
        limit = config.digest.max_events
        views = [view(e, config, counts(e, config)) for e in new[:limit]]
        if views:
            sections.append(IndicatorSection(ind.id, ind.title, ind.stance, views, len(new) - len(views)))
    balance = balance_of(events, config, now)
    return DigestReport(period, now, verdict, since, rows, sections, balance, len(feeds),
                        feed_problems(feeds, now))
