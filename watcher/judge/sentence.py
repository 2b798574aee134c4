"""The verdict in one sentence, the headline an analyst reads first. Pure."""

from __future__ import annotations

from watcher.models import Coverage, CriterionState, CriterionVerdict, TrackVerdict


def verdict_sentence(v: CriterionVerdict) -> str:
    """The headline an analyst reads first: with tracks (or formalization), one clause per
    track; a file with one implicit track keeps the older single-state sentence."""
    if len(v.tracks) > 1 or v.formalization is not None:
        return _tracks_sentence(v)
    d = v.days_since_baseline
    if v.state is CriterionState.FOLLOW_UP and v.counting_event is not None:
        ev = v.counting_event
        return (f"FOLLOW-UP: measurable follow-up seen {ev.first_seen:%d %b %Y} "
                f"({ev.indicator}: “{ev.lead.title}”, "
                f"{ev.independent or len(ev.sources)} independent source(s)); "
                f"day {d} since the baseline.")
    if v.state is CriterionState.WATCHING:
        return (f"WATCHING: no measurable follow-up yet, day {d} since the baseline; "
                f"{v.days_to_warn} days to the 6-month warning, "
                f"{v.days_to_expire} to the 12-month high-water mark.")
    cov = v.coverage
    if cov is not None and cov.poor:
        return _unestablished(v, d, cov)
    seen = f" Coverage: {cov.sentence()}." if cov is not None else ""
    if v.state is CriterionState.WARN:
        return (f"WARN: no measurable follow-up {d} days after the baseline; "
                f"{v.days_to_expire} days left before this is the high-water mark.{seen}")
    return (f"HIGH-WATER: no measurable follow-up in the {d} days since the baseline: "
            f"the accession looks like the high-water mark of the expansion.{seen}")


def _tracks_sentence(v: CriterionVerdict) -> str:
    """'FOLLOW-UP: Follow-up on deals since 12 Nov 2025 (3 corroborated events); none on
    additional signatories, 393 days after the baseline (past the 12-month mark); accession
    announced, not yet signed.'"""
    followed = [t for t in v.tracks if t.state is CriterionState.FOLLOW_UP]
    rest = [t for t in v.tracks if t.state is not CriterionState.FOLLOW_UP]
    parts = []
    if followed:
        parts.append("follow-up " + " and ".join(
            f"on {t.title} since {t.since:%d %b %Y} ({_backing(t)})" for t in followed))
    if rest:
        names = _join([t.title for t in rest], "or")
        lead = "none on" if followed else "no measurable follow-up on"
        parts.append(f"{lead} {names}, {v.days_since_baseline} days after the baseline "
                     f"({_where(v)})")
        cov = v.coverage
        absent = any(t.state is not CriterionState.WATCHING for t in rest)
        if cov is not None and cov.poor and absent:
            parts.append(f"coverage poor: {cov.scant()}, so an absence may be a gap "
                         "in the watch")
    if v.formalization is not None:
        parts.append(v.formalization.phrase())
    waiting = len(v.candidates)
    if waiting:
        parts.append(f"{waiting} candidate(s) await review")
    text = "; ".join(parts)
    return f"{v.state.value}: {text[:1].upper()}{text[1:]}."


def _where(v: CriterionVerdict) -> str:
    if v.now >= v.expire_at:
        return "past the 12-month mark"
    if v.now >= v.warn_at:
        return f"past the 6-month mark, {v.days_to_expire} days to the 12-month mark"
    return f"{v.days_to_warn} days to the 6-month mark"


def _unestablished(v: CriterionVerdict, d: int, cov: Coverage) -> str:
    """An absence claimed only as far as the watch saw: poor coverage is said first."""
    return (f"{v.state.value} (coverage poor): no measurable follow-up seen in the {d} days "
            f"since the baseline, but {cov.scant()}; this may be a gap in the watch "
            f"rather than an absence of follow-up.")


def _backing(track: TrackVerdict) -> str:
    """'3 corroborated events', '1 event on an analyst's confirmation', or both."""
    analyst = sum(1 for j in track.counting if j.backing == "analyst")
    sourced = len(track.counting) - analyst
    parts = []
    if sourced:
        parts.append(f"{sourced} corroborated event{'s' if sourced != 1 else ''}")
    if analyst:
        parts.append(f"{analyst} event{'s' if analyst != 1 else ''} on an analyst's confirmation")
    return " and ".join(parts)


def _join(names: list[str], word: str) -> str:
    """'a', 'a or b', 'a, b or c'."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {word} {names[-1]}"
