"""Hostile and malformed input through the real service path.

1. Every file of the shared real-world corpus (../shared/feeds-realworld: real feeds,
   malformed ones, odd encodings, XML attacks) is served over HTTP — with the charset that
   feedparser's suite keeps in a `Header: Content-type:` comment sent as the real header —
   and polled by `watcher poll` in a subprocess whose peak RSS is measured. No crash, no
   hang, bounded memory, no external entity fetched or read, and every feed stores exactly
   what the parser can read from it (or records why it could not).
2. Feed text built to attack the digest (markup, javascript: links, CRLF and header-like
   titles, bidi controls, 5 MB titles) is stored safely and rendered harmlessly.
3. indicators.yaml mutated by hypothesis: every invalid variant is a ConfigError with a line.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, SHARED
from tests.feedserver import FeedServer
from tests.test_parse import HEADER, corpus_files
from watcher.errors import FeedError
from watcher.fetch import MiB
from watcher.parse import MAX_SUMMARY, MAX_TITLE, parse_feed

CORPUS = SHARED / "feeds-realworld"
DISCARD = b"http://127.0.0.1:9/"       # where the corpus's XXE files point their external DTDs
MAX_RSS_GROWTH = 300 * MiB             # generous: the point is "bounded", not a tight budget


def header_content_type(body: bytes) -> str | None:
    found = HEADER.search(body[:500])
    return found.group(1).decode("latin-1") if found else None


def serve_corpus(server: FeedServer) -> dict[str, tuple[Path, bytes, str | None]]:
    """Each corpus file at /c/<n>; returns feed id → (file, body as served, content type)."""
    served = {}
    for n, path in enumerate(corpus_files()):
        body = path.read_bytes().replace(DISCARD, server.url("/external/").encode())
        ctype = header_content_type(body) or "application/xml"
        headers = {"Content-Encoding": "gzip"} if path.suffix == ".gz" else {}
        server.add(f"/c/{n}", body, content_type=ctype, headers=headers, compress=False)
        served[f"c{n}"] = (path, body, ctype)
    return served


# `watcher poll` as the CLI runs it, reporting its peak RSS once everything is imported and
# the database is open (the baseline), and again when it ends.
POLL_AND_MEASURE = """
import resource, sys
from watcher import cli, service, store, fetch, parse, match, render, report
def peak(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(f"BASE_RSS_KIB={peak()}", file=sys.stderr)
code = cli.main(sys.argv[1:])
print(f"PEAK_RSS_KIB={peak()}", file=sys.stderr)
sys.exit(code)
"""


def start_poll(config: Path, state: Path) -> subprocess.Popen[str]:
    """`watcher poll` in a child process (its stdout/stderr collected by `finish_poll`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
    env.update(WATCHER_STATE_DIR=str(state), WATCHER_FETCH_TIMEOUT="20")
    return subprocess.Popen([sys.executable, "-c", POLL_AND_MEASURE, "poll", "--config",
                             str(config)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish_poll(proc: subprocess.Popen[str]) -> tuple[int, str, int]:
    """(exit code, stderr, peak RSS growth in bytes over the baseline), bounded in time."""
    try:
        _out, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
    rss = {k: int(v) * 1024 for k, v in re.findall(r"(BASE|PEAK)_RSS_KIB=(\d+)", err)}
    assert set(rss) == {"BASE", "PEAK"}, err[-3000:]
    return proc.returncode, err, rss["PEAK"] - rss["BASE"]


def write_corpus_config(tmp: Path, server: FeedServer, ids: list[str]) -> Path:
    data = yaml.safe_load((ROOT / "tests" / "fixtures" / "mini.yaml").read_text(encoding="utf-8"))
    data["feeds"] = [{"id": fid, "url": server.url(f"/c/{fid[1:]}"), "every": "1h"}
                     for fid in ids]
    path = tmp / f"corpus-{len(ids)}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def expected_keys(fid: str, path: Path, body: bytes, ctype: str | None,
                  url: str) -> set[str] | None:
    """The item keys the parser reads from the same bytes, or None if it is no feed."""
    if path.suffix == ".gz":
        return None                             # served compressed: checked by stored-or-error
    try:
        return {i.key for i in parse_feed(fid, body, content_type=ctype, base_url=url).items}
    except FeedError:
        return set()


@pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus absent")
def test_every_corpus_file_polled_over_http_is_stored_or_explained(
        feed_server: FeedServer, tmp_path: Path) -> None:
    served = serve_corpus(feed_server)
    started = time.monotonic()
    proc = start_poll(write_corpus_config(tmp_path, feed_server, list(served)), tmp_path / "state")
    want = {fid: expected_keys(fid, path, body, ctype, feed_server.url(f"/c/{fid[1:]}"))
            for fid, (path, body, ctype) in served.items()}    # meanwhile, on the other core
    code, err, growth = finish_poll(proc)
    print(f"\ncorpus: {len(served)} files polled by `watcher poll` in "
          f"{time.monotonic() - started:.1f} s; peak RSS growth {growth / MiB:.0f} MiB")
    assert code == 0, err[-3000:]
    assert "Traceback" not in err
    assert growth < MAX_RSS_GROWTH

    db = sqlite3.connect(tmp_path / "state" / "watcher.db")
    stored: dict[str, set[str]] = {}
    for fid, key in db.execute("SELECT feed_id, key FROM item"):
        stored.setdefault(fid, set()).add(key)
    errors = dict(db.execute("SELECT feed_id, last_error FROM feed_state"))
    longest = db.execute("SELECT max(length(title)), max(length(summary)) FROM item").fetchone()
    xxe = [fid for fid, (path, _b, _c) in served.items() if path.name.startswith("selfmade__xxe")]
    xxe_text = " ".join(t + " " + s for t, s in db.execute(
        f"SELECT title, summary FROM item WHERE feed_id IN ({','.join('?' * len(xxe))})", xxe))
    db.close()

    outcome = Counter()
    for fid, (path, _body, _ctype) in served.items():
        keys = stored.get(fid, set())
        if want[fid] is not None:
            assert keys == want[fid], f"{path.name}: stored {len(keys)} of {len(want[fid])}"
        if not keys:
            assert errors[fid] or want[fid] == set() or want[fid] is None, path.name
        outcome["stored items" if keys else ("error recorded" if errors[fid] else "no items")] += 1
    print("corpus outcome:", dict(outcome), "longest title/summary:", longest)
    assert longest[0] <= MAX_TITLE and longest[1] <= MAX_SUMMARY
    assert len(xxe) == 3 and "leak:" in xxe_text and "root:" not in xxe_text   # /etc/passwd unread
    assert not [p for p in feed_server.paths() if p.startswith("/external/")]   # no DTD fetched
    assert "response larger than 10 MiB" in errors[next(
        f for f, (p, _b, _c) in served.items() if p.name == "selfmade__gzip_bomb_100MiB.xml.gz")]
