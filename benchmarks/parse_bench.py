"""How fast the parse stage goes on real feeds: ../shared/feeds-realworld, every file parsed.

Not part of `make test` (a speed goal is measured, not asserted). Prints, best of --repeat:
the whole parse stage over the corpus (parse_feed, the service's path), and the HTML-to-text
step alone over every title, summary and content fragment the corpus's entries carry.

    .venv/bin/python benchmarks/parse_bench.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import feedparser

from watcher.errors import FeedError
from watcher.ingest.markup import strip_html
from watcher.ingest.parse import parse_feed

CORPUS = ROOT.parent / "shared" / "feeds-realworld"


def corpus() -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for sub in ("realworld", "malformed", "encodings")
            for p in sorted((CORPUS / sub).glob("*")) if p.is_file()]


def fragments(files: list[tuple[str, bytes]]) -> list[str]:
    """The raw (markup-carrying) title, summary and content values of every entry."""
    out: list[str] = []
    for _, body in files:
        try:
            entries = feedparser.parse(io.BytesIO(body)).entries
        except Exception:  # noqa: BLE001, S112 — hostile documents are measured by parse_feed
            continue
        for e in entries:
            out += [v for k in ("title", "summary") if isinstance(v := e.get(k), str)]
            out += [c.get("value", "") for c in e.get("content") or []]
    return out


def best(repeat: int, work: object) -> float:
    times = []
    for _ in range(repeat):
        start = time.process_time()
        work()  # type: ignore[operator]
        times.append(time.process_time() - start)
    return min(times)


def parse_all(files: list[tuple[str, bytes]]) -> int:
    items = 0
    for name, body in files:
        try:
            items += len(parse_feed("bench", body, base_url=f"http://127.0.0.1/{name}").items)
        except FeedError:
            pass
    return items


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    files = corpus()
    frags = fragments(files)
    size = sum(len(f) for f in frags)
    items = parse_all(files)
    whole = best(args.repeat, lambda: parse_all(files))
    text = best(args.repeat, lambda: [strip_html(f) for f in frags])
    print(f"corpus: {len(files)} files, {sum(len(b) for _, b in files) / 1e6:.1f} MB, "
          f"{items} items")
    print(f"parse_feed over the corpus: {whole:.3f} s CPU (best of {args.repeat})")
    print(f"strip_html over {len(frags)} fragments ({size / 1e6:.2f} MB): {text:.3f} s CPU "
          f"({text / max(1, len(frags)) * 1e6:.1f} µs a fragment)")


if __name__ == "__main__":
    main()
