#!/usr/bin/env python3
"""Rematch every stored item against all indicators, in process: what `watcher rematch` does.

    WATCHER_STATE_DIR=STATE python benchmarks/match_bench.py --config STATE/indicators.yaml

Used by benchmarks/run.py when the branch has no `watcher rematch` command. Reads the items in
batches (Store.iter_items), matches each one with the compiled Matcher (one pass over its
words for all indicators) and rewrites the matches (Store.add_matches, replacing old ones).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from watcher.config import load_config
from watcher.judge.match import Matcher
from watcher.models import Match
from watcher.settings import load_settings
from watcher.store import Store


def rematch(store: Store, matcher: Matcher, batch: int = 2000) -> tuple[int, int, float]:
    """(items read, matches written, seconds spent in Matcher.match)."""
    items = written = 0
    matching = 0.0
    pending: dict[int, list[Match]] = {}
    for stored in store.iter_items(batch=batch):
        started = time.perf_counter()
        pending[stored.id] = matcher.match(stored.item.title, stored.item.summary)
        matching += time.perf_counter() - started
        items += 1
        if len(pending) >= batch:
            written += store.add_matches(pending)
            pending = {}
    written += store.add_matches(pending)
    return items, written, matching


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", type=Path, required=True)
    args = ap.parse_args()
    store = Store(load_settings().database_url)
    started = time.perf_counter()
    items, written, matching = rematch(store, Matcher(load_config(args.config)))
    print(f"rematched {items} item(s): {written} match(es) in {time.perf_counter() - started:.2f} s "
          f"({matching:.2f} s in Matcher.match)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
