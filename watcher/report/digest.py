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
from watcher.report.firstscreen import (
    ThisWeek,
    TrackLine,
    accession_line,
    coverage_warning,
    headline,
    position,
    preheader,
    this_week,
    track_lines,
)
from watcher.report.happenings import group, language, lead_event, order_key, snippet, strength
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
    indicators: tuple[str, ...] = ()   # every indicator that matched the happening
    strength: str = ""            # strong / moderate / weak against the criterion's threshold
    snippet: str = ""             # the lead report's first sentence or two
    lang: str | None = None       # the title's language when it is not English
    new: bool = True


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
    new_events: int               # new happenings listing this indicator
    total_events: int             # happenings listing it since the baseline
    strongest: EventView | None
    denied: int = 0               # denials among them (shown on the stall side)


def summarise(entries: list[EventView], listed: list[EventView],
              config: Config) -> list[IndicatorSummary]:
    """Per indicator, from the very entries the digest lists (so the table and the lists
    agree): new happenings it matched, all in the window, the strongest in words."""
    rows = []
    for ind in config.indicators:
        mine = [e for e in entries if ind.id in e.indicators]
        strongest = max((e for e in mine if e.certainty != Certainty.DENIED.value),
                        key=lambda e: e.score, default=None)
        rows.append(IndicatorSummary(
            ind.id, ind.title, ind.stance, sum(1 for e in listed if ind.id in e.indicators),
            len(mine), strongest,
            sum(1 for e in mine if e.certainty == Certainty.DENIED.value)))
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
    events: list[EventView]          # the new happenings listed (all of them in the full report)
    balance: Balance
    feeds_total: int
    feed_problems: list[FeedProblem] = field(default_factory=list)
    timeline: Timeline | None = None
    indicators: list[IndicatorRow] = field(default_factory=list)
    uptime: Uptime | None = None
    issues: list[IngestIssue] = field(default_factory=list)
    undelivered: list[Undelivered] = field(default_factory=list)
    silences: list[Silence] = field(default_factory=list)
    review: list[EventView] = field(default_factory=list)    # candidates awaiting an analyst
    decisions: list[str] = field(default_factory=list)       # the analysts' calls, in words
    full: bool = False               # the full report: no list is cut
    report_link: str | None = None   # where the full report is, when it has a URL
    report_path: str | None = None   # where it is on the watcher host otherwise
    more: int = 0                    # new happenings the email leaves to the full report
    tracks: list[TrackLine] = field(default_factory=list)
    week: ThisWeek | None = None
    preheader: str = ""
    accession: str | None = None     # the accession's progress, in words
    caveat: str | None = None        # poor coverage under a claimed absence

    @property
    def state(self) -> str:
        return self.verdict.state.value

    @property
    def headline(self) -> str:
        return headline(self.verdict)

    @property
    def position(self) -> str:
        return position(self.verdict)

    @property
    def new_total(self) -> int:
        return len(self.events) + self.more

    @property
    def state_label(self) -> str:
        """'FOLLOW-UP (deals)': the state and, when it is follow-up, the tracks that have it."""
        followed = [t.id for t in self.verdict.tracks if t.state.value == "FOLLOW-UP"]
        if followed and len(self.verdict.tracks) > 1:
            return f"{self.state} ({', '.join(followed)})"
        return self.state


def view(event: Event, config: Config, verdict: CriterionVerdict,
         members: list[Event] | None = None, new: bool = True) -> EventView:
    """Flatten one happening for the templates: `event` is the one whose judgement it shows
    (the same rule everywhere), `members` every event of the happening (its indicators)."""
    lead = event.lead
    j = verdict.judgement(event) or judge_event(event, config, verdict.decisions,
                                                stage_rule(config))
    members = members or [event]
    score = max(e.score for e in members)
    return EventView(event.indicator, config.indicator(event.indicator).title,
                     truncate(lead.title, 300), lead.url, event.first_seen, event.sources,
                     score, event.certainty.value, lead.match.why(), j.counts,
                     event.independent or len(event.sources), j.id, status_line(j), j.candidate,
                     j.decision.line() if j.decision is not None else None,
                     tuple(dict.fromkeys([event.indicator, *(e.indicator for e in members)])),
                     strength(score, config.criterion.threshold), snippet(lead.title, lead.summary),
                     language(lead.title, lead.feed_id, config), new)


def entries(config: Config, events: list[Event], verdict: CriterionVerdict,
            since: datetime | None) -> list[EventView]:
    """Every happening since the baseline, once, in the digest's order: counting first, then
    candidates, then the strongest, the newest first on equal scores."""
    out = []
    for members in group(events):
        lead = lead_event(members, verdict)
        out.append((order_key(lead, verdict.judgement(lead)),
                    view(lead, config, verdict, members, any(_is_new(e, since) for e in members))))
    return [v for _, v in sorted(out, key=lambda pair: pair[0])]


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

    `full` keeps every new happening (the .html report); the email lists max_events of them
    and points at the full report by `report_link` (a URL) or else `report_path`."""
    history = history or History()
    every = entries(config, events, verdict, since)
    new = [e for e in every if e.new]
    listed = new if full else new[:config.digest.max_events]
    rows = summarise(every, new, config)
    counting = sorted((j.event for t in verdict.tracks for j in t.counting),
                      key=lambda e: e.first_seen)
    week = this_week(new, history.transitions, since, len(verdict.candidates))
    limit = None if full else config.digest.max_events
    return DigestReport(
        period, now, verdict, since, rows, listed, balance_of(events, config, now), len(feeds),
        feed_problems(feeds, now), timeline=build_timeline(verdict, counting),
        indicators=indicator_rows(rows, events, verdict, history.silences),
        uptime=uptime(history.runs, since, now), issues=history.issues,
        undelivered=history.undelivered, silences=history.silences,
        review=[view(j.event, config, verdict) for j in verdict.candidates][:limit],
        decisions=[f"{d.line()} (reports {', '.join(map(str, sorted(d.items)))})"
                   for d in verdict.decisions][:limit],
        full=full, report_link=report_link, report_path=report_path,
        more=len(new) - len(listed), tracks=track_lines(verdict), week=week,
        preheader=preheader(verdict, week), accession=accession_line(verdict),
        caveat=coverage_warning(verdict))


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
