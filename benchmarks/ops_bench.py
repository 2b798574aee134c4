"""What two start-up checks of issue 16 cost, in figures (not a test; `make bench-ops`).

1. The integrity check every open of a SQLite database runs (PRAGMA quick_check): on a
   generated watcher database of --mb megabytes, from the page cache and, when run as root,
   from a cold cache (the kernel's caches dropped first).
2. Loading an indicators.yaml of --indicators indicators shaped like tests/fixtures/mini.yaml
   (no aliases; such a file was refused as an alias bomb before).
"""

from __future__ import annotations

import argparse
import copy
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from watcher.config import load_config
from watcher.store import Store
from watcher.store.base import make_engine
from watcher.store.dbcheck import check_database

WORDS = ["astana", "kazakhstan", "israel", "accords", "signing", "ceremony", "deal", "water", "technology", "report"]


def fill(path: Path, megabytes: int) -> int:
    """A migrated watcher database grown to about `megabytes` with 1 KB-summary items."""
    Store(f"sqlite:///{path}").close()
    rng = random.Random(16)
    count = megabytes * 1024 * 1024 // 1300
    now = datetime.now(UTC).isoformat()
    with sqlite3.connect(path) as db:
        for start in range(0, count, 10_000):
            db.executemany(
                "INSERT INTO item (feed_id, key, title, summary, url, host, published, seen_at, lang)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(f"f{i % 500}", f"key-{i}", " ".join(rng.choices(WORDS, k=10)),
                  " ".join(rng.choices(WORDS, k=130)), f"https://example.org/{i}", "example.org",
                  now, now, "en") for i in range(start, min(count, start + 10_000))])
        db.commit()
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return count


def timed_check(path: Path) -> tuple[float, str]:
    engine = make_engine(f"sqlite:///{path}")
    started = time.perf_counter()
    result = check_database(engine, 10.0)
    engine.dispose()
    return time.perf_counter() - started, result


def bench_check(megabytes: int) -> None:
    with tempfile.TemporaryDirectory(prefix="watcher-ops-bench-") as tmp:
        path = Path(tmp) / "watcher.db"
        items = fill(path, megabytes)
        size = path.stat().st_size / 1e6
        warm = [timed_check(path) for _ in range(3)]
        print(f"integrity check, {size:.0f} MB database ({items:,} items): "
              f"{min(s for s, _ in warm):.2f} s from the page cache (best of 3, {warm[0][1]})")
        if os.geteuid() == 0:
            subprocess.run(["sync"], check=True)
            Path("/proc/sys/vm/drop_caches").write_text("3\n")
            seconds, result = timed_check(path)
            print(f"integrity check, {size:.0f} MB database: {seconds:.2f} s from a cold cache ({result})")


def bench_config(count: int) -> None:
    data = yaml.safe_load((ROOT / "tests" / "fixtures" / "mini.yaml").read_text(encoding="utf-8"))
    shapes = data["indicators"]
    data["indicators"] = [{**copy.deepcopy(shapes[i % len(shapes)]), "id": f"indicator_{i}"}
                          for i in range(count)]       # copies: no YAML aliases
    data["criterion"]["follow_up"] = ["expansion"]
    with tempfile.TemporaryDirectory(prefix="watcher-ops-bench-") as tmp:
        path = Path(tmp) / "indicators.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        started = time.perf_counter()
        config = load_config(path)
        print(f"indicators.yaml of {len(config.indicators):,} indicators "
              f"({path.stat().st_size / 1e6:.1f} MB): loaded in {time.perf_counter() - started:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=100, help="database size to check (MB)")
    parser.add_argument("--indicators", type=int, default=5000)
    args = parser.parse_args()
    bench_check(args.mb)
    bench_config(args.indicators)


if __name__ == "__main__":
    main()
