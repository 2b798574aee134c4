"""One cycle of the service: poll, judge, queue alerts and the digest, deliver (`run_once`).

The glue between the edges (`ingest.poll`, `store`, `deliver.outbox`) and the pure core
(`judge`) and views (`report`); the scheduler and the CLI call these functions.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from watcher.context import Context
from watcher.deliver import write_atomically
from watcher.deliver.outbox import compose_email, compose_posts, deliver_pending
from watcher.errors import WatcherError
from watcher.ingest.poll import PollReport, poll
from watcher.judge.criterion import add_months, coverage_of, evaluate
from watcher.judge.events import cluster
from watcher.judge.score import score_events
from watcher.models import Coverage, CriterionVerdict, Event, FeedStatus, Match
from watcher.report.alerts import select_alerts, severity_of
from watcher.report.balance import balance_of
from watcher.report.digest import (
    DigestReport,
    History,
    Undelivered,
    build_digest,
    entries,
    summarise,
)
from watcher.report.periods import next_digest_at, period_of
from watcher.report.render import alert_post, digest_post, render_alert, render_digest
from watcher.report.status import Schedule, StatusView
from watcher.store import MatchOutcome, OutboxDraft

log = logging.getLogger("watcher")


def start_run(ctx: Context, mode: str) -> None:
    """Record that the service started: the digest's uptime is built from these rows."""
    ctx.run_id = ctx.store.record_start(ctx.clock(), os.getpid(), mode)


def poll_cycle(ctx: Context, stop: threading.Event | None = None) -> PollReport:
    """One poll of the due feeds, its duration kept on the run (the workbench's /metrics)."""
    report = asyncio.run(poll(ctx, stop=stop))
    if ctx.run_id is not None:
        ctx.store.record_poll_cycle(ctx.run_id, ctx.clock(), report.seconds)
    return report


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
    before = ctx.store.match_outcomes(since)
    report = RematchReport()
    pending: dict[int, list[Match]] = {}
    for stored in ctx.store.item_texts(since):
        found = ctx.matcher.match(stored.title, stored.summary)
        pending[stored.id] = found
        report.items += 1
        now_found = {MatchOutcome(m.indicator, m.certainty.value) for m in found}
        report.changed += now_found != before.get(stored.id, set())
        if len(pending) >= batch:
            report.matches += ctx.store.add_matches(pending)
            pending = {}
    report.matches += ctx.store.add_matches(pending)
    log.info("%s", report.line())
    return report


def current_events(ctx: Context) -> list[Event]:
    """Events from every stored match, scored (reads only)."""
    return score_events(cluster(ctx.store.matched_items(), ctx.matcher.concept_map()),
                        ctx.config)


def coverage(ctx: Context, now: datetime) -> Coverage:
    """How much of the watch the store saw between the baseline and now."""
    start = ctx.config.baseline_at
    end = min(now, add_months(start, ctx.config.criterion.expire_months))
    return coverage_of(ctx.config, now, observed_days=ctx.store.observed_days(start, end),
                       items=ctx.store.items_seen(start, end),
                       recent_items=ctx.store.items_seen(max(start, end - timedelta(days=28)), end),
                       failing_now=sum(1 for f in ctx.store.feed_health()
                                       if f.failures or f.retired))


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
    """Events from every stored match, scored; the criterion's verdict with the analysts'
    decisions; a change of the criterion, of a track or of the accession's stage is stored once
    (by a context that may write: `status` and the other read-only commands only look). A watch
    that has stored no item yet (a first start, or another instance still holding every feed's
    lease) records nothing: a HIGH-WATER stored then would alert 'changed' once the first poll
    lands."""
    now = now or ctx.clock()
    events = current_events(ctx)
    verdict = evaluate(ctx.config, events, now, coverage(ctx, now), ctx.store.decisions())
    if ctx.read_only or not ctx.store.has_items():
        return events, verdict
    for track, state, detail in changes_of(verdict):
        if ctx.store.record_transition(state, now, detail, track):
            log.info("criterion%s: %s", f" ({track})" if track else "", detail)
    return events, verdict


def judge_as_of(ctx: Context, moment: datetime) -> Judged:
    """The events and the verdict as they stood at `moment`: only what had been seen by then
    (replay, `status --as-of`). Nothing is recorded, so the live history stays as it is."""
    seen = [m for m in ctx.store.matched_items() if m.seen_at <= moment and m.published <= moment]
    events = score_events(cluster(seen, ctx.matcher.concept_map()), ctx.config)
    return events, evaluate(ctx.config, events, moment, coverage(ctx, moment),
                            ctx.store.decisions())


def changes_of(verdict: CriterionVerdict) -> list[tuple[str | None, str, str]]:
    """(track, state, detail) to store: the whole criterion, each track, the accession's stage."""
    out: list[tuple[str | None, str, str]] = [(None, verdict.state.value, verdict.sentence())]
    if len(verdict.tracks) > 1:
        out += [(t.id, t.state.value, f"{t.title}: {t.state.value}"
                 + (f" since {t.since:%d %b %Y}" if t.since else "")) for t in verdict.tracks]
    f = verdict.formalization
    if f is not None and f.stage is not None:
        out.append(("formalization", f.stage.id, f.phrase()))
    return out


def history(ctx: Context, since: datetime | None, now: datetime) -> History:
    """What the digest reports beyond events: transitions, uptime, problems, silences."""
    if ctx.run_id is not None:
        ctx.store.touch_run(ctx.run_id, now)
    floor = since or datetime.min.replace(tzinfo=UTC)
    undelivered = [Undelivered(m.kind, m.period, m.recipient, m.last_error or "", m.attempts)
                   for m in ctx.store.messages("failed") if m.created_at >= floor]
    return History(ctx.store.transitions(), ctx.store.service_runs(since),
                   ctx.store.issues(since), undelivered, ctx.store.silences(now))


def digest_report(ctx: Context, now: datetime, period: str, since: datetime | None,
                  full: bool = False, judged: Judged | None = None) -> DigestReport:
    """The digest model as of now; the email's lists point at the full report.

    `judged` is this cycle's `judge()` result when the caller has it: reading and clustering
    every stored match is the costly part, and one cycle needs it once."""
    events, verdict = judged or judge(ctx, now)
    name = report_name(period)
    link = f"{ctx.settings.report_url}/{name}" if ctx.settings.report_url else None
    path = None if link else str(ctx.settings.reports_dir / name)
    return build_digest(ctx.config, events, verdict, ctx.store.feed_health(), period=period,
                        now=now, since=since, history=history(ctx, since, now), full=full,
                        report_link=link, report_path=path, workbench=workbench_of(ctx))


def workbench_of(ctx: Context) -> str | None:
    """The workbench's root when WATCHER_REPORT_URL is the workbench's /reports (it serves the
    full reports there): the digest then links its week and the review queue."""
    url = (ctx.settings.report_url or "").rstrip("/")
    return url[:-len("/reports")] if url.endswith("/reports") else None


def report_name(period: str) -> str:
    return f"digest-{period}.html"


def latest_report_link(ctx: Context) -> str | None:
    """The URL of the newest full report written, when WATCHER_REPORT_URL serves them."""
    if not ctx.settings.report_url:
        return None
    written = sorted(ctx.settings.reports_dir.glob("digest-*.html"))
    return f"{ctx.settings.report_url}/{written[-1].name}" if written else ctx.settings.report_url


def write_full_report(ctx: Context, now: datetime, period: str, since: datetime | None,
                      judged: Judged | None = None) -> Path:
    """The .html report with every event (what "and N more" points at), written atomically."""
    report = digest_report(ctx, now, period, since, full=True, judged=judged)
    _subject, _text, html = render_digest(report, ctx.config)
    path = ctx.settings.reports_dir / report_name(period)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, html.encode("utf-8"))
    except OSError as exc:        # the email would point at nothing: queue it next time instead
        raise WatcherError(f"cannot write the full report {path}: {exc.strerror or exc}") from exc
    return path


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
    drafts = [compose_email(ctx, kind="digest", period=period, recipient=rcpt, subject=subject,
                            text=text, html=html, now=now)
              for rcpt in ctx.config.digest.recipients]
    drafts += compose_posts(ctx, kind="digest", period=period, subject=subject,
                            text=digest_post(report, report.report_link),
                            notify_type=severity_of(report.state))
    with ctx.store.transaction():    # every recipient's copy or none: has_message() relies on it
        for draft in drafts:
            written += ctx.store.enqueue(draft, now)
    log.info("digest %s: %s; %d message(s) written to the outbox", period, report.state, written)
    return written


def prepare_alerts(ctx: Context, now: datetime | None = None, judged: Judged | None = None) -> int:
    """Queue one grouped alert per recipient for what crossed a rule since the last cycle.

    The outbox rows and the marks that stop a second alert are one transaction; returns
    how many messages were queued."""
    now = now or ctx.clock()
    events, verdict = judged or judge(ctx, now)
    silenced = {s.indicator for s in ctx.store.silences(now)}
    report = select_alerts(ctx.config, events, verdict, ctx.store.transitions(),
                           ctx.store.alerted(), silenced, now)
    if not report.lines and not report.silenced:
        return 0
    messages: list[OutboxDraft] = []
    if report.lines:
        subject, text, html = render_alert(report, ctx.config)
        messages = [compose_email(ctx, kind="alert", period=report.key, recipient=rcpt,
                                  subject=subject, text=text, html=html, now=now)
                    for rcpt in ctx.config.alert_recipients]
        messages += compose_posts(ctx, kind="alert", period=report.key, subject=subject,
                                  text=alert_post(report, latest_report_link(ctx)),
                                  notify_type=report.severity)
    written = ctx.store.enqueue_alert(report.key, messages, report.covered(), now)
    for line in report.silenced:
        log.info("alert for %s silenced: %s", line.subject, line.headline)
    if report.lines:
        log.info("alert %s: %s; %d message(s) queued", report.key,
                 ", ".join(dict.fromkeys(line.subject for line in report.lines)), written)
    return written


def run_once(ctx: Context) -> tuple[PollReport, CriterionVerdict, tuple[int, int]]:
    """One full cycle: poll, judge, write the digest due (if not yet written), deliver."""
    if ctx.run_id is None:
        start_run(ctx, "once")
    report = poll_cycle(ctx)
    prune(ctx)
    now = ctx.clock()
    judged = judge(ctx, now)                      # one judgement serves alerts and the digest
    prepare_alerts(ctx, now, judged)
    prepare_digest(ctx, now, judged=judged)
    return report, judged[1], deliver_pending(ctx)


def status(ctx: Context, as_of: datetime | None = None) -> StatusView:
    """What `watcher status` shows: judged now (or as things stood at `as_of`, from what had
    been seen by then, recording nothing), the store read once."""
    now = as_of or ctx.clock()
    events, verdict = judge_as_of(ctx, now) if as_of else judge(ctx, now)
    feeds = ctx.store.feed_health()
    alive_since = now - timedelta(seconds=ctx.settings.lease_seconds)
    every = entries(ctx.config, events, verdict, None)
    return StatusView(verdict, summarise(every, every, ctx.config),
                      balance_of(events, ctx.config, verdict.now), feeds,
                      ctx.store.messages("pending"), ctx.store.messages("failed"),
                      ctx.store.count_items(), ctx.store.size_bytes(), ctx.store.integrity,
                      feed_warnings(ctx, {f.feed_id for f in feeds}), schedule(ctx, feeds, now),
                      ctx.store.instances(now, alive_since, seen_since=now - timedelta(days=1)),
                      ctx.store.silences(now), now,
                      ctx.store.article_health() if any(f.enrich for f in ctx.config.feeds)
                      else None)


def feed_warnings(ctx: Context, active: set[str]) -> dict[str, str]:
    """Each active feed's latest warning (read with errors, items cut) since the last
    digest: the window the digest's health section reports."""
    return {i.feed_id: i.detail for i in ctx.store.issues(ctx.store.last_digest_at())
            if i.feed_id in active}


def schedule(ctx: Context, feeds: list[FeedStatus], now: datetime) -> Schedule:
    """The next poll and digest, and how far this period's digest got."""
    dues = [f.next_due_at for f in feeds if not f.retired and f.next_due_at]
    period = period_of(ctx.config, now)
    mine = {m.status for m in ctx.store.messages() if m.kind == "digest" and m.period == period}
    nxt = next_digest_at(ctx.config, now)
    return Schedule(max(min(dues), now) if dues else now, nxt, period_of(ctx.config, nxt),
                    period, ", ".join(sorted(mine)) or "not written yet")
