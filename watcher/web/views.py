"""What the workbench's pages show, built from the verdict and the store's records. Pure.

The events list filters every judged event (track, indicator, counts / candidate / dismissed,
language, date range, text) and pages it, newest first; the feeds page puts each feed's state
beside its polls and its items of the last week.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from watcher.models import CriterionVerdict, FeedStatus, Judgement, Reason, Silence
from watcher.store import PollCounts

PAGE_SIZE = 25
STATUSES = ("counts", "candidate", "dismissed", "other")


def status_of(j: Judgement) -> str:
    """counts | candidate | dismissed | other (not follow-up, opinion, below the threshold …)."""
    if j.counts:
        return "counts"
    if j.reason is Reason.DISMISSED:
        return "dismissed"
    return "candidate" if j.candidate else "other"


def status_line(j: Judgement) -> str:
    """'counts for deals (2 independent source(s))', or the first reason it does not."""
    if j.counts:
        return f"counts for {j.track} ({j.corroboration})"
    if j.reason is None and j.stage:
        return f"qualifies as the accession's step '{j.stage}' ({j.corroboration})"
    return f"does not count: {j.why_not}"


@dataclass(frozen=True)
class Filters:
    """The events page's query: every field optional; bad values are dropped, not errors."""

    track: str = ""
    indicator: str = ""
    status: str = ""
    lang: str = ""
    since: date | None = None
    until: date | None = None
    q: str = ""
    page: int = 1

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> Filters:
        status = query.get("status", "")
        page = query.get("page", "1")
        return cls(query.get("track", "").strip(), query.get("indicator", "").strip(),
                   status if status in STATUSES else "", query.get("lang", "").strip().lower(),
                   _day(query.get("since")), _day(query.get("until")),
                   query.get("q", "").strip()[:200],
                   int(page) if page.isdigit() and 0 < int(page) < 100000 else 1)

    def query(self, page: int | None = None) -> dict[str, str]:
        """The filters as query parameters (for the pager's links), empty ones left out."""
        out = {"track": self.track, "indicator": self.indicator, "status": self.status,
               "lang": self.lang, "since": self.since.isoformat() if self.since else "",
               "until": self.until.isoformat() if self.until else "", "q": self.q,
               "page": str(page or self.page)}
        return {k: v for k, v in out.items() if v and not (k == "page" and v == "1")}

    def keep(self, j: Judgement, langs: Mapping[int, str]) -> bool:
        e = j.event
        text = self.q.casefold()
        return ((not self.track or j.track == self.track)
                and (not self.indicator or e.indicator == self.indicator)
                and (not self.status or status_of(j) == self.status)
                and (not self.lang or self.lang in event_languages(j, langs))
                and (self.since is None or j.happened >= self.since)
                and (self.until is None or j.happened <= self.until)
                and (not text or any(text in m.title.casefold() for m in e.items)))


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def event_languages(j: Judgement, langs: Mapping[int, str]) -> list[str]:
    """The languages of an event's reports ('en', 'ru' …; primary subtag), as stored."""
    found = {langs[m.item_id].split("-")[0].lower() for m in j.event.items if m.item_id in langs}
    return sorted(found)


def newest_first(judged: tuple[Judgement, ...] | list[Judgement]) -> list[Judgement]:
    return sorted(judged, key=lambda j: (j.happened, j.event.first_seen, j.id), reverse=True)


def oldest_first(judged: list[Judgement]) -> list[Judgement]:
    """The review queue: what has waited longest comes first."""
    return sorted(judged, key=lambda j: (j.event.first_seen, j.id))


@dataclass(frozen=True)
class EventPage:
    """One page of the filtered events, and how many there are in all."""

    rows: list[Judgement]
    total: int
    page: int
    pages: int


def events_page(verdict: CriterionVerdict, langs: Mapping[int, str], f: Filters,
                size: int = PAGE_SIZE) -> EventPage:
    kept = [j for j in newest_first(verdict.judged) if f.keep(j, langs)]
    pages = max(1, -(-len(kept) // size))
    page = min(f.page, pages)
    return EventPage(kept[(page - 1) * size: page * size], len(kept), page, pages)


def find(verdict: CriterionVerdict, ref: str) -> list[Judgement]:
    """The judged events with short id `ref` (one, or one per indicator sharing a report)."""
    wanted = ref.strip().upper()
    wanted = wanted if wanted.startswith("E") else f"E{wanted}"
    return [j for j in verdict.judged if j.id == wanted]


@dataclass(frozen=True)
class FeedRow:
    """One feed on the feeds page: its state, its polls and failures, items in the last week."""

    status: FeedStatus
    polls_ok: int
    polls_failed: int
    items_week: int

    @property
    def health(self) -> str:
        s = self.status
        return "retired" if s.retired else "failing" if s.failures else (
            "ok" if s.last_success_at else "not polled yet")


def feed_rows(feeds: list[FeedStatus], total: list[PollCounts],
              week: list[PollCounts]) -> list[FeedRow]:
    all_time = {p.feed_id: p for p in total}
    recent = {p.feed_id: p.items_new for p in week}
    return [FeedRow(f, all_time[f.feed_id].polls_ok if f.feed_id in all_time else 0,
                    all_time[f.feed_id].polls_failed if f.feed_id in all_time else 0,
                    recent.get(f.feed_id, 0)) for f in feeds]


def split_silences(silences: list[Silence], now: datetime) -> tuple[list[Silence], list[Silence]]:
    """Silences split into (active, expired), the latest ending first."""
    ordered = sorted(silences, key=lambda s: s.until, reverse=True)
    return [s for s in ordered if s.until > now], [s for s in ordered if s.until <= now]


_PERIOD = re.compile(r"digest-(\d{4})-W(\d{2})\.html$")


def report_banner(name: str, weekday: int) -> str:
    """The links a digest's full report gets when the workbench serves it: the events of its
    week (the 7 days up to the digest's day) and the review queue. Built from digits only."""
    links = ['<a href="/">the workbench</a>', '<a href="/review">the review queue</a>']
    found = _PERIOD.search(name)
    if found:
        try:
            day = date.fromisocalendar(int(found[1]), int(found[2]), weekday + 1)
        except ValueError:
            day = None
        if day is not None:
            links.insert(1, f'<a href="/events?since={day - timedelta(days=7)}&amp;until={day}">'
                            f"this digest's week of events</a>")
    return ('<div style="max-width:680px;margin:0 auto;padding:8px;font:14px sans-serif">'
            f"Open {', '.join(links)}.</div>")
