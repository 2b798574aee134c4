"""The 6–12 month test (DESIGN §6) as a pure function of events and now."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import datetime

from watcher.config import Config
from watcher.models import Coverage, CriterionVerdict, Decision, Event


def add_months(moment: datetime, months: int) -> datetime:
    """Calendar months, clamped to the month's last day (31 Aug + 6mo → 28/29 Feb)."""
    month0 = moment.month - 1 + months
    year, month = moment.year + month0 // 12, month0 % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def counts(event: Event, config: Config, decisions: Sequence[Decision] = (),
           others: Sequence[Event] = ()) -> bool:
    """Measurable follow-up by the counting rule (watcher.judge.counting): the same rule the
    verdict applies, window, grace, genre and corroboration included. `others`: the events
    judged with it (evaluate's list), so that a deal whose reports are about the accession
    itself completes the baseline here as it does in the verdict."""
    from watcher.judge.counting import accession_reports, judge_event
    from watcher.judge.formalization import stage_rule
    return judge_event(event, config, decisions, stage_rule(config),
                       accession_reports([event, *others], config)).counts


def coverage_of(config: Config, now: datetime, *, observed_days: dict[str, int], items: int,
                recent_items: int, failing_now: int) -> Coverage:
    """Coverage of the window (baseline → now) from counts the store keeps; judged against the
    criterion's thresholds. Only configured feeds count."""
    days = max((min(now, add_months(config.baseline_at, config.criterion.expire_months))
                - config.baseline_at).days, 1)
    feeds = {f.id for f in config.feeds}
    observed = sum(min(n, days) for fid, n in observed_days.items() if fid in feeds)
    cov = Coverage(days, len(feeds), observed, failing_now, items, recent_items, poor=False)
    poor = (cov.share < config.criterion.min_coverage
            or cov.per_week < config.criterion.min_items_per_week)
    return Coverage(days, len(feeds), observed, failing_now, items, recent_items, poor)


def evaluate(config: Config, events: list[Event], now: datetime,
             coverage: Coverage | None = None,
             decisions: Sequence[Decision] = ()) -> CriterionVerdict:
    """Where the criterion stands at `now`, per track, from the events seen up to then and the
    analysts' decisions (and, for an absence, how much of the watch was seen)."""
    from watcher.judge.tracks import evaluate_tracks
    return evaluate_tracks(config, events, now, coverage, decisions)
