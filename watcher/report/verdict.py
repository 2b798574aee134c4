"""The verdict as one JSON object (docs/verdict.schema.json): `watcher replay --json` prints one
per as-of date, `watcher status --json` the one for now. Pure.

For backtests and other tools: each track's state and the events behind it, the candidates
waiting for review, the accession's progress, coverage and the balance. Every event lists every
URL it holds (each report's own link), so a backtest can tie events to its labelled items.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from watcher.models import CriterionVerdict, Decision, Judgement
from watcher.report.balance import Balance, Side
from watcher.text import truncate

SCHEMA_VERSION = 1


def verdict_object(verdict: CriterionVerdict, balance: Balance | None = None) -> dict[str, Any]:
    """The verdict at verdict.now, as the documented JSON object."""
    v = verdict
    f = v.formalization
    return {
        "schema": SCHEMA_VERSION,
        "as_of": v.now.date().isoformat(),
        "state": v.state.value,
        "sentence": v.sentence(),
        "baseline": v.baseline.date().isoformat(),
        "warn_at": v.warn_at.date().isoformat(),
        "expire_at": v.expire_at.date().isoformat(),
        "days_since_baseline": v.days_since_baseline,
        "tracks": [{"id": t.id, "title": t.title, "indicators": list(t.indicators),
                    "state": t.state.value, "since": _day(t.since),
                    "counting": [event_object(j) for j in t.counting],
                    "candidates": [event_object(j) for j in t.candidates]} for t in v.tracks],
        "candidates": [event_object(j) for j in v.candidates],
        "formalization": None if f is None else {
            "stage": f.stage.id if f.stage else None,
            "progress": f.phrase(),
            "stages": [{"id": s.id, "title": s.title, "reached": _day(s.reached),
                        "evidence": [j.id for j in s.evidence]} for s in f.stages],
            "evidence": [event_object(j) for s in f.stages for j in s.evidence],
            "pending": [event_object(j) for j in f.pending]},
        "coverage": None if v.coverage is None else {
            "share_observed": round(v.coverage.share, 3), "feeds": v.coverage.feeds,
            "failing_now": v.coverage.failing_now, "items_per_week": round(v.coverage.per_week, 1),
            "recent_items_per_week": round(v.coverage.recent_per_week, 1), "poor": v.coverage.poor,
            "sentence": v.coverage.sentence()},
        "balance": None if balance is None else {s.stance: _side(s)
                                                 for s in (balance.momentum, balance.stall)},
        "decisions": [decision_object(d) for d in v.decisions],
    }


def event_object(j: Judgement) -> dict[str, Any]:
    """One judged event: what happened, when, who reported it, and whether it counts or why not."""
    e = j.event
    items = sorted(e.items, key=lambda m: (m.published, m.item_id))
    return {
        "event": j.id, "indicator": e.indicator, "track": j.track, "stage": j.stage,
        "title": e.lead.title, "urls": list(dict.fromkeys(m.url for m in items if m.url)),
        "items": sorted({m.item_id for m in items}), "publishers": e.sources,
        "sources": j.sources, "official": j.official, "happened": j.happened.isoformat(),
        "first_seen": e.first_seen.date().isoformat(), "qualified": _day(j.qualified),
        "score": e.score, "certainty": e.certainty.value, "genre": j.genre,
        "counts": j.counts, "reason": j.why_not,
        "decision": None if j.decision is None else decision_object(j.decision),
    }


def decision_object(d: Decision) -> dict[str, Any]:
    return {"id": d.id, "action": d.action, "by": d.by, "at": _stamp(d.at), "note": d.note,
            "items": sorted(d.items), "undone_at": _stamp(d.undone_at)}


def _side(s: Side) -> dict[str, Any]:
    return {"events": s.events, "score": s.score, "denials": s.denials,
            "strongest": [{"indicator": b.indicator, "title": b.title, "score": b.score,
                           "certainty": b.certainty, "url": b.url} for b in s.strongest]}


def _day(d: date | None) -> str | None:
    return d.isoformat() if d is not None else None


def _stamp(t: datetime | None) -> str | None:
    return t.isoformat() if t is not None else None


# --- the verdict in lines: status and review -------------------------------------------------

def track_lines(verdict: CriterionVerdict) -> list[str]:
    """One line per track (state, since, counting events, candidates), the accession's
    progress, and the analysts' decisions, for `watcher status`."""
    out = []
    for t in verdict.tracks:
        since = f" since {t.since:%d %b %Y}" if t.since else ""
        out.append(f"  {t.title} [{t.id}]: {t.state.value}{since} · {len(t.counting)} counting, "
                   f"{len(t.candidates)} candidate(s)")
    f = verdict.formalization
    if f is not None:
        out.append(f"  {f.phrase()}" + (f" · {f.reached_by()}" if f.reached_by() else ""))
    if verdict.decisions:
        out.append("decisions (`watcher review` lists them with their events):")
        out += [f"  #{d.id} {d.line()}" for d in sorted(verdict.decisions, key=lambda d: d.at)]
    return out


def review_lines(verdict: CriterionVerdict) -> list[str]:
    """`watcher review`: per track, the candidates awaiting a call and the events that count;
    then the accession's pending steps and the decisions taken, each with its short id."""
    out = []
    for t in verdict.tracks:
        out.append(f"{t.title} [{t.id}]: {t.state.value}"
                   + (f" since {t.since:%d %b %Y}" if t.since else ""))
        out += [_row(j, "candidate") for j in t.candidates]
        out += [_row(j, "counts") for j in t.counting]
        if not t.candidates and not t.counting:
            out.append("  (no candidate, nothing counts)")
    f = verdict.formalization
    if f is not None:
        out.append(f"formalization: {f.phrase()}"
                   + (f" · {f.reached_by()}" if f.reached_by() else ""))
        out += [_row(j, "pending") for j in f.pending]
        out += [_row(j, s.id) for s in f.stages for j in s.evidence]
    if verdict.decisions:
        out.append("decisions:")
        out += [f"  #{d.id} {d.line()} (reports {', '.join(map(str, sorted(d.items)))})"
                for d in sorted(verdict.decisions, key=lambda d: d.at)]
    return out


def _row(j: Judgement, mark: str) -> str:
    e = j.event
    decided = f" · {j.decision.line()}" if j.decision is not None and j.backing != "analyst" else ""
    backing = (j.corroboration if j.backing != "analyst"
               else j.decision.line() if j.decision else "")
    waiting = f" · {j.why_not}" if j.candidate else ""       # why it waits: one source, a reaction
    return (f"  {j.id:<8}{mark:<10} {j.happened:%Y-%m-%d}  {e.indicator}: "
            f"{truncate(e.lead.title, 90)} · {backing}{waiting} · score {e.score:g}{decided}")
