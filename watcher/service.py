"""One cycle of the service: poll due feeds, store and match, judge, write and send digests.

This is the glue between the I/O edges (fetch, store, deliver) and the pure core (match,
events, score, criterion, report). The scheduler and the CLI both call these functions.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from watcher.config import Config, Feed
from watcher.criterion import add_months, coverage_of, evaluate
from watcher.deliver import Message, build_email, transport_for
from watcher.errors import DeliveryError, FeedError, PermanentDeliveryError
from watcher.events import cluster
from watcher.fetch import FetchRequest, FetchResult, Fetcher, Validators, backoff
from watcher.match import Matcher
from watcher.models import Coverage, CriterionVerdict, Event, Match
from watcher.parse import parse_feed
from watcher.render import render_digest
from watcher.report import build_digest
from watcher.score import score_events
from watcher.settings import Settings
from watcher.store import Store

log = logging.getLogger("watcher")
RETRY_SEND = timedelta(minutes=5)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Context:
    """What a cycle needs; built once at start and rebuilt on reload."""

    config: Config
    settings: Settings
    store: Store
    matcher: Matcher
    clock: Callable[[], datetime] = utcnow

    @classmethod
    def open(cls, config: Config, settings: Settings,
             clock: Callable[[], datetime] = utcnow) -> Context:
        store = Store(settings.database_url)
        store.sync_feeds(config.feeds, clock())
        return cls(config, settings, store, Matcher(config), clock)


@dataclass
class PollReport:
    """What one poll did, for logs and `watcher poll`."""

    polled: int = 0
    unchanged: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    new_items: int = 0
    matches: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        return (f"polled {self.polled} feed(s): {self.unchanged} unchanged, {len(self.failed)} failed, "
                f"{self.new_items} new item(s), {self.matches} match(es) in {self.seconds:.1f} s")


async def poll(ctx: Context, feed_ids: list[str] | None = None) -> PollReport:
    """Fetch every due feed (or the ones named), store new items and their matches."""
    started, now = time.monotonic(), ctx.clock()
    feeds = {f.id: f for f in ctx.config.feeds}
    rows = [r for r in ctx.store.due_feeds(now, feed_ids) if r.feed_id in feeds]
    requests = [FetchRequest(r.feed_id, r.url, Validators(r.etag, r.last_modified, r.content_hash))
                for r in rows]
    report = PollReport(polled=len(requests))
    async with Fetcher() as fetcher:
        results = await fetcher.fetch_many(requests)
    for req, result in zip(requests, results):
        feed = feeds[req.feed_id]
        if isinstance(result, FeedError):
            _record_failure(ctx, feed, result, now, report, rows)
        else:
            _ingest(ctx, feed, result, now, report, rows)
    report.seconds = time.monotonic() - started
    log.info("poll: %s", report.line())
    return report


def _ingest(ctx: Context, feed: Feed, result: FetchResult, now: datetime, report: PollReport,
            rows: list) -> None:  # type: ignore[type-arg]
    next_due = now + feed.interval
    if result.body is None:
        report.unchanged += 1
        ctx.store.record_poll(feed.id, now=now, next_due=next_due, status=result.status,
                              etag=result.etag, last_modified=result.last_modified,
                              content_hash=result.content_hash, stored=0)
        return
    try:
        parsed = parse_feed(feed.id, result.body, content_type=result.content_type,
                            base_url=result.final_url, lang=feed.lang)
    except FeedError as exc:
        _record_failure(ctx, feed, exc, now, report, rows)
        return
    new = ctx.store.add_items(parsed.items, now)
    matches = {s.id: ctx.matcher.match(s.item.title, s.item.summary) for s in new}
    report.matches += ctx.store.add_matches({k: v for k, v in matches.items() if v})
    report.new_items += len(new)
    ctx.store.record_poll(feed.id, now=now, next_due=next_due, status=result.status,
                          etag=result.etag, last_modified=result.last_modified,
                          content_hash=result.content_hash, stored=len(new))
    log.info("feed %s: %d item(s), %d new, %d matched%s", feed.id, len(parsed.items), len(new),
             sum(1 for v in matches.values() if v),
             f" (warning: {parsed.warning})" if parsed.warning else "")


def _record_failure(ctx: Context, feed: Feed, exc: FeedError, now: datetime, report: PollReport,
                    rows: list) -> None:  # type: ignore[type-arg]
    row = next((r for r in rows if r.feed_id == feed.id), None)
    failures = (row.failures if row else 0) + 1
    retire = exc.status == 410
    next_due = now + backoff(failures, feed.interval, exc.retry_after)
    ctx.store.record_failure(feed.id, now=now, status=exc.status, reason=exc.reason,
                             next_due=next_due, retire=retire)
    report.failed[feed.id] = exc.reason
    log.warning("feed %s failed (%d in a row): %s; next try %s%s", feed.id, failures, exc.reason,
                f"{next_due:%Y-%m-%d %H:%M} UTC", " — retired (410 Gone)" if retire else "")


@dataclass
class RematchReport:
    """What re-applying the current rules to stored items changed."""

    items: int = 0
    matches: int = 0
    changed: int = 0

    def line(self) -> str:
        return (f"rematched {self.items} stored item(s) with the current rules: {self.matches} "
                f"match(es); {self.changed} item(s) matched differently than before")


def rematch(ctx: Context, since: datetime | None = None, batch: int = 500) -> RematchReport:
    """Re-apply the current rules to stored items (seen since `since`), replacing their matches,
    so history, events and the criterion follow an edited indicators.yaml."""
    before: dict[int, set[tuple[str, str]]] = {}
    for m in ctx.store.matched_items(since):
        before.setdefault(m.item_id, set()).add((m.match.indicator, m.match.certainty.value))
    report = RematchReport()
    pending: dict[int, list[Match]] = {}
    for stored in ctx.store.iter_items(since):
        found = ctx.matcher.match(stored.item.title, stored.item.summary)
        pending[stored.id] = found
        report.items += 1
        report.changed += {(m.indicator, m.certainty.value) for m in found} != before.get(stored.id, set())
        if len(pending) >= batch:
            report.matches += ctx.store.add_matches(pending)
            pending = {}
    report.matches += ctx.store.add_matches(pending)
    log.info("%s", report.line())
    return report


def current_events(ctx: Context) -> list[Event]:
    """Events from every stored match, scored (reads only)."""
    return score_events(cluster(ctx.store.matched_items(), ctx.matcher.concept_of), ctx.config)


def coverage(ctx: Context, now: datetime) -> Coverage:
    """How much of the watch the store saw between the baseline and now."""
    start = ctx.config.baseline_at
    end = min(now, add_months(start, ctx.config.criterion.expire_months))
    return coverage_of(ctx.config, now, observed_days=ctx.store.observed_days(start, end),
                       items=ctx.store.items_seen(start, end),
                       recent_items=ctx.store.items_seen(max(start, end - timedelta(days=28)), end),
                       failing_now=sum(1 for f in ctx.store.feed_health() if f.failures or f.retired))


def judge(ctx: Context, now: datetime | None = None) -> tuple[list[Event], CriterionVerdict]:
    """Events from every stored match, scored; the criterion's verdict; a change is stored once."""
    now = now or ctx.clock()
    events = current_events(ctx)
    verdict = evaluate(ctx.config, events, now, coverage(ctx, now))
    if ctx.store.record_transition(verdict.state, now, verdict.sentence()):
        log.info("criterion: %s", verdict.sentence())
    return events, verdict


def digest_slot(config: Config, now: datetime) -> datetime:
    """The latest scheduled digest time at or before now (in the digest's time zone)."""
    local = now.astimezone(config.digest.tz)
    day = local.date() - timedelta(days=(local.weekday() - config.digest.weekday) % 7)
    slot = datetime.combine(day, config.digest.at, tzinfo=config.digest.tz)
    if slot > local:
        slot -= timedelta(days=7)
    return slot.astimezone(timezone.utc)


def period_of(config: Config, now: datetime) -> str:
    """The digest period a moment belongs to, named by its ISO week ('2026-W48')."""
    year, week, _ = digest_slot(config, now).astimezone(config.digest.tz).isocalendar()
    return f"{year}-W{week:02d}"


def message_id(kind: str, period: str, recipient: str, sender: str) -> str:
    """Stable per (kind, period, recipient): a resent message is recognisably the same."""
    digest = hashlib.sha256(recipient.lower().encode()).hexdigest()[:12]
    domain = sender.rsplit("@", 1)[-1]
    return f"<{kind}.{period}.{digest}@{domain}>"


def prepare_digest(ctx: Context, now: datetime | None = None, *, period: str | None = None,
                   since: datetime | None = None) -> int:
    """Write this period's digest to the outbox for each recipient, once; returns how many.

    'New' means seen since the previous digest, or since `since` when given."""
    now = now or ctx.clock()
    period = period or period_of(ctx.config, now)
    if ctx.store.has_message("digest", period):
        return 0
    events, verdict = judge(ctx, now)
    report = build_digest(ctx.config, events, verdict, ctx.store.feed_health(), period=period,
                          now=now, since=since or ctx.store.last_digest_at())
    subject, text, html = render_digest(report, ctx.config)
    sender = ctx.settings.sender or ctx.config.digest.sender
    written = 0
    for rcpt in ctx.config.digest.recipients:
        mid = message_id("digest", period, rcpt, sender)
        msg = Message(mid, sender, rcpt, subject, text, html,
                      {"List-Id": f"watcher digest <digest.{sender.rsplit('@', 1)[-1]}>",
                       "Auto-Submitted": "auto-generated", "X-Watcher-Period": period}, now)
        written += ctx.store.enqueue(kind="digest", period=period, recipient=rcpt, message_id=mid,
                                     subject=subject, raw=bytes(build_email(msg)), now=now)
    log.info("digest %s: %s; %d message(s) written to the outbox", period, verdict.state.value, written)
    return written


def deliver_pending(ctx: Context, now: datetime | None = None) -> tuple[int, int]:
    """Send what the outbox holds; a failure stays queued (or is marked failed if permanent)."""
    from email import message_from_bytes, policy
    from email.message import EmailMessage
    now = now or ctx.clock()
    transport = transport_for(ctx.settings)
    sent = failed = 0
    for msg in ctx.store.pending(now):
        email = message_from_bytes(msg.raw, _class=EmailMessage, policy=policy.SMTP)
        try:
            receipt = transport.send(email, msg.recipient)
        except DeliveryError as exc:
            permanent = isinstance(exc, PermanentDeliveryError)
            ctx.store.mark_failed(msg.id, now, str(exc), permanent=permanent,
                                  retry_in=RETRY_SEND * (2 ** min(msg.attempts, 6)))
            log.warning("%s %s to %s not sent (%s): %s", msg.kind, msg.period, msg.recipient,
                        "permanent, given up" if permanent else "will retry", exc)
            failed += 1
            continue
        ctx.store.mark_sent(msg.id, now)
        log.info("%s %s sent to %s: %s", msg.kind, msg.period, msg.recipient, receipt)
        sent += 1
    return sent, failed


def run_once(ctx: Context) -> tuple[PollReport, CriterionVerdict, tuple[int, int]]:
    """One full cycle: poll, judge, write the digest due (if not yet written), deliver."""
    report = asyncio.run(poll(ctx))
    _, verdict = judge(ctx)
    prepare_digest(ctx)
    return report, verdict, deliver_pending(ctx)
