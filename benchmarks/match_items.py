"""How fast the matcher goes: Matcher(config).match(title, summary) over ~20k realistic items.

Not part of `make test` (a speed goal is measured, not asserted). Issue 6 wants all indicators
over 100,000 stored items in ≤ 10 s, so this prints items/s and the projected time for 100k.

Items: the shared bench corpus (../shared/bench/make_corpus.py, generated once into a cache
folder and parsed with watcher.ingest.parse, the real path), plus every topical text we have (indicator
examples, the devset, the held-out sets) mixed in at about 5 %, so matches, near clauses and
certainty cues are exercised too, not only the no-hit fast path.

    .venv/bin/python benchmarks/match_items.py [--items 20000] [--profile] [--repeat 3]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from watcher.config import load_config
from watcher.ingest.parse import parse_feed
from watcher.judge.match import Matcher

SHARED = ROOT.parent / "shared"
CACHE = Path(os.environ.get("BENCH_TMP", "/tmp/watcher-bench")) / "match-items"


def corpus_items(n_feeds: int) -> list[tuple[str, str]]:
    """(title, summary) of every item of the first n_feeds corpus feeds, parsed by watcher."""
    cached = CACHE / f"items-{n_feeds}.json"
    if cached.exists():
        return [tuple(x) for x in json.loads(cached.read_text())]  # type: ignore[misc]
    out_dir = CACHE / f"corpus-{n_feeds}"
    if not (out_dir / "manifest.json").exists():
        subprocess.run([sys.executable, str(SHARED / "bench" / "make_corpus.py"), "--out", str(out_dir),
                        "--n", str(n_feeds), "--seed", "20261123", "--port", "47231"], check=True,
                       stdout=subprocess.DEVNULL)
    items: list[tuple[str, str]] = []
    for path in sorted((out_dir / "feeds").glob("*.xml")):
        parsed = parse_feed(path.stem, path.read_bytes(), base_url=f"http://127.0.0.1:47231/{path.name}")
        items += [(it.title, it.summary) for it in parsed.items]
    cached.write_text(json.dumps(items, ensure_ascii=False))
    return items


def topical_items(config_path: Path) -> list[tuple[str, str]]:
    """Indicator examples, devset and held-out items: the texts that do match something."""
    config = load_config(config_path)
    out = [(ex.title, ex.summary) for ind in config.indicators
           for ex in list(ind.examples.match) + list(ind.examples.no_match)]
    for path in [SHARED / "devset" / "headlines.jsonl", *sorted((ROOT / "tests" / "fixtures").glob("heldout*.jsonl"))]:
        if path.exists():
            for line in path.read_text().splitlines():
                if line.strip():
                    d = json.loads(line)
                    out.append((d.get("title", ""), d.get("summary", "")))
    return out


def workload(n: int, config_path: Path) -> list[tuple[str, str]]:
    """n items: corpus items with ~5 % topical ones mixed in, deterministically."""
    rng = random.Random(6)
    background = corpus_items(max(50, n // 40 + 1))
    topical = topical_items(config_path)
    out = []
    for i in range(n):
        out.append(rng.choice(topical) if rng.random() < 0.05 else background[i % len(background)])
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--items", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=3, help="timed runs (the median is reported)")
    ap.add_argument("--config", type=Path, default=ROOT / "indicators.yaml")
    ap.add_argument("--profile", action="store_true", help="one run under cProfile; top 25 by own time")
    args = ap.parse_args()
    items = workload(args.items, args.config)
    distinct = len(set(items))
    chars = sum(len(t) + len(s) for t, s in items) / len(items)
    config = load_config(args.config)
    t0 = time.perf_counter()
    matcher = Matcher(config)
    compile_s = time.perf_counter() - t0
    print(f"{len(items)} items ({distinct} distinct texts, {chars:.0f} chars on average), "
          f"{len(config.indicators)} indicators, {len(matcher.terms)} terms; compile {compile_s * 1000:.0f} ms")
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        for title, summary in items:
            matcher.match(title, summary)
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
        return 0
    runs, matched = [], 0
    for _ in range(args.repeat):
        matcher = Matcher(config)              # a fresh matcher: no warm per-text cache across runs
        c0, t0 = time.process_time(), time.perf_counter()
        matched = sum(1 for title, summary in items if matcher.match(title, summary))
        runs.append((time.perf_counter() - t0, time.process_time() - c0))
    runs.sort()
    wall, cpu = runs[len(runs) // 2]
    print(f"matched items: {matched} of {len(items)}")
    print(f"median of {args.repeat}: wall {wall:.2f} s, CPU {cpu:.2f} s → {len(items) / cpu:,.0f} items/s (CPU), "
          f"{cpu / len(items) * 1e6:.0f} µs/item")
    print(f"projected for 100,000 items: {100_000 / len(items) * cpu:.1f} s CPU (target ≤ 10 s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
