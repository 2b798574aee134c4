"""The criterion's tracks and formalization stages checked against the indicators, each
problem at its line (pydantic checks each model alone; these need the whole file)."""

from __future__ import annotations

from collections.abc import Sequence

from watcher.config.judging import Stage, Track
from watcher.config.models import Config
from watcher.config.terms import Path_, Problem


def criterion_problems(config: Config) -> list[Problem]:
    """Every name known, an indicator in one track at most and never both counted and
    formalization, ids unique, and `follow_up`, when given with tracks, naming exactly what
    they hold."""
    c, out = config.criterion, list[Problem]()
    known = {i.id for i in config.indicators} | {i.group for i in config.indicators}
    owner: dict[str, str] = {}
    groups: list[tuple[str, Sequence[Track | Stage]]] = [("tracks", c.tracks),
                                                         ("formalization", c.formalization)]
    for kind, entries in groups:
        seen: set[str] = set()
        for n, entry in enumerate(entries):
            here: Path_ = ("criterion", kind, n)
            if entry.id in seen:
                out.append((here + ("id",), f"duplicate {kind} id {entry.id!r}"))
            seen.add(entry.id)
            for k, ref in enumerate(entry.indicators):
                if ref not in known:
                    out.append((here + ("indicators", k), f"{ref!r} names no indicator or group"))
                out += _clashes(config, owner, f"{kind} {entry.id}", ref, here + ("indicators", k))
    if c.tracks and c.follow_up is not None:
        held = set(config.resolve([r for t in c.tracks for r in t.indicators]))
        listed = set(config.resolve(c.follow_up))
        if held != listed:
            out.append((("criterion", "follow_up"), (
                f"follow_up and tracks disagree on {', '.join(sorted(held ^ listed))}: "
                "list the same indicators, or drop follow_up")))
    return out


def _clashes(config: Config, owner: dict[str, str], here: str, ref: str,
             path: Path_) -> list[Problem]:
    """An indicator already in another track (a track is checked before any stage), or in a
    track and a stage; several stages may share one (ratification's steps)."""
    out: list[Problem] = []
    for ind in config.resolve([ref]):
        first = owner.setdefault(ind, here)
        if first != here and (here.startswith("tracks") or first.startswith("tracks")):
            out.append((path, (f"{ind} is already in {first}: an indicator counts for one "
                               "track, and formalization never counts as follow-up")))
    return out
