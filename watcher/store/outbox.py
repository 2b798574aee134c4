"""The outbox (one row per message, written before it is sent), the marks that stop an alert
going out twice, and the silences analysts set."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, func, insert, select, update

from watcher.models import AlertMark, Silence
from watcher.store.base import Database
from watcher.store.records import OutboxDraft, OutboxMessage
from watcher.store.schema import ALERTED, OUTBOX, SILENCE


def _message(r: Row[Any]) -> OutboxMessage:
    return OutboxMessage(r.id, r.kind, r.period, r.recipient, r.message_id, r.subject, r.raw,
                         r.status, r.attempts, r.last_error, r.created_at)


def _new_row(draft: OutboxDraft, now: datetime) -> dict[str, Any]:
    return {"kind": draft.kind, "period": draft.period, "recipient": draft.recipient,
            "message_id": draft.message_id, "subject": draft.subject, "raw": draft.raw,
            "status": "pending", "attempts": 0, "created_at": now, "next_attempt_at": now}


class OutboxMixin(Database):
    """Reads and writes of outbox, alerted and silence."""

    def enqueue(self, draft: OutboxDraft, now: datetime) -> bool:
        """Write the message before any send; False if this (kind, period, recipient) exists."""
        with self._connect() as conn:
            return bool(self.insert_new(conn, OUTBOX, ["kind", "period", "recipient"],
                                        _new_row(draft, now)))

    def has_message(self, kind: str, period: str) -> bool:
        """Whether this period's message of this kind was written (for any recipient)."""
        c = OUTBOX.c
        with self._connect() as conn:
            q = select(c.id).where(c.kind == kind, c.period == period)
            return conn.execute(q).first() is not None

    def pending(self, now: datetime) -> list[OutboxMessage]:
        """Messages due for a (re)try, oldest first."""
        c = OUTBOX.c
        q = (select(OUTBOX).where(c.status == "pending",
                                  c.next_attempt_at.is_(None) | (c.next_attempt_at <= now))
             .order_by(c.id))
        with self._connect() as conn:
            return [_message(r) for r in conn.execute(q)]

    def messages(self, status: str | None = None) -> list[OutboxMessage]:
        """Every message (or those with `status`), oldest first."""
        q = select(OUTBOX).order_by(OUTBOX.c.id)
        if status is not None:
            q = q.where(OUTBOX.c.status == status)
        with self._connect() as conn:
            return [_message(r) for r in conn.execute(q)]

    def last_digest_at(self, before: datetime | None = None) -> datetime | None:
        """When the newest digest (written before `before`, if given) went to the outbox:
        'new' in a digest means since then."""
        c = OUTBOX.c
        query = select(func.max(c.created_at)).where(c.kind == "digest")
        if before is not None:
            query = query.where(c.created_at < before)
        with self._connect() as conn:
            value: datetime | None = conn.execute(query).scalar()
        return value

    def claim_message(self, now: datetime, owner: str, until: datetime) -> OutboxMessage | None:
        """The oldest message due for a send that no live instance is sending, claimed by
        `owner` until `until`: with N instances each message is sent by one of them.

        A claim whose holder died expires and the message is sent again (same Message-ID)."""
        c = OUTBOX.c
        pick = (select(c.id)
                .where(c.status == "pending",
                       c.next_attempt_at.is_(None) | (c.next_attempt_at <= now),
                       c.claimed_until.is_(None) | (c.claimed_until <= now)
                       | (c.claimed_by == owner))     # mine from before a crash/restart
                .order_by(c.id).limit(1).with_for_update(skip_locked=True))
        stmt = (update(OUTBOX).where(c.id.in_(pick.scalar_subquery()))
                .values(claimed_by=owner, claimed_until=until).returning(c.id))
        with self._connect() as conn:
            claimed = conn.execute(stmt).scalar()
            if claimed is None:
                return None
            row = conn.execute(select(OUTBOX).where(c.id == claimed)).first()
        return _message(row) if row is not None else None

    def mark_sent(self, message_id: int, now: datetime) -> None:
        """The server took it: never sent again."""
        self._update_message(message_id, status="sent", sent_at=now, last_error=None,
                             attempts=OUTBOX.c.attempts + 1)

    def mark_failed(self, message_id: int, now: datetime, error: str, *, permanent: bool,
                    retry_in: timedelta) -> None:
        """A failed send: retried later, or given up for good when the server said so."""
        self._update_message(message_id, status="failed" if permanent else "pending",
                             last_error=error[:500], attempts=OUTBOX.c.attempts + 1,
                             next_attempt_at=now + retry_in)

    def _update_message(self, message_id: int, **values: Any) -> None:
        values.update(claimed_by=None, claimed_until=None)      # the send is over: claim released
        with self._connect() as conn:
            conn.execute(update(OUTBOX).where(OUTBOX.c.id == message_id).values(**values))

    # --- alerts and silences ---------------------------------------------------------------

    def alerted(self) -> dict[str, set[int]]:
        """What alerts already covered: subject (indicator or "criterion") → refs."""
        out: dict[str, set[int]] = {}
        with self._connect() as conn:
            for subject, ref in conn.execute(select(ALERTED.c.subject, ALERTED.c.ref)):
                out.setdefault(subject, set()).add(ref)
        return out

    def enqueue_alert(self, key: str, drafts: list[OutboxDraft], marks: list[AlertMark],
                      now: datetime) -> int:
        """Queue an alert's messages and mark what it covers in ONE transaction.

        Either the alert is in the outbox and its events are marked, or neither: a crash
        between the two can neither lose the alert nor send it twice."""
        mark = self.insert_ignore(ALERTED, ["subject", "ref"])
        written = 0
        with self._connect() as conn:
            for m in marks:
                conn.execute(mark.values(subject=m.subject, ref=m.ref, alert_key=key,
                                         status=m.status, at=now))
            for draft in drafts:
                written += self.insert_new(conn, OUTBOX, ["kind", "period", "recipient"],
                                           _new_row(draft, now))
        return written

    def set_silence(self, silence: Silence) -> None:
        """Silence (or re-silence) one indicator's alerts until `silence.until`."""
        c = SILENCE.c
        values = {"until": silence.until, "reason": silence.reason, "created_at": silence.since}
        with self._connect() as conn:
            done = conn.execute(update(SILENCE).where(c.indicator == silence.indicator)
                                .values(**values))
            if not done.rowcount:
                conn.execute(insert(SILENCE).values(indicator=silence.indicator, **values))

    def remove_silence(self, indicator: str) -> bool:
        """Alerts for `indicator` again; False if it was not silenced."""
        with self._connect() as conn:
            done = conn.execute(SILENCE.delete().where(SILENCE.c.indicator == indicator))
            return bool(done.rowcount)

    def silences(self, now: datetime | None = None) -> list[Silence]:
        """Every silence, only the active ones if `now` is given."""
        c = SILENCE.c
        q = select(SILENCE).order_by(c.indicator)
        if now is not None:
            q = q.where(c.until > now)
        with self._connect() as conn:
            return [Silence(r.indicator, r.until, r.reason, r.created_at) for r in conn.execute(q)]
