"""/healthz and /metrics for ops (no login: they say nothing an analyst reads).

/healthz: 200 when the database answers and a service instance's heartbeat is fresh (within
WATCHER_LEASE_SECONDS, three heartbeats), else 503 with a one-line reason.
/metrics: the Prometheus text format (prometheus-client), read from the store at each scrape.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from watcher.context import Context
from watcher.models import CriterionState, FeedStatus
from watcher.service import judge_as_of
from watcher.web.app import Workbench


def health(ctx: Context, now: datetime) -> tuple[bool, str]:
    """(healthy, one line): the database answers, and some service instance beats."""
    fresh = timedelta(seconds=ctx.settings.lease_seconds)
    try:
        instances = ctx.store.instances(now, now - fresh, seen_since=now - timedelta(days=7))
    except Exception as exc:  # noqa: BLE001 (whatever the driver says, in one line)
        cause = getattr(exc, "orig", None) or exc
        first = (str(cause).strip().splitlines() or [""])[0]
        return False, f"database does not answer: {type(cause).__name__}: {first}"
    beats = [i.heartbeat_at for i in instances if i.heartbeat_at is not None]
    alive = [i for i in instances if i.alive and i.heartbeat_at is not None]
    if alive:
        last = max(i.heartbeat_at for i in alive if i.heartbeat_at is not None)
        return True, (f"ok: database answers; {len(alive)} service instance(s) alive, last "
                      f"heartbeat {(now - last).total_seconds():.0f} s ago")
    if not beats:
        return False, "no service instance has sent a heartbeat in the last 7 days"
    last = max(beats)
    return False, (f"service heartbeat stale: last {(now - last).total_seconds():.0f} s ago "
                   f"(fresh means within {fresh.total_seconds():.0f} s)")


async def healthz(wb: Workbench, request: Request) -> Response:
    ok, line = await wb.run(health, wb.ctx, wb.ctx.clock())
    return PlainTextResponse(line + "\n", status_code=200 if ok else 503)


class StoreCollector:
    """Every metric read from the store when Prometheus scrapes."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def collect(self) -> Iterator[Metric]:
        ctx, now = self.ctx, self.ctx.clock()
        store = ctx.store
        feeds = store.feed_health()
        by_status = GaugeMetricFamily("watcher_feeds", "Active feeds by health", labels=["status"])
        for status in ("ok", "failing", "retired"):
            by_status.add_metric([status], sum(1 for f in feeds if _health(f) == status))
        yield by_status
        counts = store.poll_counts()
        polls = CounterMetricFamily("watcher_polls", "Feed polls since the first, by result",
                                    labels=["result"])
        polls.add_metric(["ok"], sum(p.polls_ok for p in counts))
        polls.add_metric(["failed"], sum(p.polls_failed for p in counts))
        yield polls
        yield GaugeMetricFamily("watcher_items_stored", "Items stored", value=store.count_items())
        yield GaugeMetricFamily("watcher_matches_stored", "Matches stored (item × indicator)",
                                value=store.count_matches())
        yield from self._verdict(now)
        outbox = GaugeMetricFamily("watcher_outbox_messages", "Outbox messages by status",
                                   labels=["status"])
        messages = store.messages()
        for status in ("pending", "sent", "failed"):
            outbox.add_metric([status], sum(1 for m in messages if m.status == status))
        yield outbox
        last = store.last_digest_at()
        yield GaugeMetricFamily("watcher_last_digest_timestamp_seconds",
                                "When the last digest was written (Unix time; 0: never)",
                                value=last.timestamp() if last else 0)
        ok, _line = health(ctx, now)
        yield GaugeMetricFamily("watcher_service_up",
                                "1 when a service instance's heartbeat is fresh", value=int(ok))

    def _verdict(self, now: datetime) -> Iterator[Metric]:
        _, verdict = judge_as_of(self.ctx, now)
        events = GaugeMetricFamily("watcher_events", "Events per track", labels=["track"])
        counting = GaugeMetricFamily("watcher_counting_events", "Events that count, per track",
                                     labels=["track"])
        state = GaugeMetricFamily("watcher_criterion_state",
                                  "1 for the state each track (and 'all') is in",
                                  labels=["track", "state"])
        for t in verdict.tracks:
            events.add_metric([t.id], sum(1 for j in verdict.judged if j.track == t.id))
            counting.add_metric([t.id], len(t.counting))
            for s in CriterionState:
                state.add_metric([t.id, s.value], int(t.state is s))
        for s in CriterionState:
            state.add_metric(["all", s.value], int(verdict.state is s))
        yield from (events, counting, state)


def _health(f: FeedStatus) -> str:
    return "retired" if f.retired else "failing" if f.failures else "ok"


async def metrics(wb: Workbench, request: Request) -> Response:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(wb.ctx))
    body = await wb.run(generate_latest, registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
