"""Generated weeks for the digest's budget and layout tests: N happenings of the shipped
indicators (indicators.yaml), built from the demo's real headlines and matched by the real
matcher, spread over the 12-month window and past it, in English, Russian and Kazakh.

Each happening is a headline of a demo snapshot re-dated and re-sourced (a fresh outlet, a
fresh link, a number in the title so no two read alike); every third has a second outlet, so
some corroborate and count while others wait for review. A headline several indicators match
gives one event per indicator sharing its report: one happening, as in a real cycle.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache

from demo.run_demo import FEEDS as DEMO_FEEDS
from tests.conftest import ROOT, at
from watcher.config import Config, load_config
from watcher.ingest.parse import parse_feed
from watcher.judge.criterion import evaluate
from watcher.judge.events import host_of
from watcher.judge.match import Matcher
from watcher.judge.score import score_events
from watcher.models import CriterionVerdict, Event, MatchedItem, ServiceRun, Transition
from watcher.report.digest import DigestReport, History, build_digest

NOW = at("2026-11-30T02:00")          # the demo's digest: day 389, past the 12-month mark
SINCE = NOW - timedelta(days=7)


@lru_cache(maxsize=1)
def config() -> Config:
    return load_config(ROOT / "indicators.yaml")


@lru_cache(maxsize=1)
def headlines() -> tuple[tuple[str, str], ...]:
    """(title, summary) of every demo snapshot item some shipped indicator matches."""
    matcher = Matcher(config())
    out = []
    for path in sorted(DEMO_FEEDS.glob("*.xml")):
        for item in parse_feed(path.stem, path.read_bytes(), content_type="application/xml",
                               base_url="https://news.example.org/").items:
            if matcher.match(item.title, item.summary or ""):
                out.append((item.title, item.summary or ""))
    return tuple(dict.fromkeys(out))


def generated_events(n: int, now: datetime = NOW) -> list[Event]:
    """N happenings: the i-th headline, dated back from `now` across the window, all seen
    in the last week (so all are new in the digest at `now`)."""
    cfg, matcher = config(), Matcher(config())
    pool = headlines()
    span = (now - cfg.baseline_at).total_seconds()
    events: list[Event] = []
    item_id = 1000
    for i in range(n):
        title, summary = pool[i % len(pool)]
        title = f"{title} ({i})"
        published = cfg.baseline_at + timedelta(seconds=span * (i + 1) / (n + 1))
        seen = now - timedelta(hours=1 + i % 150)
        outlets = [f"https://outlet{i % 23}.example.org/{i}"]
        if i % 3 == 0:
            outlets.append(f"https://wire{i % 7}.example.com/{i}")
        matches = matcher.match(title, summary)
        reports = []
        for url in outlets:
            item_id += 1
            reports.append([MatchedItem(item_id, "gen", title, url, published, seen, host_of(url),
                                        "outlet", m, summary) for m in matches])
        for k, m in enumerate(matches):
            events.append(Event(m.indicator, [r[k] for r in reports]))
    return score_events(events, cfg)


def generated_week(n: int, *, full: bool = False) -> tuple[DigestReport, CriterionVerdict]:
    """The digest model of a week with N new happenings (and a state change in it)."""
    cfg = config()
    evs = generated_events(n)
    verdict = evaluate(cfg, evs, NOW)
    history = History(transitions=[Transition(1, "WATCHING", None, cfg.baseline_at, ""),
                                   Transition(2, "WARN", "WATCHING", NOW - timedelta(days=3), "")],
                      runs=[ServiceRun(SINCE, NOW)])
    report = build_digest(cfg, evs, verdict, [], period="2026-W49", now=NOW, since=SINCE,
                          history=history, full=full,
                          report_path="/var/lib/watcher/reports/digest-2026-W49.html")
    return report, verdict
