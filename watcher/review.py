"""The analyst's call (issue 12): find an event by its short id, record a confirm or a dismiss on
its reports, undo it. `watcher review | confirm | dismiss | undo` are thin wrappers over this.

A decision is kept on the event's reports (items), because events are derived afresh from the
stored matches each time: whatever event later holds one of those reports (after a rematch, or
once more outlets report it) carries the decision.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from datetime import datetime

from watcher.context import Context
from watcher.errors import WatcherError
from watcher.models import Decision, Judgement
from watcher.service import judge_as_of


@dataclass(frozen=True)
class Recorded:
    """What a confirm, dismiss or undo did, for the command's one-line answer."""

    event: str
    events: list[Judgement]           # the events with that id now (one, or one per indicator)
    decision: Decision

    def line(self) -> str:
        """'E17 (kz_us_deal, dfc_project; 3 reports): confirmed by alice on 04 Dec 2026: …'."""
        indicators = ", ".join(j.event.indicator for j in self.events)
        reports = len(self.decision.items)
        return f"{self.event} ({indicators}; {reports} report(s)): {self.decision.line()}"


def who(by: str | None) -> str:
    """--by, else the login name (what the audit trail shows)."""
    if by and by.strip():
        return by.strip()
    try:
        return getpass.getuser()
    except (KeyError, OSError):          # no passwd entry (a container's DynamicUser)
        return os.environ.get("USER") or "unknown"


def find_event(ctx: Context, ref: str, now: datetime) -> list[Judgement]:
    """The events whose short id is `ref` ('E17' or '17'), as judged now; a clear error if none."""
    wanted = ref.strip().upper()
    wanted = wanted if wanted.startswith("E") else f"E{wanted}"
    _, verdict = judge_as_of(ctx, now)
    found = [j for j in verdict.judged if j.id == wanted]
    if not found:
        raise WatcherError(f"no event {wanted} (ids come from `watcher review` or "
                           "`watcher explain ITEM`; a rematch may have dropped its matches)")
    return found


def decide(ctx: Context, ref: str, action: str, note: str, by: str | None) -> Recorded:
    """Record `confirm` or `dismiss` on every report of the events called `ref`."""
    now = ctx.clock()
    events = find_event(ctx, ref, now)
    items = frozenset(m.item_id for j in events for m in j.event.items)
    decision = Decision(0, items, action, who(by), now, note.strip())
    number = ctx.store.add_decision(decision)
    return Recorded(events[0].id, events, Decision(number, items, action, decision.by, now,
                                                   decision.note))


def undo(ctx: Context, ref: str, by: str | None) -> Recorded:
    """Withdraw the latest standing decision on the reports of the events called `ref`."""
    now = ctx.clock()
    events = find_event(ctx, ref, now)
    items = {m.item_id for j in events for m in j.event.items}
    standing = [d for d in ctx.store.decisions() if d.undone_at is None and d.items & items]
    if not standing:
        raise WatcherError(f"{events[0].id} has no decision to undo")
    last = max(standing, key=lambda d: (d.at, d.id))
    ctx.store.undo_decision(last.id, now, who(by))
    return Recorded(events[0].id, events, Decision(last.id, last.items, last.action, last.by,
                                                   last.at, last.note, now))
