"""How long a page source's parse takes, on the saved official pages and on hostile pages.

    .venv/bin/python benchmarks/pages.py

Prints one line per case: milliseconds per parse (best of --reps) and the parse worker's peak
resident memory growth. Not a test: figures for the README and reviews (issue 19).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from watcher.ingest.page import PageSelectors, parse_page

PAGES = ROOT / "tests" / "fixtures" / "pages"
MAZHILIS = PageSelectors(item="ul.news-list li.news-list__item", title="a.news-list__title",
                         date="span.news-list__date", summary="div.news-list__lead",
                         date_format="%d.%m.%Y %H:%M", timezone="Asia/Almaty")
FLAT = PageSelectors(item="div.n", title="a", date="span")


def hostile_cases() -> dict[str, bytes]:
    """10 MiB bodies (the fetcher's cap) built to cost the parser the most."""
    cap = 10 * 1024 * 1024
    tiny = b"<i></i>"
    row = (b"<div class=n><a href='/x'>Item</a><span>12.11.2025</span>"
           b"<script>var a='<div class=n>';</script></div>")
    return {
        "1.4M empty elements": b"<html><body>" + tiny * (cap // len(tiny)) + b"</body></html>",
        "95k matching items": b"<html><body>" + row * (cap // len(row)) + b"</body></html>",
        "one 10 MB attribute": (b"<html><body><div class=n><a title='" + b"x" * (cap - 200)
                                + b"' href=/x>T</a></div></body></html>"),
        "nesting 10k deep": b"<div class=n><a href=/x>T</a></div>" + b"<div>" * 10_000,
    }


def measure(name: str, call: Callable[[], object], reps: int) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    best = float("inf")
    for _ in range(reps):
        started = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - started)
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    print(f"{name:<28} {best * 1000:9.1f} ms   peak RSS +{grown:6.1f} MiB", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=5)
    reps = parser.parse_args().reps
    saved = (PAGES / "mazhilis-ru.html").read_bytes()
    measure("saved Mazhilis page", lambda: parse_page("m", saved, MAZHILIS,
                                                        base_url="https://www.parlam.kz/"), reps)
    for name, body in hostile_cases().items():
        measure(name, lambda body=body: _parse_or_fail(body), reps)
    return 0


def _parse_or_fail(body: bytes) -> object:
    try:
        return parse_page("h", body, FLAT, base_url="https://example.org/")
    except Exception as exc:  # noqa: BLE001 - a refusal is a result here
        return exc


if __name__ == "__main__":
    sys.exit(main())
