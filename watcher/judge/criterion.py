"""The 6–12 month test (DESIGN §6) as a pure function of events and now."""

from __future__ import annotations

import calendar
from dataclasses import replace
from datetime import datetime

from watcher.config import Config
from watcher.models import Certainty, Coverage, CriterionState, CriterionVerdict, Event


def add_months(moment: datetime, months: int) -> datetime:
    """Calendar months, clamped to the month's last day (31 Aug + 6mo → 28/29 Feb)."""
    month0 = moment.month - 1 + months
    year, month = moment.year + month0 // 12, month0 % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def counts(event: Event, config: Config) -> bool:
    """Measurable follow-up: a counting indicator, confirmed, scored at or over the threshold,
    and first reported after the baseline's own occasion (its grace period)."""
    return (config.counts_as_follow_up(event.indicator)
            and event.certainty is Certainty.CONFIRMED
            and event.score >= config.criterion.threshold
            and event.first_seen >= config.baseline_at + config.criterion.grace)


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
             coverage: Coverage | None = None) -> CriterionVerdict:
    """Where the criterion stands at `now`, from the events seen up to then (and, for an
    absence, how much of the watch was seen)."""
    baseline = config.baseline_at
    warn_at = add_months(baseline, config.criterion.warn_months)
    expire_at = add_months(baseline, config.criterion.expire_months)
    counting = sorted((e for e in events if counts(e, config)
                       and baseline <= e.first_seen <= min(now, expire_at)),
                      key=lambda e: (e.first_seen, -e.score))
    verdict = CriterionVerdict(CriterionState.WATCHING, now, baseline, warn_at, expire_at,
                               coverage=coverage)
    if counting:
        return replace(verdict, state=CriterionState.FOLLOW_UP, counting_event=counting[0])
    if now >= expire_at:
        return replace(verdict, state=CriterionState.HIGH_WATER)
    if now >= warn_at:
        return replace(verdict, state=CriterionState.WARN)
    return verdict
