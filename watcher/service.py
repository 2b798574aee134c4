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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from watcher.config import Config, Feed
from watcher.criterion import add_months, coverage_of, evaluate
from watcher.db.tables import FeedStateRow
from watcher.deliver import Message, build_email, transport_for
from watcher.errors import (
    DeliveryError,
    FeedError,
    PermanentDeliveryError,
    StoreError,
    WatcherError,
)
from watcher.events import cluster
from watcher.fetch import Fetcher, FetchRequest, FetchResult, Validators, backoff
from watcher.match import Matcher
from watcher.models import Coverage, CriterionVerdict, Event, Match
from watcher.parse import ParsedFeed
from watcher.render import render_digest
from watcher.report import DigestReport, History, Silence, Undelivered, build_digest
from watcher.score import score_events
from watcher.settings import Settings
from watcher.store import OutboxMessage, Store, UnchangedFeed
from watcher.workers import ParseWorkers, worker_count

log = logging.getLogger("watcher")
RETRY_SEND = timedelta(minutes=5)
MAX_ATTEMPTS = 10          # waits of 5 min doubling, capped at 5 h 20 min: ~21 h of trying


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Context:
    """What a cycle needs; built once at start and rebuilt on reload."""

    config: Config
    settings: Settings
    store: Store
    matcher: Matcher
    clock: Callable[[], datetime] = utcnow
    run_id: int | None = None        # this process's service_run row, when it is the service

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


PIPELINE = 48   # feeds between request and store at once: bounds the bodies held in memory


async def poll(ctx: Context, feed_ids: list[str] | None = None,
               stop: threading.Event | None = None) -> PollReport:
    """Fetch every due feed leased to this instance (or the ones named), store new items and
    their matches.

    A pipeline, not phases: each feed is fetched, parsed (in worker processes for a large
    poll) and stored in its own transaction as soon as it arrives, with at most PIPELINE
    feeds in flight, so memory does not grow with the number of feeds. The feeds come from
    leases taken a batch at a time as the pipeline needs them (see `_Leases`), so instances
    sharing the database poll each feed once. A batch's unchanged feeds cost their requests
    and one batched update, written before the batch's leases are given back.

    When `stop` is set (SIGTERM) fetches and parses still running are abandoned and no
    further feed is stored; the write in progress finishes. Feeds not done stay due."""
    started, now = time.monotonic(), ctx.clock()
    feeds = {f.id: f for f in ctx.config.feeds}
    report = PollReport()
    stopping = stop.is_set if stop is not None else (lambda: False)
    leases = _Leases(ctx, now, feeds, feed_ids, report)
    try:
        expected = leases.take_first()   # before the workers: their number follows the poll's size
        with ParseWorkers(worker_count(expected)) as workers:
            async with fetcher_for(ctx.settings) as fetcher:
                queue = leases.rows(stopping)   # PIPELINE runners take feeds from it in turn: no
                                                # task per feed, so 5,000 feeds cost 48 coroutines

                async def runner() -> None:
                    for batch, row in queue:
                        if not await _poll_feed(ctx, feeds[row.feed_id], row, fetcher, workers,
                                                now, report, batch.unchanged, stopping):
                            return
                        leases.done(batch)

                tasks = [asyncio.ensure_future(runner()) for _ in range(min(PIPELINE, expected))]
                try:
                    await _until_done(tasks, stop)
                finally:
                    for task in tasks:
                        task.cancel()
                    await asyncio.gather(*tasks, return_exceptions=True)
                for task in tasks:      # a database failure (or a bug) stops the cycle
                    if not task.cancelled() and (error := task.exception()) is not None:
                        raise error
        leases.close_all()              # stopped: what was found unchanged is written, the rest
    except BaseException:               # given back (it stays due)
        leases.abandon()
        raise
    report.left = report.polled - leases.finished
    report.seconds = time.monotonic() - started
    log.info("poll: %s", report.line())
    return report


@dataclass(eq=False)
class _Batch:
    """Feeds leased together: given back when all are done, or when the poll ends."""

    rows: list[FeedStateRow]
    leased: list[str]                 # every feed id leased, mine or not (released at the end)
    open: int                         # feeds not finished yet
    unchanged: list[UnchangedFeed] = field(default_factory=list)


class _Leases:
    """The feeds to poll: named ones at once; else due ones leased to me, a batch at a time.

    Leases make several instances on one database share the work (each feed is polled by
    one of them); the next batch is leased when the pipeline has taken the last one, so the
    runners never wait for a whole batch to finish. A batch's leases are given back when it
    is done or abandoned (after its unchanged feeds are written: a released feed must no
    longer be due), and those of a killed instance expire after WATCHER_LEASE_SECONDS."""

    def __init__(self, ctx: Context, now: datetime, feeds: dict[str, Feed],
                 feed_ids: list[str] | None, report: PollReport) -> None:
        self.ctx, self.now, self.feeds, self.feed_ids, self.report = ctx, now, feeds, feed_ids, report
        self.me = ctx.settings.instance_id
        self.order = {fid: n for n, fid in enumerate(feeds)}       # config order, as before
        self.seen: set[str] = set()
        self.open: list[_Batch] = []
        self.first: _Batch | None = None
        self.more = True
        self.finished = 0

    def take_first(self) -> int:
        """Lease the first batch; about how many feeds this poll will have."""
        self.first = self._lease()
        if self.first is None:
            return 0
        if not self.more:
            return len(self.first.rows)
        c = self.ctx
        return len(self.first.rows) + c.store.count_leasable(self.now, c.clock())

    def rows(self, stopping: Callable[[], bool]) -> Iterator[tuple[_Batch, FeedStateRow]]:
        """Every feed of every batch, leasing the next batch when this one is all taken."""
        batch, self.first = self.first, None
        while batch is not None and not stopping():
            for row in batch.rows:
                if stopping():
                    return
                yield batch, row
            batch = self._lease() if not stopping() else None

    def _lease(self) -> _Batch | None:
        ctx = self.ctx
        while self.more:
            if self.feed_ids is not None:
                self.more = False
                return self._open([r for r in ctx.store.due_feeds(self.now, self.feed_ids)
                                   if r.feed_id in self.feeds], [])
            limit, moment = ctx.settings.lease_batch, ctx.clock()  # leases expire by the clock
            try:
                leased = ctx.store.lease_due_feeds(
                    self.now, self.me, moment + timedelta(seconds=ctx.settings.lease_seconds),
                    limit, expired=moment)
            except StoreError as exc:
                raise StoreError(f"poll could not lease due feeds: {exc.args[0]}") from exc
            fresh = [r for r in leased if r.feed_id not in self.seen]  # not in my config: once only
            self.seen.update(r.feed_id for r in leased)
            self.more = len(fresh) == limit
            mine = sorted((r for r in fresh if r.feed_id in self.feeds),
                          key=lambda r: self.order[r.feed_id])
            batch = self._open(mine, [r.feed_id for r in leased])
            if mine:
                return batch
        return None

    def _open(self, rows: list[FeedStateRow], leased: list[str]) -> _Batch:
        batch = _Batch(rows, leased, len(rows))
        self.report.polled += len(rows)
        self.open.append(batch)
        if not rows:
            self._close(batch)
        return batch

    def done(self, batch: _Batch) -> None:
        """One feed of `batch` is stored; the last one closes the batch."""
        self.finished += 1
        batch.open -= 1
        if batch.open == 0:
            self._close(batch)

    def _close(self, batch: _Batch) -> None:
        """Write the batch's unchanged feeds in one statement, then give its leases back."""
        self.open.remove(batch)
        try:
            self.ctx.store.record_unchanged(batch.unchanged, self.now)
        except StoreError as exc:
            self.open.append(batch)         # abandon() gives its leases back
            raise StoreError(f"poll could not record unchanged feeds: {exc.args[0]}") from exc
        if batch.leased:
            self.ctx.store.release_leases(self.me, batch.leased)

    def close_all(self) -> None:
        while self.open:
            self._close(self.open[0])

    def abandon(self) -> None:
        """A failed poll: give back what is still leased if the database lets us; if not, the
        leases expire after WATCHER_LEASE_SECONDS."""
        leased = [fid for b in self.open for fid in b.leased]
        self.open.clear()
        if leased:
            try:
                self.ctx.store.release_leases(self.me, leased)
            except StoreError as exc:
                log.warning("poll: %d lease(s) left to expire: %s", len(leased), exc)


async def _until_done(tasks: list[asyncio.Future[None]], stop: threading.Event | None) -> None:
    """Wait for every feed, or until the service is stopping, or a database write fails."""
    pending = set(tasks)
    while pending and not (stop is not None and stop.is_set()):
        finished, pending = await asyncio.wait(pending, timeout=0.2 if stop is not None else None,
                                               return_when=asyncio.FIRST_EXCEPTION)
        if any(not t.cancelled() and t.exception() is not None for t in finished):
            return


async def _poll_feed(ctx: Context, feed: Feed, row: FeedStateRow, fetcher: Fetcher,
                     workers: ParseWorkers, now: datetime, report: PollReport,
                     unchanged: list[UnchangedFeed], stopping: Callable[[], bool]) -> bool:
    """One feed through fetch → parse → store → match; False if stopped before its write.

    The failure boundary of one feed (issue 16): whatever goes wrong with it is recorded on
    it and the poll goes on. Expected failures are FeedErrors; anything else is a bug in
    watcher, logged with its traceback, and the feed fails and backs off like any other.
    Only a database that refuses writes (StoreError) stops the poll: no feed could be
    recorded then, and every feed stays due."""
    if stopping():
        return False
    try:
        return await _poll_feed_steps(ctx, feed, row, fetcher, workers, now, report, unchanged,
                                      stopping)
    except StoreError:
        raise
    except Exception as exc:
        log.exception("feed %s: unexpected error, recorded on the feed (a bug in watcher)", feed.id)
        error = FeedError(feed.url, f"unexpected error (a bug in watcher): {type(exc).__name__}: {exc}")
        try:
            _store(ctx, feed, lambda: _record_failure(ctx, feed, error, now, report, row))
        except StoreError:
            raise
        except Exception:     # even its failure cannot be written: it stays due, the rest goes on
            log.exception("feed %s: its failure could not be recorded either", feed.id)
            report.failed[feed.id] = error.reason
        return True


async def _poll_feed_steps(ctx: Context, feed: Feed, row: FeedStateRow, fetcher: Fetcher,
                           workers: ParseWorkers, now: datetime, report: PollReport,
                           unchanged: list[UnchangedFeed], stopping: Callable[[], bool]) -> bool:
    """fetch → parse → store → match, expected failures recorded on the feed."""
    # The config's URL: the stored one has its credentials redacted. A page is parsed again
    # even when its bytes are the same (about 1 ms), so an edited `select:` block applies at
    # the next poll that is not a 304.
    same_bytes = row.content_hash if feed.page is None else None
    req = FetchRequest(row.feed_id, feed.url, Validators(row.etag, row.last_modified, same_bytes))
    result = await fetcher.fetch_or_error(req)
    if stopping():
        return False
    if isinstance(result, FeedError):
        _store(ctx, feed, lambda: _record_failure(ctx, feed, result, now, report, row))
        return True
    if result.body is None:
        report.unchanged += 1
        log.debug("feed %s: unchanged (%d) in %.2f s", feed.id, result.status, result.elapsed)
        unchanged.append(UnchangedFeed(feed.id, result.status, result.etag, result.last_modified,
                                       result.content_hash, now + feed.interval))
        return True
    try:
        parsed = await workers.parse(feed.id, result.body, content_type=result.content_type,
                                     base_url=result.final_url, lang=feed.lang, select=feed.page)
    except FeedError as exc:
        exc.status = exc.status or result.status   # the server answered; the body is the fault
        if stopping():
            return False
        _store(ctx, feed, lambda err=exc: _record_failure(ctx, feed, err, now, report, row))
        return True
    if stopping():
        return False
    _store(ctx, feed, lambda: _ingest(ctx, feed, result, parsed, now, report))
    return True


def _store(ctx: Context, feed: Feed, write: Callable[[], None]) -> None:
    """Record one feed's outcome; a database failure stops the cycle, the feed stays due."""
    try:
        write()
    except StoreError as exc:
        raise StoreError(f"poll stopped at feed {feed.id}: {exc.args[0]}") from exc


def fetcher_for(settings: Settings) -> Fetcher:
    """A Fetcher whose deadlines follow WATCHER_FETCH_TIMEOUT: a slow feed costs at most that."""
    total = settings.fetch_timeout
    return Fetcher(connect_timeout=min(10.0, total), read_timeout=min(30.0, total),
                   total_timeout=total, allow_private=settings.allow_private)


def _ingest(ctx: Context, feed: Feed, result: FetchResult, parsed: ParsedFeed, now: datetime,
            report: PollReport) -> None:
    started = time.monotonic()
    with ctx.store.transaction():        # items, matches, validators: all or none survive a kill
        if parsed.warning:
            ctx.store.record_issue(feed.id, now, parsed.warning)
        new = ctx.store.add_items(parsed.items, now)
        matches = {s.id: ctx.matcher.match(s.item.title, s.item.summary) for s in new}
        matched = ctx.store.add_matches({k: v for k, v in matches.items() if v})
        ctx.store.record_poll(feed.id, now=now, next_due=now + feed.interval,
                              status=result.status, etag=result.etag,
                              last_modified=result.last_modified,
                              content_hash=result.content_hash, stored=len(new))
    report.matches += matched
    report.new_items += len(new)
    log.info("feed %s: %d item(s), %d new, %d matched; fetched in %.2f s, stored in %.2f s%s",
             feed.id, len(parsed.items), len(new), sum(1 for v in matches.values() if v),
             result.elapsed, time.monotonic() - started,
             f" (warning: {parsed.warning})" if parsed.warning else "")


def _record_failure(ctx: Context, feed: Feed, exc: FeedError, now: datetime, report: PollReport,
                    row: FeedStateRow) -> None:
    failures = row.failures + 1
    retire = exc.status == 410
    next_due = now + backoff(failures, feed.interval, exc.retry_after)
    ctx.store.record_failure(feed.id, now=now, status=exc.status, reason=exc.reason,
                             next_due=next_due, retire=retire)
    report.failed[feed.id] = exc.reason
    log.warning("feed %s failed (%d in a row): %s; next try %s%s", feed.id, failures, exc.reason,
                f"{next_due:%Y-%m-%d %H:%M} UTC", " — retired (410 Gone)" if retire else "")


def start_run(ctx: Context, mode: str) -> None:
    """Record that the service started: the digest's uptime is built from these rows."""
    import os
    ctx.run_id = ctx.store.record_start(ctx.clock(), os.getpid(), mode)


def mark_alive(ctx: Context) -> None:
    """The run is alive now; a SIGKILL loses at most the time since the last call."""
    if ctx.run_id is not None:
        ctx.store.touch_run(ctx.run_id, ctx.clock())


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


def prune(ctx: Context, now: datetime | None = None) -> int:
    """Apply the retention policy: items that matched nothing go after WATCHER_KEEP_UNMATCHED.

    Keeps a year of polling thousands of feeds from growing the database with noise; the
    cost is that a later rule change (`watcher rematch`) cannot revisit what was deleted."""
    days = ctx.settings.keep_unmatched_days
    if not days:
        return 0
    gone = ctx.store.prune_unmatched((now or ctx.clock()) - timedelta(days=days))
    if gone:
        log.info("retention: deleted %d item(s) that matched nothing, first seen over %d days ago",
                 gone, days)
    return gone


# What judge() returns: every event, scored, and the criterion's verdict.
Judged = tuple[list[Event], CriterionVerdict]


def judge(ctx: Context, now: datetime | None = None) -> Judged:
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
    return slot.astimezone(UTC)


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


def history(ctx: Context, since: datetime | None, now: datetime) -> History:
    """What the digest reports beyond events: transitions, uptime, problems, silences."""
    if ctx.run_id is not None:
        ctx.store.touch_run(ctx.run_id, now)
    floor = since or datetime.min.replace(tzinfo=UTC)
    undelivered = [Undelivered(m.kind, m.period, m.recipient, m.last_error or "", m.attempts)
                   for m in ctx.store.messages("failed") if m.created_at >= floor]
    return History(ctx.store.transition_log(), ctx.store.service_runs(since),
                   ctx.store.issues(since), undelivered,
                   [Silence(i, u, r) for i, u, r, _ in ctx.store.silences(now)])


def digest_report(ctx: Context, now: datetime, period: str, since: datetime | None,
                  full: bool = False, judged: Judged | None = None) -> DigestReport:
    """The digest model as of now; the email's lists point at the full report.

    `judged` is this cycle's `judge()` result when the caller has it: reading and clustering
    every stored match is the costly part, and one cycle needs it once."""
    events, verdict = judged or judge(ctx, now)
    report = build_digest(ctx.config, events, verdict, ctx.store.feed_health(), period=period,
                          now=now, since=since, history=history(ctx, since, now), full=full)
    name = report_name(period)
    if ctx.settings.report_url:
        report.report_link = f"{ctx.settings.report_url}/{name}"
    else:
        report.report_path = str(ctx.settings.reports_dir / name)
    return report


def report_name(period: str) -> str:
    return f"digest-{period}.html"


def write_full_report(ctx: Context, now: datetime, period: str, since: datetime | None,
                      judged: Judged | None = None) -> Path:
    """The .html report with every event (what "and N more" points at), written atomically."""
    from watcher.deliver import _write_atomically  # the outbox's atomic write, reused
    report = digest_report(ctx, now, period, since, full=True, judged=judged)
    _subject, _text, html = render_digest(report, ctx.config)
    path = ctx.settings.reports_dir / report_name(period)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomically(path, html.encode("utf-8"))
    except OSError as exc:        # the email would point at nothing: queue it next time instead
        raise WatcherError(f"cannot write the full report {path}: {exc.strerror or exc}") from exc
    return path


def email_row(ctx: Context, *, kind: str, period: str, recipient: str, subject: str, text: str,
              html: str, now: datetime) -> dict[str, object]:
    """The outbox row of one email: full RFC 822 bytes, so a retry sends the same message."""
    sender = ctx.settings.sender or ctx.config.digest.sender
    domain = sender.rsplit("@", 1)[-1].strip(">")
    mid = message_id(kind, period, recipient, sender)
    msg = Message(mid, sender, recipient, subject, text, html,
                  {"List-Id": f"watcher {kind}s <{kind}.{domain}>",
                   "Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All",
                   "Precedence": "bulk", "X-Watcher-Period": period}, now)
    return {"recipient": recipient, "message_id": mid, "subject": subject,
            "raw": bytes(build_email(msg))}


def channel_rows(ctx: Context, *, kind: str, period: str, subject: str,
                 text: str) -> list[dict[str, object]]:
    """One outbox row per Apprise channel, so each is retried and deduplicated on its own."""
    from watcher.deliver import channel_id, channel_payload
    sender = ctx.settings.sender or ctx.config.digest.sender
    return [{"recipient": cid, "message_id": message_id(kind, period, cid, sender),
             "subject": subject, "raw": channel_payload(subject, text)}
            for cid in dict.fromkeys(channel_id(u) for u in ctx.settings.notify_urls)]


def prepare_digest(ctx: Context, now: datetime | None = None, *, period: str | None = None,
                   since: datetime | None = None, judged: Judged | None = None) -> int:
    """Write this period's digest to the outbox for each recipient, once; returns how many.

    'New' means seen since the previous digest, or since `since` when given. The full
    report (every event) is written first, so the email's "and N more" never points at
    nothing."""
    now = now or ctx.clock()
    period = period or period_of(ctx.config, now)
    if ctx.store.has_message("digest", period):
        return 0
    since = since or ctx.store.last_digest_at()
    judged = judged or judge(ctx, now)          # once for both the full report and the email
    write_full_report(ctx, now, period, since, judged)
    report = digest_report(ctx, now, period, since, judged=judged)
    subject, text, html = render_digest(report, ctx.config)
    written = 0
    rows = [email_row(ctx, kind="digest", period=period, recipient=rcpt, subject=subject,
                      text=text, html=html, now=now) for rcpt in ctx.config.digest.recipients]
    rows += channel_rows(ctx, kind="digest", period=period, subject=subject, text=text)
    with ctx.store.transaction():        # every recipient's copy or none: has_message() relies on it
        for row in rows:
            written += ctx.store.enqueue(kind="digest", period=period, now=now, **row)  # type: ignore[arg-type]
    log.info("digest %s: %s; %d message(s) written to the outbox", period, report.state, written)
    return written


def prepare_alerts(ctx: Context, now: datetime | None = None, judged: Judged | None = None) -> int:
    """Queue one grouped alert per recipient for what crossed a rule since the last cycle.

    The outbox rows and the marks that stop a second alert are one transaction; returns
    how many messages were queued."""
    from watcher.alerts import select_alerts
    from watcher.render import render_alert
    now = now or ctx.clock()
    events, verdict = judged or judge(ctx, now)
    silenced = {s[0] for s in ctx.store.silences(now)}
    report = select_alerts(ctx.config, events, verdict, ctx.store.transition_log(),
                           ctx.store.alerted(), silenced, now)
    if not report.lines and not report.silenced:
        return 0
    messages = []
    if report.lines:
        subject, text, html = render_alert(report, ctx.config)
        messages = [email_row(ctx, kind="alert", period=report.key, recipient=rcpt,
                              subject=subject, text=text, html=html, now=now)
                    for rcpt in ctx.config.alert_recipients]
        messages += channel_rows(ctx, kind="alert", period=report.key, subject=subject, text=text)
    written = ctx.store.enqueue_alert(key=report.key, messages=messages,
                                      covered=report.covered(), now=now)
    for line in report.silenced:
        log.info("alert for %s silenced: %s", line.subject, line.headline)
    if report.lines:
        log.info("alert %s: %s; %d message(s) queued", report.key,
                 ", ".join(dict.fromkeys(line.subject for line in report.lines)), written)
    return written


def deliver_pending(ctx: Context, now: datetime | None = None) -> tuple[int, int]:
    """Send what the outbox holds; a failure stays queued (or is marked failed if permanent,
    or after MAX_ATTEMPTS tries: nothing is retried forever).

    Each message is claimed before it is sent, so instances sharing the database never send
    the same one twice; the claim ends with mark_sent or mark_failed."""
    now = now or ctx.clock()
    send = _sender(ctx)
    sent = failed = 0
    until = now + timedelta(seconds=ctx.settings.lease_seconds)
    while (msg := ctx.store.claim_message(now, ctx.settings.instance_id, until)) is not None:
        try:
            receipt = send(msg)
        except DeliveryError as exc:
            give_up = isinstance(exc, PermanentDeliveryError) or msg.attempts + 1 >= MAX_ATTEMPTS
            ctx.store.mark_failed(msg.id, now, str(exc), permanent=give_up,
                                  retry_in=RETRY_SEND * (2 ** min(msg.attempts, 6)))
            log.warning("%s %s to %s not sent (%s): %s", msg.kind, msg.period, msg.recipient,
                        "given up" if give_up else "will retry", exc)
            failed += 1
            continue
        # The window where the server has the message and this row still says pending is
        # these few lines: a crash here means one resend, with the same Message-ID.
        ctx.store.mark_sent(msg.id, now)
        log.info("%s %s sent to %s: %s", msg.kind, msg.period, msg.recipient, receipt)
        sent += 1
    return sent, failed


def _sender(ctx: Context) -> Callable[[OutboxMessage], str]:
    """Route each outbox row: Apprise channels by their id, everything else as email."""
    from email import message_from_bytes, policy
    from email.message import EmailMessage

    from watcher.deliver import CHANNEL_PREFIX, AppriseTransport
    mail = transport_for(ctx.settings)
    channels = AppriseTransport(ctx.settings.notify_urls)

    def send(msg: OutboxMessage) -> str:
        if msg.recipient.startswith(CHANNEL_PREFIX):
            return channels.send(msg.raw, msg.recipient)
        email = message_from_bytes(msg.raw, _class=EmailMessage, policy=policy.SMTP)
        return mail.send(email, msg.recipient)
    return send


def run_once(ctx: Context) -> tuple[PollReport, CriterionVerdict, tuple[int, int]]:
    """One full cycle: poll, judge, write the digest due (if not yet written), deliver."""
    if ctx.run_id is None:
        start_run(ctx, "once")
    report = asyncio.run(poll(ctx))
    prune(ctx)
    now = ctx.clock()
    judged = judge(ctx, now)                      # one judgement serves alerts and the digest
    prepare_alerts(ctx, now, judged)
    prepare_digest(ctx, now, judged=judged)
    return report, judged[1], deliver_pending(ctx)
