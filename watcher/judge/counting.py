"""The counting rule (DESIGN §6): does an event count as measurable follow-up, and if not, why.

Pure: events, the config and the analysts' decisions in, judgements out. One rule for every
place that shows an event (criterion, digest, alerts, explain, review, JSON), so a label can
never contradict the verdict (issue 12, issue 14).

An event counts when its indicator is in a track, it is not dismissed, its happening lies in
the window and past the grace period, it is confirmed (not expected or denied), it is news
(not only opinion or analysis), it scores at the threshold, one of its reports is of the step
itself (not only reactions to it: "Kazakhstan welcomes the adoption of the resolution"), and it
is corroborated: at least `criterion.corroboration` independent publishers of news that it
happened (a report that only expects it corroborates nothing; a reaction does, beside a report
of the step), or an official source's report of the step, or an analyst's confirmation. An
analyst who confirms an event has read it: the machine's doubts about the
reading (certainty, genre, score, sources) yield; the criterion's definitions (window, grace,
what a track holds) do not. An event failing only corroboration is a candidate.

Events of the formalization indicators (signing, ratification) never count; they reach a
stage of the accession's progress when they pass the same reading and corroboration tests.
Nor does an event of a counting indicator whose reports are, for the most part, about the
accession itself (they also matched a formalization indicator: "Kazakhstan, Israel and the US
sign the accession declaration" hits a deal rule too): it completes the baseline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from watcher.config import Config
from watcher.judge.criterion import add_months
from watcher.judge.events import independent_sources
from watcher.judge.genre import genre_of
from watcher.judge.happening import happened_on
from watcher.judge.publisher import same_publisher
from watcher.judge.reaction import reaction_cue
from watcher.judge.refine import recalls_occasion
from watcher.models import Certainty, Decision, Event, Judgement, MatchedItem, Reason

# Which formalization stage an event's confirmed news reports reach, and the reports that
# reach it (they alone corroborate the step).
StageOf = Callable[[Event, list[MatchedItem]], tuple[str | None, list[MatchedItem]]]


def event_id(event: Event) -> str:
    """'E' + the id of the event's earliest stored report: stable while the event grows (later
    reports have later ids) and through rematch (item ids never change). Events of two
    indicators that share their earliest report share the id: they are the same reports, and a
    decision on reports applies to both."""
    return f"E{min(m.item_id for m in event.items)}"


def decision_for(event: Event, decisions: Sequence[Decision]) -> Decision | None:
    """The latest decision, not undone, on any of the event's reports."""
    ids = {m.item_id for m in event.items}
    live = [d for d in decisions if d.undone_at is None and not d.items.isdisjoint(ids)]
    return max(live, key=lambda d: (d.at, d.id), default=None)


def news_of(event: Event) -> list[MatchedItem]:
    """The event's reports that are news (not opinion or analysis)."""
    return [m for m in event.items if genre_of(m.title, m.url, m.tier).is_news]


def witnesses_of(news: list[MatchedItem]) -> list[MatchedItem]:
    """The news reports that say it happened: a report that expects it ("in talks to join")
    or denies it never corroborates one that says it did."""
    return [m for m in news if m.match.certainty is Certainty.CONFIRMED]


def happened(event: Event, reports: list[MatchedItem], config: Config | None = None) -> date:
    """The happening's date: the baseline's when a report recalls the baseline's own occasion
    (criterion.occasion: "first announced at the White House summit"), else the earliest a
    report gives in its text, else the first report's."""
    if config is not None and any(recalls_occasion(config, m.title, m.summary) for m in reports):
        return config.baseline.date
    first = event.first_seen.date()
    found = [d for m in reports if (d := happened_on(m.title, m.summary, m.published)) is not None]
    return min([first, *found])


def accession_reports(events: Sequence[Event], config: Config) -> frozenset[int]:
    """The reports (item ids) that are about the accession itself: those a formalization
    indicator matched, unless as a denial."""
    return frozenset(m.item_id for e in events if config.stages_of(e.indicator)
                     for m in e.items if m.match.certainty is not Certainty.DENIED)


def judge_event(event: Event, config: Config, decisions: Sequence[Decision] = (),
                stage_of: StageOf | None = None,
                accession: frozenset[int] = frozenset()) -> Judgement:
    """One event against the counting rule; see the module's docstring. `accession`: the
    reports about the accession itself (accession_reports)."""
    news = news_of(event)
    reports = news or event.items
    witnesses = witnesses_of(news)
    genre = genre_of(event.lead.title, event.lead.url, event.lead.tier)
    decision = decision_for(event, decisions)
    track = config.track_of(event.indicator)
    stage, stageless = None, False
    if stage_of is not None and config.stages_of(event.indicator):
        stage, backers = stage_of(event, witnesses)
        witnesses, stageless = backers or witnesses, not backers
    sources = (event.independent or len(event.sources)) if len(witnesses) == len(event.items) else \
        independent_sources(witnesses) if witnesses else 0
    acts = [m for m in witnesses if reaction_cue(m.title) is None]
    official = any(m.tier == "official" for m in acts)
    when = happened(event, witnesses or reports, config)
    doubt = _doubt(event, config, reports, news, sources, official,
                   reacting=bool(witnesses) and not acts)
    if stageless and doubt not in (Reason.UNCONFIRMED, Reason.OPINION):
        doubt = None                # a step's mention that reports no step: nothing to review
    confirmed = decision is not None and decision.action == "confirm"
    about_accession = (bool(reports)
                       and 2 * sum(m.item_id in accession for m in reports) >= len(reports))
    reason = _reason(event, config, decision, when, doubt if not confirmed else None,
                     about_accession)
    qualifies = reason is None or (reason is Reason.FORMALIZATION and stage is not None)
    backing = "" if not qualifies else \
        ("analyst" if doubt is not None else "sources" if sources >= config.criterion.corroboration
         else "official")
    return Judgement(event, event_id(event), track, when, sources, official,
                     "news" if news else genre.kind, "" if news else genre.cue, decision, reason,
                     _qualified(event, config, witnesses, backing), backing, stage)


def _doubt(event: Event, config: Config, reports: list[MatchedItem], news: list[MatchedItem],
           sources: int, official: bool, reacting: bool = False) -> Reason | None:
    """What the machine doubts about its reading of the event, first reason first."""
    if not any(m.match.certainty is Certainty.CONFIRMED for m in reports):
        return Reason.UNCONFIRMED
    if not news:
        return Reason.OPINION
    if event.score < config.criterion.threshold:
        return Reason.BELOW
    if reacting:
        return Reason.REACTION
    if sources < config.criterion.corroboration and not official:
        return Reason.SINGLE_SOURCE
    return None


def _reason(event: Event, config: Config, decision: Decision | None, when: date,
            doubt: Reason | None, about_accession: bool = False) -> Reason | None:
    """The first reason it does not count, in the documented order; None if it counts."""
    if decision is not None and decision.action == "dismiss":
        return Reason.DISMISSED
    if config.stages_of(event.indicator) and config.track_of(event.indicator) is None:
        return doubt or Reason.FORMALIZATION        # judged as progress, whenever it happened
    c = config.criterion
    if not config.baseline.date <= when < add_months(config.baseline_at, c.expire_months).date():
        return Reason.OUTSIDE
    if when < (config.baseline_at + c.grace).date():
        return Reason.GRACE
    if config.track_of(event.indicator) is None:
        return Reason.NOT_FOLLOW_UP
    if about_accession:
        return Reason.FORMALIZATION       # the accession's own step, matched as a deal too
    return doubt


def _qualified(event: Event, config: Config, witnesses: list[MatchedItem],
               backing: str) -> date | None:
    """When the event became corroborated: its N-th independent publisher's confirming report,
    its first official report of the step, or (on an analyst's confirmation) its first report;
    never before the first report of the step itself (reactions alone do not qualify it)."""
    if not backing:
        return None
    if backing == "analyst":
        return event.first_seen.date()
    acts = [m.published for m in witnesses if reaction_cue(m.title) is None]
    moments = [m.published for m in witnesses
               if m.tier == "official" and reaction_cue(m.title) is None]
    hosts: list[str] = []
    for m in sorted(witnesses, key=lambda m: m.published):
        if not any(same_publisher(m.host, h) for h in hosts):
            hosts.append(m.host)
        if len(hosts) >= config.criterion.corroboration:
            moments.append(max(m.published, min(acts, default=m.published)))
            break
    return min(moments).date() if moments else event.first_seen.date()


def judge_events(events: list[Event], config: Config, decisions: Sequence[Decision] = (),
                 stage_of: StageOf | None = None) -> list[Judgement]:
    """Every event judged, in the order given."""
    accession = accession_reports(events, config)
    return [judge_event(e, config, decisions, stage_of, accession) for e in events]
