"""A year of a running watch, generated straight into the store's tables (issue 17).

    .venv/bin/python benchmarks/year_data.py --db sqlite:////tmp/y.db --feeds 5000 --days 365

What a year of `watcher run` leaves behind, without running it: 5,000 feeds polled at their
intervals for N days, written with bulk Core inserts through watcher's own schema (the store
migrates the database first), not through the poll path, so a year takes minutes.

What "realistic" means here, and where each figure comes from:

- Feeds: intervals and tiers drawn from the shipped indicators.yaml's own mix (30 min to 6 h;
  aggregator, outlet, wire, official, thinktank).
- Items per feed and day: each feed's rate is drawn from the rates of the real feeds in
  ../shared/feeds-realworld/realworld (item dates of each capture with at least five dated
  items: median 0.17 a day, the news sites 7 to 94 a day, mean 8.5), and each day's count is
  Poisson around it, spread over the day's polls.
- Text: titles and summaries of the bench corpus (../shared/bench/make_corpus.py, news-like
  HTML, median summary ~540 characters after stripping; the real captures' median is 291, mean
  824), those the matcher finds nothing in. Matched items: happenings, each a real headline
  that matches something (the devset, the held-out sets, the rules' own examples) told the
  same day by a few outlets (1 + geometric, mean 4), as many as make --matched of the day's
  items (default 0.1 %: the bench corpus has 0.06 %, its 2 % of feeds carrying 1-3 topical
  items; the real captures 0 %; a watch of targeted searches far more). Every match row is
  the real matcher's output for its text (evidence and all).
- Derived rows: feed_day (polls and failures per feed and day: ~1 % of feeds fail all day on
  a given day), feed_state, weekly digests in the outbox (the size of the demo digest) and an
  alert a week, alert marks for a third of the matched items, criterion transitions, service
  runs (a restart a week), ingest warnings (~20 a day), silences, two instances.
- Hooks: the analyst's `decision` table and per-track transitions (issue 12) are filled when
  the schema has them (`extra_rows`).

Days are added in order (`Year.extend(to_day)`), so one database is measured at a week, grown
to a month and measured again, then to a year. Deterministic for a given --seed.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Connection, Engine, func, insert, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from watcher.config import load_config
from watcher.ingest.parse import parse_feed
from watcher.judge.match import Matcher
from watcher.store import Store
from watcher.store.items import _evidence
from watcher.store.schema import (
    ALERTED,
    CRITERION_TRANSITION,
    FEED_DAY,
    FEED_STATE,
    INGEST_ISSUE,
    INSTANCE,
    ITEM,
    MATCH,
    OUTBOX,
    SERVICE_RUN,
    SILENCE,
)

SHARED = ROOT.parent / "shared"
START = datetime(2025, 11, 7, tzinfo=UTC)      # the day after the baseline (6 Nov 2025)
INTERVALS = {"30m": 9, "1h": 12, "2h": 6, "6h": 3}                       # shipped mix
TIERS = {"aggregator": 10, "outlet": 10, "wire": 4, "official": 5, "thinktank": 1}
FAIL_DAY = 0.01             # share of feed-days on which every poll fails
BATCH = 20_000              # rows a statement


@dataclass(frozen=True)
class Text:
    """A title and summary, and what the matcher finds in them (empty for most)."""

    title: str
    summary: str
    matches: tuple[dict[str, Any], ...]


def real_rates(cache: Path) -> list[float]:
    """Items a day of each real capture with at least five dated items."""
    if cache.exists():
        return list(json.loads(cache.read_text()))
    rates = []
    for path in sorted((SHARED / "feeds-realworld" / "realworld").iterdir()):
        try:
            items = parse_feed(path.stem, path.read_bytes()).items
        except Exception:  # noqa: BLE001, S112 - a capture that does not parse has no rate
            continue
        dates = sorted(i.published for i in items if i.published)
        span = (dates[-1] - dates[0]).total_seconds() / 86400 if len(dates) >= 5 else 0
        if span > 0:
            rates.append((len(dates) - 1) / span)
    cache.write_text(json.dumps(rates))
    return rates


def _matches(matcher: Matcher, title: str, summary: str) -> tuple[dict[str, Any], ...]:
    return tuple({"indicator": m.indicator, "strength": m.strength,
                  "certainty": m.certainty.value, "evidence": _evidence(m)}
                 for m in matcher.match(title, summary))


def text_pools(corpus: Path, matcher: Matcher, cache: Path,
               feeds: int = 1000) -> tuple[list[Text], list[Text]]:
    """(general, topical): the bench corpus's items, and the real headlines that match."""
    if cache.exists():
        raw = json.loads(cache.read_text())
        return ([Text(t, s, tuple(m)) for t, s, m in raw["general"]],
                [Text(t, s, tuple(m)) for t, s, m in raw["topical"]])
    general = []
    manifest = json.loads((corpus / "manifest.json").read_text())["feeds"][:feeds]
    for n, feed in enumerate(manifest):
        parsed = parse_feed(f"c{n}", (corpus / feed["file"]).read_bytes(),
                            content_type="application/xml", base_url=feed["url"])
        general += [Text(i.title, i.summary, _matches(matcher, i.title, i.summary))
                    for i in parsed.items]
    sources = [SHARED / "devset" / "headlines.jsonl", *sorted(
        (ROOT / "tests" / "fixtures").glob("heldout*.jsonl"))]
    rows = [json.loads(line) for p in sources for line in p.read_text().splitlines() if line]
    rows += [{"title": ex.title, "summary": ex.summary} for ind in matcher.indicators
             for ex in ind.examples.match]
    topical = [t for r in rows if (t := Text(r["title"], r.get("summary") or "", _matches(
        matcher, r["title"], r.get("summary") or ""))).matches]
    cache.write_text(json.dumps({"general": [(t.title, t.summary, t.matches) for t in general],
                                 "topical": [(t.title, t.summary, t.matches) for t in topical]},
                                ensure_ascii=False))
    return general, topical


@dataclass(frozen=True)
class GenFeed:
    id: str
    url: str
    every: str
    minutes: int
    tier: str
    rate: float                 # items a day
    host: str


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), list(weights.values()))[0]


def make_feeds(n: int, urls: list[str], rates: list[float], rng: random.Random) -> list[GenFeed]:
    out = []
    for i in range(n):
        every = _pick(rng, INTERVALS)
        minutes = {"30m": 30, "1h": 60, "2h": 120, "6h": 360}[every]
        out.append(GenFeed(f"y{i:04d}", urls[i % len(urls)], every, minutes, _pick(rng, TIERS),
                           rng.choice(rates), f"site{i:04d}.example.org"))
    return out


def write_config(feeds: list[GenFeed], dest: Path) -> Path:
    """The shipped indicators.yaml with the generated feeds."""
    data = yaml.safe_load((ROOT / "indicators.yaml").read_text(encoding="utf-8"))
    data["feeds"] = [{"id": f.id, "url": f.url, "every": f.every, "tier": f.tier} for f in feeds]
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / "indicators.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _poisson(rng: random.Random, lam: float) -> int:
    if lam > 30:                      # normal approximation: Knuth's loop is slow for big rates
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


class Year:
    """One generated history in one database, grown a day at a time (see the module doc)."""

    def __init__(self, url: str, feeds: list[GenFeed], general: list[Text], topical: list[Text],
                 matched_share: float, seed: int) -> None:
        Store(url).close()                                  # the schema, by its migrations
        self.url, self.feeds = url, feeds
        self.general = [t for t in general if not t.matches]    # matched items: happenings
        self.topical, self.matched_share = topical, matched_share
        self.rng = random.Random(seed)
        self.day = 0                # days generated so far
        self.next_id = self.next_match = 1
        self.items_total = {f.id: 0 for f in feeds}
        self.matched: list[tuple[int, str]] = []            # (item id, indicator)
        self.once_done = False
        self.raw_digest = (ROOT / "tests" / "golden" / "digest" / "demo.html").read_bytes() + (
            ROOT / "tests" / "golden" / "digest" / "demo.txt").read_bytes()

    @property
    def now(self) -> datetime:
        """The clock the measurements run at: the last minute of the last generated day
        (after its last poll; what they write stays on that day)."""
        return START + timedelta(days=self.day, minutes=-1)

    def engine(self) -> Engine:
        from watcher.store.base import make_engine
        return make_engine(self.url)

    def extend(self, to_day: int) -> dict[str, int]:
        """Generate days up to `to_day`; rows written per table."""
        written: dict[str, int] = {}
        engine = self.engine()
        try:
            with engine.begin() as conn:
                if engine.dialect.name == "sqlite":
                    conn.exec_driver_sql("PRAGMA synchronous=OFF")
                # rows the measurements added since (polls, replays) took ids too
                self.next_id = max(self.next_id, _next_id(conn, ITEM))
                self.next_match = max(self.next_match, _next_id(conn, MATCH))
                for day in range(self.day, to_day):
                    for table, rows in self._day(day):
                        _insert(conn, table, rows)
                        written[table.name] = written.get(table.name, 0) + len(rows)
                self.day = to_day
                for table, rows in self._once():
                    _insert(conn, table, rows)
                    written[table.name] = written.get(table.name, 0) + len(rows)
                self._feed_state(conn)
                if engine.dialect.name == "postgresql":
                    for table in ("item", "match", "outbox", "alerted", "ingest_issue",
                                  "service_run", "criterion_transition"):
                        conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', "
                                          f"'id'), (SELECT coalesce(max(id), 1) FROM {table}))"))
            if engine.dialect.name == "postgresql":
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                    c.execute(text("VACUUM ANALYZE"))
        finally:
            engine.dispose()
        return written

    def _day(self, day: int) -> Iterator[tuple[Any, list[dict[str, Any]]]]:
        start = START + timedelta(days=day)
        rng = self.rng
        up = [f for f in self.feeds if rng.random() >= FAIL_DAY]
        texts: dict[str, list[Text]] = {
            f.id: [rng.choice(self.general) for _ in range(_poisson(rng, f.rate))] for f in up}
        for feed, text_ in self._happenings(up, sum(len(t) for t in texts.values())):
            texts[feed.id].append(text_)
        items: list[dict[str, Any]] = []
        matches: list[dict[str, Any]] = []
        days = [{"feed_id": f.id, "day": start.date(), "polls_ok": 0,
                 "polls_failed": 1440 // f.minutes, "items_new": 0}
                for f in self.feeds if f.id not in texts]
        for f in up:
            polls = 1440 // f.minutes
            for t in texts[f.id]:
                seen = start + timedelta(minutes=f.minutes * rng.randrange(polls) + 1)
                items.append(self._item(f, t, seen, matches))
            days.append({"feed_id": f.id, "day": start.date(), "polls_ok": polls,
                         "polls_failed": 0, "items_new": len(texts[f.id])})
            self.items_total[f.id] += len(texts[f.id])
        issues = [{"feed_id": rng.choice(self.feeds).id,
                   "at": start + timedelta(hours=rng.random() * 24),
                   "detail": "SAXParseException: not well-formed (invalid token)"}
                  for _ in range(_poisson(rng, 20))]
        yield ITEM, items
        yield MATCH, matches
        yield FEED_DAY, days
        yield INGEST_ISSUE, issues
        if day % 73 == 0:                        # five changes of state a year
            state = ["WATCHING", "FOLLOW-UP", "WARN", "FOLLOW-UP", "HIGH-WATER"][day // 73 % 5]
            yield CRITERION_TRANSITION, [{"state": state, "previous": None, "at": start,
                                          "detail": f"generated transition, day {day}"}]
        yield from self._weekly(day, start)

    def _happenings(self, feeds: list[GenFeed], others: int) -> list[tuple[GenFeed, Text]]:
        """The day's matched reports: happenings, each told by a few outlets the same day
        (1 + geometric, mean 4), so that they make the matched share of the day's items."""
        rng = self.rng
        wanted = _poisson(rng, self.matched_share * others / (1 - self.matched_share))
        out: list[tuple[GenFeed, Text]] = []
        while len(out) < wanted and feeds:
            told = rng.choice(self.topical)
            for _ in range(min(1 + int(rng.expovariate(1 / 3)), wanted - len(out))):
                out.append((rng.choice(feeds), told))
        return out

    def _item(self, f: GenFeed, t: Text, seen: datetime,
              matches: list[dict[str, Any]]) -> dict[str, Any]:
        rng = self.rng
        item_id, self.next_id = self.next_id, self.next_id + 1
        for m in t.matches:
            matches.append({"id": self.next_match, "item_id": item_id, **m})
            self.next_match += 1
            if rng.random() < 1 / 3:
                self.matched.append((item_id, m["indicator"]))
        url = f"https://{f.host}/news/{item_id}.html"
        return {"id": item_id, "feed_id": f.id, "key": url, "title": t.title,
                "summary": t.summary, "url": url, "host": f.host, "lang": "en", "source": None,
                "published": seen - timedelta(minutes=rng.randrange(360)), "seen_at": seen}

    def _weekly(self, day: int, start: datetime) -> Iterator[tuple[Any, list[dict[str, Any]]]]:
        """Mondays: the digest, an alert with its marks, a service restart."""
        if start.weekday() != 0:
            return
        week = f"{start.isocalendar().year}-W{start.isocalendar().week:02d}"
        sent = start + timedelta(hours=7)
        rows = [_message("digest", week, "analysts@example.org", self.raw_digest, sent),
                _message("alert", f"{week}-a", "analysts@example.org",
                         self.raw_digest[:30_000], sent)]
        yield OUTBOX, rows
        marks, self.matched = self.matched, []
        yield ALERTED, [{"subject": ind, "ref": ref, "alert_key": f"{week}-a", "status": "queued",
                         "at": sent} for ref, ind in dict.fromkeys(marks)]
        yield SERVICE_RUN, [{"started_at": start, "last_seen_at": start + timedelta(days=7),
                             "pid": 1000 + day, "mode": "run"}]

    def _once(self) -> Iterator[tuple[Any, list[dict[str, Any]]]]:
        """Rows a watch has a few of whatever its age (written at the first extend)."""
        if self.once_done:
            return
        self.once_done = True
        yield SILENCE, [{"indicator": "counter_move", "until": START + timedelta(days=400),
                         "reason": "generated", "created_at": START}]
        yield INSTANCE, [{"id": f"host-{n}", "host": f"host-{n}", "pid": 100 + n,
                          "version": "bench", "started_at": START, "heartbeat_at": START,
                          "stopped_at": None} for n in range(2)]
        yield from extra_rows(self)

    def _feed_state(self, conn: Connection) -> None:
        """One row per feed, as its last poll left it (replaced on every extend)."""
        conn.execute(FEED_STATE.delete())
        now = self.now
        _insert(conn, FEED_STATE, [
            {"feed_id": f.id, "url": f.url, "tier": f.tier, "etag": None, "last_modified": None,
             "content_hash": None, "last_status": 200, "last_error": None, "failures": 0,
             "last_attempt_at": now, "last_success_at": now,
             "next_due_at": now + timedelta(minutes=f.minutes), "items_total": self.items_total[
                 f.id], "retired": False, "active": True, "lease_owner": None,
             "lease_until": None} for f in self.feeds])


def extra_rows(year: Year) -> Iterator[tuple[Any, list[dict[str, Any]]]]:
    """Tables other branches add (issue 12: decision, per-track transitions): rows for them
    when the schema has them. Nothing yet on this branch: a hook."""
    return iter(())


def _message(kind: str, period: str, rcpt: str, raw: bytes, at: datetime) -> dict[str, Any]:
    return {"kind": kind, "period": period, "recipient": rcpt, "message_id": f"<{period}@bench>",
            "subject": f"[watcher] {period}", "raw": raw, "status": "sent", "attempts": 1,
            "last_error": None, "created_at": at, "next_attempt_at": at, "sent_at": at,
            "claimed_by": None, "claimed_until": None}


def _next_id(conn: Connection, table: Any) -> int:
    return int(conn.execute(select(func.max(table.c.id))).scalar() or 0) + 1


def _insert(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    for n in range(0, len(rows), BATCH):
        conn.execute(insert(table), rows[n:n + BATCH])


def count_rows(url: str) -> dict[str, int]:
    from watcher.store.base import make_engine
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {t.name: int(conn.execute(select(func.count()).select_from(t)).scalar() or 0)
                    for t in (ITEM, MATCH, FEED_DAY, OUTBOX, ALERTED, INGEST_ISSUE)}
    finally:
        engine.dispose()


def build(url: str, n_feeds: int, corpus: Path, work: Path, matched_share: float,
          seed: int) -> tuple[Year, Path]:
    """The generator and its config, ready to extend."""
    work.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    urls = (corpus / "urls.txt").read_text(encoding="utf-8").split()
    feeds = make_feeds(n_feeds, urls, real_rates(work / "real-rates.json"), rng)
    config = write_config(feeds, work)
    general, topical = text_pools(corpus, Matcher(load_config(config)), work / "texts.json")
    return Year(url, feeds, general, topical, matched_share, seed), config


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True, help="database URL (a new or empty database)")
    ap.add_argument("--feeds", type=int, default=5000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--matched", type=float, default=0.001, help="share of items that match")
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--corpus", type=Path, default=Path("/tmp/watcher-bench/corpus"))
    ap.add_argument("--work", type=Path, default=Path("/tmp/watcher-bench/year"))
    args = ap.parse_args(argv)
    started = time.monotonic()
    year, config = build(args.db, args.feeds, args.corpus, args.work, args.matched, args.seed)
    written = year.extend(args.days)
    print(f"{args.days} days of {args.feeds} feeds in {time.monotonic() - started:.0f} s "
          f"(config {config}): " + ", ".join(f"{k} {v:,}" for k, v in written.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
