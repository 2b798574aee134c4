"""The criterion's memory: each change of state (the whole criterion's, each track's, each
step of the accession's), stored once, and the analysts' decisions on events' reports."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, insert, select, update

from watcher.models import CriterionState, Decision, Transition
from watcher.store.base import Database
from watcher.store.schema import CRITERION_TRANSITION, DECISION


class CriterionMixin(Database):
    """Reads and writes of criterion_transition and decision."""

    def last_state(self, track: str | None = None) -> str | None:
        """The state last stored for the criterion (or a track), None before the first."""
        c = CRITERION_TRANSITION.c
        with self._connect() as conn:
            return conn.execute(select(c.state).where(_of(track)).order_by(c.id.desc())
                                .limit(1)).scalar()

    def record_transition(self, state: CriterionState | str, at: datetime, detail: str,
                          track: str | None = None) -> bool:
        """Store a change of state of the criterion (track None), of a track, or of the
        accession's stage; the same state twice in a row is not a transition."""
        value = state.value if isinstance(state, CriterionState) else state
        c = CRITERION_TRANSITION.c
        with self._connect() as conn:
            self.serialise(conn, "criterion")     # two instances judging at once store it once
            last = conn.execute(select(c.state).where(_of(track)).order_by(c.id.desc())
                                .limit(1)).scalar()
            if last == value:
                return False
            conn.execute(insert(CRITERION_TRANSITION).values(
                state=value, previous=last, at=at, detail=detail, track=track))
            return True

    def transitions(self) -> list[Transition]:
        """Every transition, of the criterion and of its tracks, oldest first."""
        c = CRITERION_TRANSITION.c
        with self._connect() as conn:
            rows = conn.execute(select(CRITERION_TRANSITION).order_by(c.id)).all()
        return [Transition(r.id, r.state, r.previous, r.at, r.detail, r.track) for r in rows]

    # --- the analyst's call -------------------------------------------------------------------

    def add_decision(self, decision: Decision) -> int:
        """Record a confirm or dismiss on these reports; returns its id (`decision.id` unused)."""
        stmt = insert(DECISION).values(
            items=sorted(decision.items), action=decision.action, decided_by=decision.by,
            at=decision.at, note=decision.note).returning(DECISION.c.id)
        with self._connect() as conn:
            return int(conn.execute(stmt).scalar() or 0)

    def undo_decision(self, decision_id: int, at: datetime, by: str) -> bool:
        """Withdraw a decision (kept, marked undone); False if it was undone already."""
        c = DECISION.c
        with self._connect() as conn:
            done = conn.execute(update(DECISION).where(c.id == decision_id, c.undone_at.is_(None))
                                .values(undone_at=at, undone_by=by))
            return bool(done.rowcount)

    def decisions(self) -> list[Decision]:
        """Every decision, undone ones too, oldest first."""
        with self._connect() as conn:
            rows = conn.execute(select(DECISION).order_by(DECISION.c.id)).all()
        return [Decision(r.id, frozenset(int(i) for i in r.items), r.action, r.decided_by, r.at,
                         r.note, r.undone_at) for r in rows]


def _of(track: str | None) -> ColumnElement[bool]:
    c = CRITERION_TRANSITION.c
    return c.track.is_(None) if track is None else c.track == track
