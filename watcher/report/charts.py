"""The digest's pictures as data: the 12-month timeline and evidence per week. Pure.

Mail clients block scripts and remote images, so the templates draw these as table cells;
this module only decides what each cell is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from watcher.models import Certainty, CriterionVerdict, Event

WEEK = timedelta(days=7)
BAR_HEIGHT = 20          # px of the tallest bar in a sparkline
LEGEND_EVENTS = 3        # counting events named under the timeline


@dataclass(frozen=True)
class Mark:
    """A moment on the timeline the legend names."""

    kind: str            # baseline | warn | expire | today | event
    at: datetime
    label: str


@dataclass(frozen=True)
class Timeline:
    """One cell per week of the window; `months` are (label, weeks) for the label row."""

    cells: list[str]     # past | future | baseline | warn | expire | today | event
    months: list[tuple[str, int]]
    marks: list[Mark]

    @property
    def weeks(self) -> int:
        return len(self.cells)


@dataclass(frozen=True)
class Spark:
    """Evidence per week for one indicator: bar heights in px and the weekly totals."""

    heights: list[int]
    totals: list[float]
    future: list[bool]

    @property
    def peak(self) -> float:
        return max(self.totals, default=0.0)


def week_count(verdict: CriterionVerdict) -> int:
    """Weeks from the baseline to the 12-month mark, the last one partial."""
    return math.ceil((verdict.expire_at - verdict.baseline) / WEEK)


def week_of(verdict: CriterionVerdict, moment: datetime) -> int | None:
    """The week cell a moment falls in, or None outside the window."""
    if moment < verdict.baseline or moment > verdict.expire_at:
        return None
    return min(int((moment - verdict.baseline) / WEEK), week_count(verdict) - 1)


def build_timeline(verdict: CriterionVerdict, counting: list[Event]) -> Timeline:
    """Baseline, the 6- and 12-month marks, today and each counting event, week by week."""
    n = week_count(verdict)
    today = week_of(verdict, verdict.now)
    elapsed = today if today is not None else (n if verdict.now > verdict.expire_at else 0)
    cells = ["past" if i < elapsed else "future" for i in range(n)]
    marks = [Mark("baseline", verdict.baseline, "baseline"),
             Mark("warn", verdict.warn_at, "6-month mark"),
             Mark("expire", verdict.expire_at, "12-month mark")]
    inside = [e for e in counting if week_of(verdict, e.first_seen) is not None]
    events = [Mark("event", e.first_seen, f"{e.indicator}: {e.lead.title}") for e in inside]
    off = "" if today is not None else (" (after the 12-month mark, past the strip's end)"
                                        if verdict.now > verdict.expire_at else " (off the strip)")
    now_mark = [Mark("today", verdict.now, f"today, day {verdict.days_since_baseline}{off}")]
    # Later kinds win a shared cell: an event never hides the 6- or 12-month mark (the legend
    # still names it), and today is drawn last.
    for mark in events + marks + now_mark:
        week = week_of(verdict, mark.at)
        if week is not None:
            cells[week] = mark.kind
    more = len(events) - LEGEND_EVENTS
    if more > 0:                     # the legend names the first few; the cells show them all
        events = events[:LEGEND_EVENTS] + [Mark("event", events[LEGEND_EVENTS].at,
                                                f"and {more} more counting event(s)")]
    return Timeline(cells, _months(verdict, n), marks + events + now_mark)


def _months(verdict: CriterionVerdict, n: int) -> list[tuple[str, int]]:
    """Label row: each month's short name spanning the weeks that start in it."""
    out: list[tuple[str, int]] = []
    for i in range(n):
        label = f"{verdict.baseline + i * WEEK:%b}"
        if out and out[-1][0] == label:
            out[-1] = (label, out[-1][1] + 1)
        else:
            out.append((label, 1))
    return out


def build_spark(verdict: CriterionVerdict, events: list[Event], scale: float) -> Spark:
    """Sum of event scores per week (denials left out); `scale` is the peak across indicators,
    so bars compare between indicators."""
    n = week_count(verdict)
    totals = [0.0] * n
    for e in events:
        week = week_of(verdict, e.first_seen)
        if week is not None and e.certainty is not Certainty.DENIED:
            totals[week] += e.score
    today = week_of(verdict, verdict.now)
    future = [today is not None and i > today for i in range(n)]
    heights = [0 if not t else max(2, round(BAR_HEIGHT * t / scale)) if scale else 0
               for t in totals]
    return Spark(heights, [round(t, 2) for t in totals], future)
