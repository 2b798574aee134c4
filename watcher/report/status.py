"""`watcher status`: the criterion, the evidence, feed health, the outbox and the instances, as
one view; `as_json` and `lines` are its two renderings (scripts and people)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from watcher.config import Config
from watcher.models import CriterionVerdict, FeedStatus, Silence
from watcher.report.balance import Balance
from watcher.report.digest import IndicatorSummary
from watcher.report.verdict import track_lines, verdict_object
from watcher.store.records import ArticleHealth, InstanceStatus, OutboxMessage


@dataclass(frozen=True)
class Schedule:
    """What runs next: the next poll, the next digest, and this period's digest so far."""

    next_poll_at: datetime
    next_digest_at: datetime
    next_digest_period: str
    period: str
    period_digest: str               # its outbox statuses, or "not written yet"


@dataclass(frozen=True)
class StatusView:
    """Everything `watcher status` shows, read once."""

    verdict: CriterionVerdict
    rows: list[IndicatorSummary]
    balance: Balance
    feeds: list[FeedStatus]
    pending: list[OutboxMessage]
    failed: list[OutboxMessage]
    items: int
    database_bytes: int | None
    database_check: str              # the integrity check on open ("ok", or why it was skipped)
    warnings: dict[str, str]         # feed → its latest warning since the last digest
    schedule: Schedule
    instances: list[InstanceStatus]
    silences: list[Silence]          # active now
    now: datetime
    articles: ArticleHealth | None = None     # enrichment, when a feed has `enrich: true`

    def as_json(self) -> dict[str, Any]:
        """The `--json` document: the verdict object (docs/verdict.schema.json), then the
        status: indicators, feeds, outbox, database, schedule, instances (README)."""
        return {
            **verdict_object(self.verdict, self.balance),
            "indicators": {r.indicator: {"total": r.total_events, "stance": r.stance,
                                         "denied": r.denied,
                                         "strongest": r.strongest.score if r.strongest else None}
                           for r in self.rows},
            "feeds": [_feed_json(f, self.warnings.get(f.feed_id)) for f in self.feeds],
            "outbox": {"pending": len(self.pending), "failed": len(self.failed),
                       "failed_messages": [{"kind": m.kind, "period": m.period,
                                            "recipient": m.recipient, "error": m.last_error,
                                            "attempts": m.attempts} for m in self.failed]},
            "items": self.items, "database_bytes": self.database_bytes,
            "database_check": self.database_check,
            "schedule": _schedule_json(self.schedule),
            "instances": [_instance_json(i) for i in self.instances],
            "articles": _articles_json(self.articles),
        }

    def lines(self, config: Config) -> list[str]:
        """The text a person reads, section by section."""
        return (self._criterion() + self._indicators() + self._feeds() + self._outbox(config)
                + self._instances())

    def _criterion(self) -> list[str]:
        v, balance = self.verdict, self.balance
        out = [v.sentence()]
        if v.coverage is not None:
            out.append(f"coverage: {v.coverage.sentence()}"
                       + (" — POOR" if v.coverage.poor else ""))
        out += track_lines(v)
        out.append(f"\nbalance of evidence since the baseline: {balance.sentence()}")
        for side in (balance.momentum, balance.stall):
            out += [f"  {side.stance:<9}{b.score:>7g}  {b.certainty:<9} {b.indicator}: "
                    f"{b.title[:90]}" for b in side.strongest]
        return out

    def _indicators(self) -> list[str]:
        out = ["\nindicator                     stance     events  denials  strongest"]
        out += [f"{r.indicator:<30}{r.stance:<11}{r.total_events:>6}  {r.denied:>7}  "
                f"{r.strongest.score if r.strongest else '—'}" for r in self.rows]
        return out

    def _feeds(self) -> list[str]:
        failing = sum(1 for f in self.feeds if f.failures)
        head = (f"\nfeeds: {len(self.feeds)}, failing: {failing}, "
                f"read with warnings since the last digest: {len(self.warnings)}")
        out = [head]
        for f in self.feeds:
            last = f"{f.last_success_at:%Y-%m-%d %H:%M}" if f.last_success_at else "never"
            err = (f"  ! {f.last_error} ({f.failures}x)" if f.failures else
                   f"  ~ {self.warnings[f.feed_id]}" if f.feed_id in self.warnings else "")
            due = ("retired" if f.retired else
                   f"{f.next_due_at:%Y-%m-%d %H:%M}" if f.next_due_at else "now")
            out.append(f"  {f.feed_id:<30} last ok {last:<17} next {due:<17}{err}")
        return out + self._articles()

    def _articles(self) -> list[str]:
        a = self.articles
        if a is None:
            return []
        out = [(f"articles (enrichment): {a.ok} lead(s) fetched, {a.failed} failed, "
               f"{a.pending} waiting, {a.undecodable} Google News link(s) not decodable")]
        if a.last_failure and a.last_failure_at:
            out.append(f"  ! last failure {a.last_failure_at:%Y-%m-%d %H:%M}: {a.last_failure}")
        return out

    def _outbox(self, config: Config) -> list[str]:
        s = self.schedule
        nxt = s.next_digest_at.astimezone(config.digest.tz)
        queue = (f"\noutbox: {len(self.pending)} pending, {len(self.failed)} failed; "
                 f"items stored: {self.items}; database: {self.database_bytes or 0} bytes, "
                 f"integrity check: {self.database_check}")
        when = (f"\nnext poll: {s.next_poll_at:%Y-%m-%d %H:%M} UTC; "
                f"next digest: {nxt:%a %d %b %Y %H:%M} {config.digest.timezone} "
                f"({s.next_digest_period}); this period ({s.period}): {s.period_digest}")
        out = [queue, when]
        out += [f"  alerts for {x.indicator} silenced until {x.until:%Y-%m-%d %H:%M} UTC: "
                f"{x.reason}" for x in self.silences]
        out += [f"  ! {m.kind} {m.period} to {m.recipient} not delivered, given up after "
                f"{m.attempts} attempt(s): {m.last_error}" for m in self.failed]
        out += [f"  … {m.kind} {m.period} to {m.recipient}: {m.attempts} failed attempt(s), "
                f"retrying: {m.last_error}" for m in self.pending if m.attempts]
        return out

    def _instances(self) -> list[str]:
        """Who shares the database: alive or not, feeds leased now, last heartbeat."""
        alive = sum(1 for i in self.instances if i.alive)
        leases = sum(i.leases for i in self.instances)
        out = [f"\ninstances: {alive} alive, {leases} feed lease(s) held"]
        for i in self.instances:
            state = "alive" if i.alive else "stopped" if i.stopped_at else "silent"
            beat = (f"last heartbeat {i.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC "
                    f"({(self.now - i.heartbeat_at).total_seconds():.0f} s ago)"
                    if i.heartbeat_at else "no heartbeat (a CLI command)")
            out.append(f"  {i.id:<30} {state:<8} leases {i.leases:<5} {beat}")
        return out


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _feed_json(f: FeedStatus, warning: str | None) -> dict[str, Any]:
    return {"id": f.feed_id, "last_status": f.last_status, "last_error": f.last_error,
            "failures": f.failures, "retired": f.retired, "warning": warning,
            "last_success_at": _iso(f.last_success_at), "next_due_at": _iso(f.next_due_at)}


def _articles_json(a: ArticleHealth | None) -> dict[str, Any] | None:
    if a is None:
        return None
    return {"ok": a.ok, "failed": a.failed, "pending": a.pending, "undecodable": a.undecodable,
            "last_failure": a.last_failure, "last_failure_at": _iso(a.last_failure_at)}


def _schedule_json(s: Schedule) -> dict[str, str]:
    return {"next_poll_at": s.next_poll_at.isoformat(),
            "next_digest_at": s.next_digest_at.isoformat(),
            "next_digest_period": s.next_digest_period, "period": s.period,
            "period_digest": s.period_digest}


def _instance_json(i: InstanceStatus) -> dict[str, Any]:
    return {"id": i.id, "host": i.host, "pid": i.pid, "alive": i.alive, "leases": i.leases,
            "started_at": _iso(i.started_at), "heartbeat_at": _iso(i.heartbeat_at),
            "stopped_at": _iso(i.stopped_at)}
