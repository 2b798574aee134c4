"""Which events and criterion changes alert now, and which never again. Pure.

An event has no fixed identity: it grows as more outlets report it, its lead item can change,
and a late report can even make two events merge. So an alert records every item it covered
(per indicator), and an event whose items overlap what an earlier alert covered is the same
happening: it never alerts twice, however it grows.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from watcher.config import Config
from watcher.judge.counting import news_of
from watcher.judge.events import independent_sources
from watcher.models import AlertMark, CriterionVerdict, Event, Reason, Transition
from watcher.report.digest import EventView, view
from watcher.report.firstscreen import transition_subject

CRITERION = "criterion"


@dataclass(frozen=True)
class AlertLine:
    """One thing the alert says: an event that crossed its rule, or a criterion change."""

    subject: str                     # indicator id, or "criterion"
    headline: str
    refs: list[int]                  # item ids (or the transition id) it covers
    event: EventView | None = None
    rule: str = ""
    track: str | None = None         # the track the event's indicator belongs to
    state: str | None = None         # a state change's new state


@dataclass(frozen=True)
class AlertReport:
    """One alert message: everything that crossed a threshold in one cycle, grouped."""

    key: str
    generated_at: datetime
    verdict: CriterionVerdict
    lines: list[AlertLine] = field(default_factory=list)
    silenced: list[AlertLine] = field(default_factory=list)

    @property
    def state(self) -> str:
        return self.verdict.state.value

    @property
    def severity(self) -> str:
        """For chat channels: a state change's new state says it; else an event that counts is
        good news (success), any other event news (info)."""
        changed = next((line.state for line in self.lines if line.state), None)
        if changed is not None:
            return severity_of(changed)
        return "success" if any(line.event and line.event.counts for line in self.lines) else "info"

    def covered(self) -> list[AlertMark]:
        """What the store marks as covered: sent ones and silenced ones alike."""
        return ([AlertMark(line.subject, ref, "queued") for line in self.lines for ref in line.refs]
                + [AlertMark(line.subject, ref, "silenced")
                   for line in self.silenced for ref in line.refs])


def severity_of(state: str) -> str:
    """Apprise's notification type for a state: FOLLOW-UP is success, WARN a warning,
    HIGH-WATER a failure (the expansion stalled), anything else information."""
    return {"FOLLOW-UP": "success", "WARN": "warning", "HIGH-WATER": "failure"}.get(state, "info")


def qualifies(event: Event, config: Config, now: datetime) -> bool:
    """The indicator's alert rule: enough independent news reports with an allowed certainty
    (an op-ed, or a report that only expects what another says happened, adds none), score,
    fresh."""
    rule = config.indicator(event.indicator).alert
    if rule is None:
        return False
    newest = max(m.published for m in event.items)
    reported = [m for m in news_of(event) if m.match.certainty.value in rule.certainty]
    return (len(reported) > 0 and independent_sources(reported) >= rule.sources
            and event.certainty.value in rule.certainty
            and event.score >= rule.min_score and now - newest <= rule.max_age_delta)


def select_alerts(config: Config, events: list[Event], verdict: CriterionVerdict,
                  transitions: list[Transition],
                  alerted: dict[str, set[int]], silenced: set[str], now: datetime) -> AlertReport:
    """What alerts in this cycle; silenced subjects are set aside (and never alert later).
    A dismissed event never alerts, however it grows."""
    lines: list[AlertLine] = []
    for e in sorted(events, key=lambda e: (-e.score, e.first_seen)):
        refs = sorted(m.item_id for m in e.items)
        j = verdict.judgement(e)
        dismissed = j is not None and j.reason is Reason.DISMISSED
        seen = alerted.get(e.indicator, set()) & set(refs)
        if dismissed or not qualifies(e, config, now) or seen:
            continue
        rule = config.indicator(e.indicator).alert
        need = rule.sources if rule else 1
        shown = view(e, config, verdict)
        n = e.independent or len(e.sources)
        lines.append(AlertLine(e.indicator, f"{shown.title} — {n} source{'s' if n != 1 else ''}",
                               refs, shown,
                               f"{n} independent source{'s' if n != 1 else ''} "
                               f"(alert rule: at least {need})",
                               config.track_of(e.indicator)))
    if config.alerts.criterion:
        for t in transitions:
            if t.previous is not None and t.id not in alerted.get(CRITERION, set()):
                # said once: the headline; the verdict's sentence closes the alert
                lines.append(AlertLine(CRITERION, f"{transition_subject(t)} changed {t.previous} "
                                       f"→ {t.state} on {t.at:%d %b %Y}", [t.id],
                                       state=t.state))
    return AlertReport(alert_key(now, lines), now, verdict,
                       [line for line in lines if line.subject not in silenced],
                       [line for line in lines if line.subject in silenced])


def alert_key(now: datetime, lines: list[AlertLine]) -> str:
    """The outbox period of one alert: unique per cycle and content; no ':' (Message-ID)."""
    content = ";".join(f"{line.subject}:{','.join(map(str, line.refs))}" for line in lines)
    return f"{now:%Y%m%dT%H%M}Z-{hashlib.sha256(content.encode()).hexdigest()[:10]}"
