"""The one table `make bench` ends with: every figure of issue 17 beside its peer, with the ratio
and the target (run.py gives it the poll rounds, the rematch rounds and the year checkpoints).

Rows: the cold cycle against sfeed and rss2email, the warm cycle against rss2email, the peak
memory of the whole process tree, `watcher rematch` of 100,000 items, the bare fetch + parse
floor (asyncio + httpx + fastfeedparser, no store, no match), then each year-of-data
operation at a year beside the same operation at a week, and the database's size at a year.
"""

from __future__ import annotations

import math
import statistics
from typing import Any, Protocol


class Rounds(Protocol):
    """run.Table: medians per (feeds, tool, round)."""

    def cold(self, n: int, tool: str, what: str = "wall_s") -> float: ...
    def warm(self, n: int, tool: str, what: str = "wall_s") -> float: ...
    def has(self, n: int, tool: str) -> bool: ...


def _ratio(a: float, b: float) -> str:
    return "—" if not b or math.isnan(a) or math.isnan(b) else f"{a / b:.2f}×"


def _verdict(ok: bool) -> str:
    return "holds" if ok else "**misses**"


class Summary:
    """Rows of | figure | watcher | peer | ratio | target |."""

    def __init__(self, targets: dict[str, float]) -> None:
        self.targets = targets
        self.rows: list[str] = []

    def add(self, figure: str, mine: str, peer: str, ratio: str, target: str) -> None:
        self.rows.append(f"| {figure} | {mine} | {peer} | {ratio} | {target} |")

    def against(self, figure: str, mine: float, peer_name: str, peer: float, key: str) -> None:
        """watcher's seconds against a peer's, the target a ratio."""
        limit = self.targets[key]
        ok = not math.isnan(mine) and not math.isnan(peer) and mine <= limit * peer
        self.add(figure, f"{mine:.2f} s", f"{peer_name} {peer:.2f} s", _ratio(mine, peer),
                 f"≤ {limit}×: {_verdict(ok)}")

    def lines(self) -> list[str]:
        return ([("### Summary (issue 17: every figure, side by side; medians, ratios within "
                 "this run)\n"), "| figure | watcher | peer / baseline | ratio | target |",
                 "|---|---|---|---|---|"] + self.rows + [""])


def poll_rows(out: Summary, t: Rounds, ns: list[int], floor: str) -> None:
    """Cold and warm cycles against the peers, the process tree's memory, the floor."""
    for n in ns:
        if not t.has(n, "watcher"):
            continue
        cold, warm = t.cold(n, "watcher"), t.warm(n, "watcher")
        if t.has(n, "sfeed:stock"):
            out.against(f"cold cycle, {n:,} feeds", cold, "sfeed", t.cold(n, "sfeed:stock"),
                        "cold_vs_sfeed")
        if t.has(n, "rss2email"):
            out.against(f"cold cycle, {n:,} feeds", cold, "rss2email", t.cold(n, "rss2email"),
                        "cold_vs_rss2email")
            out.against(f"warm cycle, {n:,} feeds", warm, "rss2email", t.warm(n, "rss2email"),
                        "warm_vs_rss2email")
        tree = max(t.cold(n, "watcher", "tree_rss_mb"), t.warm(n, "watcher", "tree_rss_mb"))
        largest = t.cold(n, "watcher", "maxrss_mb")
        r2e = max(t.cold(n, "rss2email", "tree_rss_mb"), t.warm(n, "rss2email", "tree_rss_mb"))
        peer = f"rss2email {r2e:.0f} MB" if t.has(n, "rss2email") else "—"
        limit = out.targets["rss_mb_at_5000"]
        target = (f"≤ {limit:.0f} MB at 5,000 feeds: {_verdict(tree <= limit)}" if n >= 5000
                  else f"(≤ {limit:.0f} MB at 5,000 feeds)")
        out.add(f"peak memory, whole process tree, {n:,} feeds",
                f"{tree:.0f} MB (largest process {largest:.0f})", peer, "—", target)
        if t.has(n, floor):
            base = t.cold(n, floor)
            out.add(f"cold cycle against the bare fetch + parse floor, {n:,} feeds",
                    f"{cold:.2f} s", f"{floor} {base:.2f} s", _ratio(cold, base),
                    "the floor to approach")


def rematch_row(out: Summary, walls: list[float], items: int) -> None:
    if not walls:
        return
    wall, limit = statistics.median(walls), out.targets["match_s"]
    out.add(f"`watcher rematch`, {items:,} items", f"{wall:.2f} s", "—", "—",
            f"≤ {limit:.0f} s: {_verdict(wall <= limit)}")


def year_rows(out: Summary, points: list[Any], ops: list[str], scale: str, feeds: int) -> None:
    """Each operation at the last checkpoint (a year) beside the first (a week); the size at
    5,000 feeds is the measured size scaled by 5,000 / feeds (items grow with feeds)."""
    limit = out.targets["year_vs_week"]
    for backend in dict.fromkeys(p.backend for p in points):
        mine = [p for p in points if p.backend == backend]
        first, last = mine[0], mine[-1]
        for op in ops:
            a, b = first.median(op), last.median(op)
            if a is None or b is None:
                continue
            out.add(f"{backend}, {op} ({scale})", f"{b:.2f} s at {last.days} d",
                    f"{a:.2f} s at {first.days} d", _ratio(b, a),
                    f"≤ {limit}×: {_verdict(b <= limit * a)}")
        out.add(f"{backend}, database size ({scale})", f"{_mb(last.size_bytes)} at {last.days} d",
                f"{_mb(first.size_bytes)} at {first.days} d",
                _ratio(last.size_bytes, first.size_bytes), "—")
        if backend == "sqlite":
            gb, at_5000 = out.targets["sqlite_year_gb"], last.size_bytes * 5000 / feeds
            out.add(f"sqlite, database size at 5,000 feeds ({last.days} d; scaled from {feeds:,})",
                    _mb(at_5000), "—", "—", f"< {gb:.0f} GB: {_verdict(at_5000 < gb * 1e9)}")


def _mb(size: float) -> str:
    return f"{size / 1e6:,.0f} MB"
