"""Enrichment: the article's lead for a headline that cannot carry its evidence alone (issue 13).

A Google News search item is a headline and nothing else. When such an item from a feed with
`enrich: true` nearly matches an indicator (its closest rule fails one clause, not by a veto: the
near miss `watcher explain` shows), the article's lead is fetched and the item is matched again
with the lead as its summary. Bounded everywhere:

- opt-in per feed (`enrich: true` in indicators.yaml);
- at most WATCHER_ENRICH_PER_CYCLE fetches a cycle (default 20), the most recently wanted first;
  the rest wait in the queue for the next cycle;
- each fetch goes through the feed fetcher (watcher/ingest/fetch.py): the honest User-Agent,
  per-host and global concurrency limits, one deadline (WATCHER_FETCH_TIMEOUT, at most 30 s),
  the private-address rules (WATCHER_ALLOW_PRIVATE), the feed's `proxy` if it has one (not its
  `headers` or `user_agent`, which are for the feed's own server), and a 2 MiB cap on the page;
- an article is fetched once: the database keeps its lead or why it failed (the cache), and an
  item wanting a known article gets its lead at once;
- a failed fetch leaves the item as it was; `watcher status` counts the articles by outcome and
  names the latest failure.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

from watcher.config import Feed
from watcher.context import Context
from watcher.errors import FeedError
from watcher.ingest.article import article_url, lead_of
from watcher.ingest.fetch import Fetcher, FetchRequest
from watcher.ingest.response import MiB
from watcher.judge.match import Analysis
from watcher.models import StoredItem
from watcher.store import ArticleFetched, ArticleWanted
from watcher.text import words

log = logging.getLogger("watcher")

ARTICLE_MAX_BYTES = 2 * MiB
ARTICLE_TIMEOUT = 30.0            # seconds, at most: an article is not worth a feed's minute
ARTICLE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"


@dataclass
class EnrichReport:
    """What one cycle's enrichment did, for the poll's log line."""

    fetched: int = 0
    failed: int = 0
    matched: int = 0              # items that match an indicator they did not before

    def line(self) -> str:
        return (f"enrichment: {self.fetched} article(s) fetched, {self.failed} failed, "
                f"{self.matched} item(s) newly matched")


def wanted(ctx: Context, feed: Feed, new: list[StoredItem]) -> list[ArticleWanted]:
    """The new items of an enriching feed that nearly match an indicator, with their article."""
    if not feed.enrich:
        return []
    out = []
    for s in new:
        if not near_misses(ctx.matcher.analyse(s.item.title, s.item.summary)):
            continue
        url = article_url(s.item.url)
        out.append(ArticleWanted(s.id, url) if url else
                   ArticleWanted(s.id, s.item.url or f"item:{s.id}", "undecodable"))
    return out


def near_misses(a: Analysis) -> list[str]:
    """Indicators not matched that a little more text could complete: a rule failed one clause
    only, not by a veto, and two of its clauses hit (a headline naming Kazakhstan alone is no
    near miss of every rule about Kazakhstan). Enrichment fetches the article's lead for them;
    `watcher explain` shows every one-clause miss."""
    matched = {m.indicator for m in a.matches}
    return sorted({t.indicator for t in a.traces
                   if t.indicator not in matched and t.missing == 1
                   and len(set(t.groups.values())) >= 2
                   and not (t.failed or "").startswith("vetoed")})


def want(ctx: Context, items: list[ArticleWanted]) -> int:
    """Queue the articles; items whose article is already known get its lead now (the cache).
    Returns how many items that made match something new. Inside the caller's transaction."""
    ctx.store.want_articles(items, ctx.clock())
    leads = ctx.store.article_leads([w.url for w in items])
    cached = [w for w in items if w.url in leads]
    by_id = {s.id: s for w in cached for s in ctx.store.items_wanting(w.url)}
    return sum(apply_lead(ctx, by_id[w.item_id], leads[w.url]) for w in cached
               if w.item_id in by_id)


def apply_lead(ctx: Context, stored: StoredItem, lead: str) -> bool:
    """The item matched again with the lead as its summary (stored, so rematch and explain see
    it); True if it now matches an indicator it did not."""
    before = {m.indicator for m in ctx.matcher.match(stored.item.title, stored.item.summary)}
    summary = with_lead(stored.item.summary, lead)
    if summary == stored.item.summary:
        return False
    ctx.store.set_summary(stored.id, summary)
    matches = ctx.matcher.match(stored.item.title, summary)
    ctx.store.add_matches({stored.id: matches})
    return bool({m.indicator for m in matches} - before)


def with_lead(summary: str, lead: str) -> str:
    """The lead as the summary; a summary of the feed's own is kept in front of it unless the
    lead only repeats it."""
    if not summary:
        return lead
    if set(words(lead)) <= set(words(summary)):
        return summary
    ended = summary if summary[-1] in ".!?…。" else summary + "."
    return f"{ended} {lead}"


async def enrich(ctx: Context, stopping: Callable[[], bool]) -> EnrichReport:
    """Fetch the leads of up to WATCHER_ENRICH_PER_CYCLE queued articles and match their items
    again; a failure is recorded on the article and leaves its items as they were."""
    report = EnrichReport()
    urls = ctx.store.pending_articles(ctx.settings.enrich_per_cycle)
    if not urls or stopping():
        return report
    async with article_fetcher(ctx) as fetcher:
        outcomes = await asyncio.gather(*(_lead(fetcher, url, _proxy(ctx, url)) for url in urls))
    for url, outcome in zip(urls, outcomes):
        if stopping():
            break
        with ctx.store.transaction():
            report.matched += _record(ctx, url, outcome, report)
    log.info("poll: %s", report.line())
    return report


def _record(ctx: Context, url: str, outcome: str | FeedError, report: EnrichReport) -> int:
    now = ctx.clock()
    if isinstance(outcome, FeedError):
        report.failed += 1
        log.warning("article %s: not enriched: %s", url, outcome.reason)
        ctx.store.record_article(ArticleFetched(url, now, reason=outcome.reason))
        return 0
    report.fetched += 1
    ctx.store.record_article(ArticleFetched(url, now, lead=outcome))
    return sum(apply_lead(ctx, s, outcome) for s in ctx.store.items_wanting(url))


def article_fetcher(ctx: Context) -> Fetcher:
    """The feed fetcher with an article's limits: smaller pages, a shorter deadline, two
    requests a host at once."""
    total = min(ctx.settings.fetch_timeout, ARTICLE_TIMEOUT)
    return Fetcher(connect_timeout=min(10.0, total), read_timeout=total, total_timeout=total,
                   max_bytes=ARTICLE_MAX_BYTES, max_concurrency=8, per_host=2,
                   allow_private=ctx.settings.allow_private, accept=ARTICLE_ACCEPT)


def _proxy(ctx: Context, url: str) -> str | None:
    """The proxy of the feed whose item wants the article: a machine that reaches the web
    only through one reaches articles the same way (the feed's own headers are not sent)."""
    feeds = {f.id: f for f in ctx.config.feeds}
    for stored in ctx.store.items_wanting(url):
        feed = feeds.get(stored.item.feed_id)
        if feed is not None:
            return feed.proxy
    return None


async def _lead(fetcher: Fetcher, url: str, proxy: str | None = None) -> str | FeedError:
    """The article's lead, or why there is none."""
    result = await fetcher.fetch_or_error(FetchRequest("article", url, proxy=proxy))
    if isinstance(result, FeedError):
        return result
    try:
        lead = lead_of(result.body or b"", result.content_type)
    except (etree.LxmlError, ValueError, LookupError) as exc:   # the page's fault, not the cycle's
        return FeedError(url, f"unreadable page ({type(exc).__name__})")
    return lead or FeedError(url, "no description or paragraph in the page")
