"""One cycle of the service: poll due feeds, store and match, judge, write and send digests.

This is the glue between the I/O edges (fetch, store, deliver) and the pure core (match,
events, score, criterion, report). The scheduler and the CLI both call these functions.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Generator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from watcher.config import Config, Feed
from watcher.criterion import evaluate
from watcher.db.tables import FeedStateRow
from watcher.deliver import Message, build_email, transport_for
from watcher.errors import DeliveryError, FeedError, PermanentDeliveryError, StoreError
from watcher.events import cluster
from watcher.fetch import FetchRequest, FetchResult, Fetcher, Validators, backoff
from watcher.match import Matcher
from watcher.models import CriterionVerdict, Event
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
        store = Store(settings.database_url, busy_timeout=settings.db_busy_timeout)
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
    left: int = 0              # not finished because the service is stopping: still due

    def line(self) -> str:
        return (f"polled {self.polled} feed(s): {self.unchanged} unchanged, {len(self.failed)} failed, "
                f"{self.new_items} new item(s), {self.matches} match(es) in {self.seconds:.1f} s"
                + (f"; stopping: {self.left} feed(s) left for the next run" if self.left else ""))


async def poll(ctx: Context, feed_ids: list[str] | None = None,
               stop: threading.Event | None = None) -> PollReport:
    """Fetch every due feed (or the ones named), store new items and their matches.

    When `stop` is set (SIGTERM) fetches still running are abandoned and no further feed is
    stored; the write in progress finishes. Feeds not done stay due for the next run."""
    started, now = time.monotonic(), ctx.clock()
    feeds = {f.id: f for f in ctx.config.feeds}
    report = PollReport()
    with closing(_batches(ctx, now, feed_ids, feeds)) as batches:
        for rows in batches:
            await _poll_batch(ctx, feeds, rows, now, report, stop)
            if stop is not None and stop.is_set():
                break
    report.seconds = time.monotonic() - started
    log.info("poll: %s", report.line())
    return report


def _batches(ctx: Context, now: datetime, feed_ids: list[str] | None,
             feeds: dict[str, Feed]) -> Generator[list[FeedStateRow], None, None]:
    """The feeds to poll: named ones at once; else due ones leased to me, a batch at a time.

    Leases make several instances on one database share the work (each feed is polled by
    one of them); a batch's leases are given back when it is done or abandoned, and those
    of a killed instance expire after WATCHER_LEASE_SECONDS."""
    if feed_ids is not None:
        yield [r for r in ctx.store.due_feeds(now, feed_ids) if r.feed_id in feeds]
        return
    me, seen = ctx.settings.instance_id, set[str]()
    while True:
        moment = ctx.clock()      # due at the poll's start; leases expire by the clock
        leased = ctx.store.lease_due_feeds(now, me, moment + timedelta(seconds=ctx.settings.lease_seconds),
                                           ctx.settings.lease_batch, expired=moment)
        fresh = [r for r in leased if r.feed_id not in seen]     # not in my config: once only
        try:
            if not fresh:
                return
            seen.update(r.feed_id for r in fresh)
            order = {fid: n for n, fid in enumerate(feeds)}     # config order, as before
            yield sorted((r for r in fresh if r.feed_id in feeds), key=lambda r: order[r.feed_id])
        finally:
            if leased:
                ctx.store.release_leases(me, [r.feed_id for r in leased])


async def _poll_batch(ctx: Context, feeds: dict[str, Feed], rows: list[FeedStateRow],
                      now: datetime, report: PollReport, stop: threading.Event | None) -> None:
    """Fetch one batch concurrently, store each feed in order as soon as it is fetched."""
    requests = [FetchRequest(r.feed_id, r.url, Validators(r.etag, r.last_modified, r.content_hash))
                for r in rows]
    report.polled += len(requests)
    async with fetcher_for(ctx.settings) as fetcher:
        tasks = [asyncio.ensure_future(fetcher.fetch_many([r])) for r in requests]
        try:
            stored = 0
            for req, task in zip(requests, tasks):   # in order, each as soon as it is fetched
                if not await _fetched(task, stop):
                    break
                _store(ctx, feeds[req.feed_id], task.result()[0], now, report, rows)
                stored += 1
            report.left += len(requests) - stored
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def _fetched(task: asyncio.Future[list[FetchResult | FeedError]],
                   stop: threading.Event | None) -> bool:
    """Wait for one fetch; False once the service is stopping (no new write is started)."""
    while not task.done() and not (stop is not None and stop.is_set()):
        await asyncio.wait({task}, timeout=0.2 if stop is not None else None)
    return not (stop is not None and stop.is_set())


def _store(ctx: Context, feed: Feed, result: FetchResult | FeedError, now: datetime,
           report: PollReport, rows: list) -> None:  # type: ignore[type-arg]
    """Record one feed's outcome; a database failure stops the cycle, the feed stays due."""
    try:
        if isinstance(result, FeedError):
            _record_failure(ctx, feed, result, now, report, rows)
        else:
            _ingest(ctx, feed, result, now, report, rows)
    except StoreError as exc:
        raise StoreError(f"poll stopped at feed {feed.id}: {exc.args[0]}") from exc


def fetcher_for(settings: Settings) -> Fetcher:
    """A Fetcher whose deadlines follow WATCHER_FETCH_TIMEOUT: a slow feed costs at most that."""
    total = settings.fetch_timeout
    return Fetcher(connect_timeout=min(10.0, total), read_timeout=min(30.0, total),
                   total_timeout=total)


def _ingest(ctx: Context, feed: Feed, result: FetchResult, now: datetime, report: PollReport,
            rows: list) -> None:  # type: ignore[type-arg]
    started, next_due = time.monotonic(), now + feed.interval
    if result.body is None:
        report.unchanged += 1
        log.debug("feed %s: unchanged (%d) in %.2f s", feed.id, result.status, result.elapsed)
        ctx.store.record_poll(feed.id, now=now, next_due=next_due, status=result.status,
                              etag=result.etag, last_modified=result.last_modified,
                              content_hash=result.content_hash, stored=0)
        return
    try:
        parsed = parse_feed(feed.id, result.body, content_type=result.content_type,
                            base_url=result.final_url, lang=feed.lang)
    except FeedError as exc:
        exc.status = exc.status or result.status   # the server answered; the body is the fault
        _record_failure(ctx, feed, exc, now, report, rows)
        return
    with ctx.store.transaction():        # items, matches, validators: all or none survive a kill
        new = ctx.store.add_items(parsed.items, now)
        matches = {s.id: ctx.matcher.match(s.item.title, s.item.summary) for s in new}
        matched = ctx.store.add_matches({k: v for k, v in matches.items() if v})
        ctx.store.record_poll(feed.id, now=now, next_due=next_due, status=result.status,
                              etag=result.etag, last_modified=result.last_modified,
                              content_hash=result.content_hash, stored=len(new))
    report.matches += matched
    report.new_items += len(new)
    log.info("feed %s: %d item(s), %d new, %d matched; fetched in %.2f s, stored in %.2f s%s",
             feed.id, len(parsed.items), len(new), sum(1 for v in matches.values() if v),
             result.elapsed, time.monotonic() - started,
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


def judge(ctx: Context, now: datetime | None = None) -> tuple[list[Event], CriterionVerdict]:
    """Events from every stored match, scored; the criterion's verdict; a change is stored once."""
    now = now or ctx.clock()
    events = score_events(cluster(ctx.store.matched_items()), ctx.config)
    verdict = evaluate(ctx.config, events, now)
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


def next_digest_at(config: Config, now: datetime) -> datetime:
    """The next scheduled digest time after now (UTC); the slot a week on follows DST."""
    return digest_slot(config, now + timedelta(days=7))


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
    with ctx.store.transaction():        # every recipient's copy or none: has_message() relies on it
        for rcpt in ctx.config.digest.recipients:
            mid = message_id("digest", period, rcpt, sender)
            msg = Message(mid, sender, rcpt, subject, text, html,
                          {"List-Id": f"watcher digest <digest.{sender.rsplit('@', 1)[-1]}>",
                           "Auto-Submitted": "auto-generated", "X-Watcher-Period": period}, now)
            written += ctx.store.enqueue(kind="digest", period=period, recipient=rcpt,
                                         message_id=mid, subject=subject,
                                         raw=bytes(build_email(msg)), now=now)
    log.info("digest %s: %s; %d message(s) written to the outbox", period, verdict.state.value, written)
    return written


def deliver_pending(ctx: Context, now: datetime | None = None) -> tuple[int, int]:
    """Send what the outbox holds; a failure stays queued (or is marked failed if permanent).

    Each message is claimed before it is sent, so instances sharing the database never send
    the same one twice; the claim ends with mark_sent or mark_failed."""
    from email import message_from_bytes, policy
    from email.message import EmailMessage
    now = now or ctx.clock()
    transport = transport_for(ctx.settings)
    sent = failed = 0
    until = now + timedelta(seconds=ctx.settings.lease_seconds)
    while (msg := ctx.store.claim_message(now, ctx.settings.instance_id, until)) is not None:
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
