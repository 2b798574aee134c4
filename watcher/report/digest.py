"""Events, verdict and feed health → the digest model templates render. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from watcher.config import Config
from watcher.judge.counting import judge_event
from watcher.judge.formalization import stage_rule
from watcher.judge.why import status_line
from watcher.models import (
    Certainty,
    CriterionVerdict,
    Event,
    FeedStatus,
    IngestIssue,
    ServiceRun,
    Silence,
    Transition,
)
from watcher.report.balance import Balance, balance_of
from watcher.report.charts import Spark, Timeline, build_spark, build_timeline
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
    event_id: str = ""            # the short id `watcher confirm` / `dismiss` take
    status: str = ""              # counts (for which track), a candidate, or the first reason not
    candidate: bool = False
    decision: str | None = None   # the analyst's call on it, in words


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


def summarise(events: list[Event], config: Config,
              new_since: datetime | None) -> list[IndicatorSummary]:
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
class IndicatorRow:
    """One line of the compact indicator table: counts, sparkline, silence."""

    summary: IndicatorSummary
    spark: Spark
    silenced_until: datetime | None = None


@dataclass(frozen=True)
class Undelivered:
    """A message the mail server refused for good (or that ran out of retries)."""

    kind: str
    period: str
    recipient: str
    error: str
    attempts: int


@dataclass(frozen=True)
class Uptime:
    """How long the service ran in the digest's window, from its recorded starts."""

    seconds_up: float
    seconds_total: float
    starts: int

    @property
    def percent(self) -> float:
        return 100.0 * self.seconds_up / self.seconds_total if self.seconds_total else 0.0


@dataclass(frozen=True)
class History:
    """What the store knows beyond events, for the digest: read by the service, passed in."""

    transitions: list[Transition] = field(default_factory=list)
    runs: list[ServiceRun] = field(default_factory=list)
    issues: list[IngestIssue] = field(default_factory=list)
    undelivered: list[Undelivered] = field(default_factory=list)
    silences: list[Silence] = field(default_factory=list)


@dataclass(frozen=True)
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
    timeline: Timeline | None = None
    indicators: list[IndicatorRow] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    uptime: Uptime | None = None
    issues: list[IngestIssue] = field(default_factory=list)
    undelivered: list[Undelivered] = field(default_factory=list)
    silences: list[Silence] = field(default_factory=list)
    review: list[EventView] = field(default_factory=list)    # candidates awaiting an analyst
    decisions: list[str] = field(default_factory=list)       # the analysts' calls, in words
    full: bool = False               # the full report: no list is cut
    report_link: str | None = None   # where the full report is, when it has a URL
    report_path: str | None = None   # where it is on the watcher host otherwise

    @property
    def state(self) -> str:
        return self.verdict.state.value

    @property
    def new_total(self) -> int:
        return sum(len(s.events) + s.more for s in self.sections)


def view(event: Event, config: Config, verdict: CriterionVerdict) -> EventView:
    """Flatten one event for the templates; `why` is the lead report's evidence, `status`
    the counting rule's answer as the verdict gave it (the same rule everywhere)."""
    lead = event.lead
    j = verdict.judgement(event) or judge_event(event, config, verdict.decisions,
                                                stage_rule(config))
    return EventView(event.indicator, config.indicator(event.indicator).title,
                     truncate(lead.title, 300), lead.url, event.first_seen, event.sources,
                     event.score, event.certainty.value, lead.match.why(), j.counts,
                     event.independent or len(event.sources), j.id, status_line(j), j.candidate,
                     j.decision.line() if j.decision is not None else None)


def feed_problems(feeds: list[FeedStatus], now: datetime) -> list[FeedProblem]:
    """Feeds ops must look at: retired, failing, or silent for long."""
    out = []
    for f in feeds:
        if f.retired:
            out.append(FeedProblem(f.feed_id, f.url, f"retired, no longer polled: {f.last_error}; "
                                   "fix or remove its URL in indicators.yaml"))
        elif f.failures:
            out.append(FeedProblem(f.feed_id, f.url,
                                   f"{f.last_error} ({f.failures} failures in a row)"))
        elif f.last_success_at and now - f.last_success_at > SILENT_AFTER:
            out.append(FeedProblem(f.feed_id, f.url, "no successful poll since "
                                   f"{f.last_success_at:%Y-%m-%d %H:%M} UTC"))
    return out


def build_digest(config: Config, events: list[Event], verdict: CriterionVerdict,
                 feeds: list[FeedStatus], *, period: str, now: datetime,
                 since: datetime | None, history: History | None = None, full: bool = False,
                 report_link: str | None = None, report_path: str | None = None) -> DigestReport:
    """The digest for one period: `since` is when the last digest went out (None: first).

    `full` keeps every event (the .html report); the email cuts each list at max_events and
    points at the full report by `report_link` (a URL) or else `report_path`."""
    history = history or History()
    rows = summarise(events, config, since)
    limit = None if full else config.digest.max_events
    sections = []
    for ind in config.indicators:
        new = [e for e in events if e.indicator == ind.id and _is_new(e, since)]
        new.sort(key=lambda e: (-e.score, e.first_seen))
        views = [view(e, config, verdict) for e in new[:limit]]
        if views:
            sections.append(IndicatorSection(ind.id, ind.title, ind.stance, views,
                                             len(new) - len(views)))
    counting = sorted((j.event for t in verdict.tracks for j in t.counting),
                      key=lambda e: e.first_seen)
    new_total = sum(len(s.events) + s.more for s in sections)
    return DigestReport(
        period, now, verdict, since, rows, sections, balance_of(events, config, now), len(feeds),
        feed_problems(feeds, now), timeline=build_timeline(verdict, counting),
        indicators=indicator_rows(rows, events, verdict, history.silences),
        changes=changes(new_total, history.transitions, since),
        uptime=uptime(history.runs, since, now), issues=history.issues,
        undelivered=history.undelivered, silences=history.silences,
        review=[view(j.event, config, verdict) for j in verdict.candidates],
        decisions=[f"{d.line()} (reports {', '.join(map(str, sorted(d.items)))})"
                   for d in verdict.decisions],
        full=full, report_link=report_link, report_path=report_path)


def _is_new(event: Event, since: datetime | None) -> bool:
    return since is None or max(m.seen_at for m in event.items) > since


def indicator_rows(rows: list[IndicatorSummary], events: list[Event], verdict: CriterionVerdict,
                   silences: list[Silence]) -> list[IndicatorRow]:
    """Each indicator with its weekly evidence, on one scale so bars compare across rows."""
    by_ind = {r.indicator: [e for e in events if e.indicator == r.indicator] for r in rows}
    sparks = {k: build_spark(verdict, v, 0) for k, v in by_ind.items()}
    scale = max((s.peak for s in sparks.values()), default=0.0)
    silenced = {s.indicator: s.until for s in silences}
    return [IndicatorRow(r, build_spark(verdict, by_ind[r.indicator], scale),
                         silenced.get(r.indicator)) for r in rows]


def changes(new_total: int, transitions: list[Transition], since: datetime | None) -> list[str]:
    """What changed since the last digest, in sentences."""
    out = [f"{new_total} new event(s) since the last digest ({since:%d %b %Y %H:%M} UTC)."
           if since else f"First digest: {new_total} event(s) seen so far."]
    moved = [t for t in transitions
             if t.previous is not None and (since is None or t.at > since)]
    for t in moved:
        out.append(f"{transition_subject(t)} changed {t.previous} → {t.state} on {t.at:%d %b %Y}.")
    overall = [t for t in transitions if t.track is None]
    if not any(t.track is None for t in moved) and overall:
        out.append(f"Criterion unchanged: {overall[-1].state}.")
    return out


def transition_subject(t: Transition) -> str:
    """What changed: 'Criterion', 'Track deals', 'Accession'."""
    if t.track is None:
        return "Criterion"
    return "Accession" if t.track == "formalization" else f"Track {t.track}"


def uptime(runs: list[ServiceRun], since: datetime | None, now: datetime) -> Uptime | None:
    """Time covered by recorded runs between the last digest (or the first start) and now."""
    if not runs:
        return None
    start = since or runs[0].started_at
    up, cursor = 0.0, start
    for run in sorted(runs, key=lambda r: (r.started_at, r.last_seen_at)):
        begin, end = max(run.started_at, cursor), min(run.last_seen_at, now)
        if end > begin:
            up += (end - begin).total_seconds()
            cursor = end
    starts = sum(1 for r in runs if r.started_at >= start)
    return Uptime(up, max((now - start).total_seconds(), 0.0), starts)
