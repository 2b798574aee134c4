"""One judgement in words: whether an event counts, and the facts the counting rule looked at
(`watcher explain`, `watcher review`, the digest and alerts all say it this way). Pure."""

from __future__ import annotations

from watcher.judge.genre import genre_of
from watcher.judge.happening import dated_by
from watcher.judge.reaction import reaction_cue
from watcher.models import Judgement, Reason


def counts_line(j: Judgement) -> str:
    """'counts for deals (2 independent source(s), since 11 Feb 2026)' or 'does not count:
    single source awaiting review'."""
    if j.counts:
        since = f", since {j.qualified:%d %b %Y}" if j.qualified else ""
        return f"counts for {j.track} ({j.corroboration}{since})"
    if j.reason is Reason.FORMALIZATION and j.stage:
        return f"does not count: {j.why_not}; reaches the stage “{j.stage}”"
    if j.reason is Reason.OPINION and j.genre_cue:       # the genre as context, with its cue
        return f"does not count: {j.why_not} ({j.genre}: {j.genre_cue})"
    return f"does not count: {j.why_not}"


def judgement_lines(j: Judgement) -> list[str]:
    """What the counting rule looked at, one fact a line, for `watcher explain`."""
    e = j.event
    dated = next(((m, found) for m in sorted(e.items, key=lambda m: m.published)
                  if (found := dated_by(m.title, m.summary, m.published))
                  and found[0] == j.happened),
                 None)
    when = (f"{j.happened:%d %b %Y}, dated by “{dated[1][1]}” in [{dated[0].item_id}]" if dated
            else f"{j.happened:%d %b %Y} (the first report's date; no report dates it)")
    out = [f"    happened: {when}",
           f"    reports: {len(e.items)}, of which news: "
           f"{sum(1 for m in e.items if genre_of(m.title, m.url, m.tier).is_news)}"
           f"; independent news publishers: {j.sources}"
           + ("; an official source" if j.official else "")]
    out += [f"      [{m.item_id}] {m.host}: {genre_of(m.title, m.url, m.tier).label()}"
            for m in e.items[:8] if not genre_of(m.title, m.url, m.tier).is_news]
    out += [f"      [{m.item_id}] {m.host}: a reaction (title says “{cue}”)"
            for m in e.items[:8] if (cue := reaction_cue(m.title)) is not None]
    if j.decision is not None:
        out.append(f"    analyst: {j.decision.line()}")
    out.append(f"    event {j.id} {counts_line(j)}")
    if j.candidate:
        out.append(f"    review it: `watcher confirm {j.id}` or "
                   f"`watcher dismiss {j.id} --reason TEXT`")
    return out


def status_line(j: Judgement) -> str:
    """The one line the digest and alerts print under an event: 'COUNTS for deals (…)',
    'CANDIDATE for deals: single source awaiting review (…)', or 'does not count: opinion'."""
    if j.counts:
        return counts_line(j).replace("counts for", "COUNTS for", 1)
    if j.candidate and j.track is not None:
        return (f"CANDIDATE for {j.track}: {j.why_not} (`watcher confirm {j.id}` "
                f"or `watcher dismiss {j.id} --reason TEXT`)")
    return counts_line(j)
