"""Items and their matches: stored once per feed and key, matched (and rematched) in place, and
pruned when they matched nothing for long (retention)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, func, insert, select, tuple_

from watcher.judge.publisher import publisher_key
from watcher.models import Certainty, Hit, Item, Match, MatchedItem, StoredItem
from watcher.store.base import Database
from watcher.store.records import ItemText, MatchOutcome
from watcher.store.schema import ARTICLE_ITEM, FEED_STATE, ITEM, MATCH, UTCDateTime


def _host(item: Item) -> str:
    """The independent-source key: the original publisher when the feed names it, else the
    registrable domain of the item's link."""
    return publisher_key(item.source, item.url) or item.feed_id


def _evidence(m: Match) -> dict[str, Any]:
    return {"hits": [{"term": h.term, "field": h.field, "clause": h.clause} for h in m.hits],
            "cues": list(m.cues)}


def _match(indicator: str, strength: float, certainty: str, evidence: dict[str, Any]) -> Match:
    return Match(indicator, strength, Certainty(certainty),
                 tuple(Hit(**h) for h in evidence.get("hits", [])), tuple(evidence.get("cues", [])))


def stored_item(r: Row[Any]) -> StoredItem:
    """An item row as the record the rest of watcher reads."""
    item = Item(r.feed_id, r.key, r.title, r.summary, r.url, r.published, r.lang, r.source,
                r.publisher)
    return StoredItem(r.id, item, r.host, r.seen_at)


class ItemsMixin(Database):
    """Reads and writes of item and match."""

    def add_items(self, items: list[Item], now: datetime) -> list[StoredItem]:
        """Insert the items not stored yet, in one transaction; return only the new ones."""
        if not items:
            return []
        unique = list({(i.feed_id, i.key): i for i in items}.values())
        hosts = [_host(i) for i in unique]
        rows = [{"feed_id": i.feed_id, "key": i.key, "title": i.title, "summary": i.summary,
                 "url": i.url, "host": host, "published": i.published, "seen_at": now,
                 "lang": i.lang, "source": i.source, "publisher": i.publisher}
                for i, host in zip(unique, hosts)]
        # One multi-row INSERT … ON CONFLICT DO NOTHING RETURNING: only new rows come back.
        # On the Core table: the ORM's bulk path cost ~15 µs a row in bookkeeping (profile).
        with self._connect() as conn:
            ids = {(fid, key): rid for rid, fid, key in conn.execute(self._add_items(), rows)}
        return [StoredItem(ids[(i.feed_id, i.key)], i, host, now)
                for i, host in zip(unique, hosts) if (i.feed_id, i.key) in ids]

    def _add_items(self) -> Any:
        """The statement, built once per store (building it for each feed showed in profiles)."""
        stmt = getattr(self, "_add_items_stmt", None)
        if stmt is None:
            c = ITEM.c
            stmt = self.insert_ignore(ITEM, ["feed_id", "key"]).returning(c.id, c.feed_id, c.key)
            self._add_items_stmt = stmt
        return stmt

    def add_matches(self, matches: dict[int, list[Match]], *, replace: bool = True) -> int:
        """Record each item's matches (replacing earlier ones, so a rematch is exact; items
        just stored have none to replace: `replace=False` spares the DELETE)."""
        rows = [{"item_id": item_id, "indicator": m.indicator, "strength": m.strength,
                 "certainty": m.certainty.value, "evidence": _evidence(m)}
                for item_id, ms in matches.items() for m in ms]
        with self._connect() as conn:
            # One DELETE for the batch, not one an item (rematch of 100k items: 100k statements).
            if matches and replace:
                conn.execute(MATCH.delete().where(MATCH.c.item_id.in_(list(matches))))
            if rows:
                conn.execute(insert(MATCH), rows)
        return len(rows)

    def matched_items(self, since: datetime | None = None) -> list[MatchedItem]:
        """Every stored match with its item and feed tier: the input to `events.cluster`."""
        m, i = MATCH.c, ITEM.c
        q = (select(m.indicator, m.strength, m.certainty, m.evidence, i.id, i.feed_id, i.title,
                    i.url, i.published, i.seen_at, i.host, i.summary, FEED_STATE.c.tier)
             .select_from(MATCH.join(ITEM, i.id == m.item_id)
                          .join(FEED_STATE, FEED_STATE.c.feed_id == i.feed_id, isouter=True)))
        if since is not None:
            q = q.where(i.seen_at >= since)
        with self._connect() as conn:
            rows = conn.execute(q).all()
        return [MatchedItem(r.id, r.feed_id, r.title, r.url, r.published or r.seen_at, r.seen_at,
                            r.host, r.tier or "outlet",
                            _match(r.indicator, r.strength, r.certainty, r.evidence), r.summary)
                for r in rows]

    def iter_items(self, since: datetime | None = None, batch: int = 1000) -> Iterator[StoredItem]:
        """All stored items in id order, read in batches (for rematch and explain)."""
        last = 0
        while True:
            q = select(ITEM).where(ITEM.c.id > last).order_by(ITEM.c.id).limit(batch)
            if since is not None:
                q = q.where(ITEM.c.seen_at >= since)
            with self._connect() as conn:
                rows = conn.execute(q).all()
            if not rows:
                return
            for r in rows:
                yield stored_item(r)
            last = rows[-1].id or last

    def item_texts(self, since: datetime | None = None, batch: int = 1000) -> Iterator[ItemText]:
        """Every stored item's id and text (seen since `since`), read in pages: what rematch
        needs and no more. With `since` the pages follow the seen_at index by (seen_at, id),
        so a week of a year's items reads that week, not the year."""
        c = ITEM.c
        q = select(c.id, c.seen_at, c.title, c.summary).limit(batch)
        if since is None:
            q = q.where(c.id > bindparam("last_id")).order_by(c.id)
        else:
            after = tuple_(c.seen_at, c.id) > tuple_(bindparam("last_seen", type_=UTCDateTime()),
                                                     bindparam("last_id"))
            q = q.where(c.seen_at >= since, after).order_by(c.seen_at, c.id)
        params: dict[str, Any] = {"last_id": 0, "last_seen": since}
        while True:
            with self._connect() as conn:
                rows = conn.execute(q, params).all()
            for r in rows:
                yield ItemText(r.id, r.title, r.summary)
            if len(rows) < batch:
                return
            params = {"last_id": rows[-1].id, "last_seen": rows[-1].seen_at}

    def match_outcomes(self, since: datetime | None = None) -> dict[int, set[MatchOutcome]]:
        """Per matched item (seen since `since`): its indicators and certainties, so a rematch
        can say what changed without loading every match's item and evidence."""
        m, i = MATCH.c, ITEM.c
        q = select(m.item_id, m.indicator, m.certainty)
        if since is not None:
            q = q.join(ITEM, i.id == m.item_id).where(i.seen_at >= since)
        out: dict[int, set[MatchOutcome]] = {}
        with self._connect() as conn:
            for item_id, indicator, certainty in conn.execute(q):
                out.setdefault(item_id, set()).add(MatchOutcome(indicator, certainty))
        return out

    def find_item(self, ref: str) -> StoredItem | None:
        """An item by row id or by URL."""
        where = ITEM.c.id == int(ref) if ref.isdigit() else ITEM.c.url == ref
        with self._connect() as conn:
            row = conn.execute(select(ITEM).where(where).limit(1)).first()
        return stored_item(row) if row else None

    def prune_unmatched(self, before: datetime) -> int:
        """Delete items first seen before `before` that matched no indicator; returns how many.

        Matched items are evidence and are kept for ever; per-day poll counts (coverage) live
        in feed_day, so they do not shrink with the items."""
        unmatched = ~select(MATCH.c.item_id).where(MATCH.c.item_id == ITEM.c.id).exists()
        with self._connect() as conn:
            done = conn.execute(ITEM.delete().where(ITEM.c.seen_at < before, unmatched))
            gone = ~select(ITEM.c.id).where(ITEM.c.id == ARTICLE_ITEM.c.item_id).exists()
            conn.execute(ARTICLE_ITEM.delete().where(gone))       # their articles' links
            return int(done.rowcount or 0)

    def has_items(self) -> bool:
        """Whether anything was ever stored (one row read, whatever the table's size)."""
        with self._connect() as conn:
            return conn.execute(select(ITEM.c.id).limit(1)).first() is not None

    def count_items(self) -> int:
        """Items stored, for `watcher status`."""
        with self._connect() as conn:
            return int(conn.execute(select(func.count()).select_from(ITEM)).scalar() or 0)

    def items_seen(self, since: datetime, until: datetime) -> int:
        """Items first stored in [since, until]."""
        c = ITEM.c
        q = select(func.count()).select_from(ITEM).where(c.seen_at >= since, c.seen_at <= until)
        with self._connect() as conn:
            return int(conn.execute(q).scalar() or 0)

    def count_matches(self) -> int:
        """Matches stored (an item matching two indicators counts twice), for /metrics."""
        with self._connect() as conn:
            return int(conn.execute(select(func.count()).select_from(MATCH)).scalar() or 0)

    def item_languages(self) -> dict[int, str]:
        """The language of every matched item that has one: the workbench filters events by it."""
        c = ITEM.c
        q = (select(c.id, c.lang).where(c.lang.is_not(None),
                                        c.id.in_(select(MATCH.c.item_id).distinct())))
        with self._connect() as conn:
            return {int(i): str(lang) for i, lang in conn.execute(q)}
