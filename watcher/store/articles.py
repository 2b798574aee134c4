"""Articles whose lead items want (enrichment, issue 13): the queue and the cache in one table.

An article is fetched once: its row records the lead or why the fetch failed, and every item
that wants it (of any feed, now or later) is linked to it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from watcher.models import StoredItem
from watcher.store.base import Database
from watcher.store.items import stored_item
from watcher.store.records import ArticleFetched, ArticleHealth, ArticleState, ArticleWanted
from watcher.store.schema import ARTICLE, ARTICLE_ITEM, ITEM


class ArticlesMixin(Database):
    """Reads and writes of article and article_item."""

    def want_articles(self, wanted: list[ArticleWanted], now: datetime) -> None:
        """Queue each article (a known one keeps its row: the cache) and link its item."""
        if not wanted:
            return
        articles = list({w.url: {"url": w.url, "status": w.status, "wanted_at": now}
                         for w in wanted}.values())
        links = list({w.item_id: {"item_id": w.item_id, "url": w.url} for w in wanted}.values())
        with self._connect() as conn:
            conn.execute(self.insert_ignore(ARTICLE, ["url"]), articles)
            conn.execute(self.insert_ignore(ARTICLE_ITEM, ["item_id"]), links)

    def pending_articles(self, limit: int) -> list[str]:
        """Articles not fetched yet, the most recently wanted first."""
        a = ARTICLE.c
        q = (select(a.url).where(a.status == "pending").order_by(a.wanted_at.desc(), a.url)
             .limit(limit))
        with self._connect() as conn:
            return [r.url for r in conn.execute(q)]

    def article_leads(self, urls: list[str]) -> dict[str, str]:
        """The leads already fetched for these articles (the cache's hits)."""
        if not urls:
            return {}
        a = ARTICLE.c
        q = select(a.url, a.lead).where(a.url.in_(urls), a.status == "ok", a.lead.is_not(None))
        with self._connect() as conn:
            return {r.url: r.lead for r in conn.execute(q)}

    def record_article(self, done: ArticleFetched) -> None:
        """An article's fetch: ok with its lead, or failed with the reason (not retried)."""
        values = ({"status": "ok", "lead": done.lead, "reason": None} if done.reason is None
                  else {"status": "failed", "lead": None, "reason": done.reason[:500]})
        with self._connect() as conn:
            conn.execute(ARTICLE.update().where(ARTICLE.c.url == done.url)
                         .values(fetched_at=done.at, **values))

    def items_wanting(self, url: str) -> list[StoredItem]:
        """The items linked to an article."""
        q = (select(ITEM).join(ARTICLE_ITEM, ARTICLE_ITEM.c.item_id == ITEM.c.id)
             .where(ARTICLE_ITEM.c.url == url).order_by(ITEM.c.id))
        with self._connect() as conn:
            return [stored_item(r) for r in conn.execute(q)]

    def article_of(self, item_id: int) -> ArticleState | None:
        """The article an item wants, if any, and how its fetch went."""
        a = ARTICLE.c
        q = (select(a.url, a.status, a.reason, a.fetched_at)
             .join(ARTICLE_ITEM, ARTICLE_ITEM.c.url == a.url)
             .where(ARTICLE_ITEM.c.item_id == item_id))
        with self._connect() as conn:
            r = conn.execute(q).first()
        return ArticleState(r.url, r.status, r.reason, r.fetched_at) if r else None

    def set_summary(self, item_id: int, summary: str) -> None:
        """An item's summary, now its article's lead (enrichment)."""
        with self._connect() as conn:
            conn.execute(ITEM.update().where(ITEM.c.id == item_id).values(summary=summary))

    def article_health(self) -> ArticleHealth:
        """Articles by status and the latest failure, for `watcher status`."""
        a = ARTICLE.c
        with self._connect() as conn:
            counts: dict[str, int] = {r[0]: int(r[1]) for r in conn.execute(
                select(a.status, func.count()).group_by(a.status))}
            last = conn.execute(select(a.url, a.reason, a.fetched_at).where(a.status == "failed")
                                .order_by(a.fetched_at.desc()).limit(1)).first()
        return ArticleHealth(counts.get("pending", 0), counts.get("ok", 0),
                             counts.get("failed", 0), counts.get("undecodable", 0),
                             f"{last.url}: {last.reason}" if last else None,
                             last.fetched_at if last else None)
