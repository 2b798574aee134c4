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

import email
import multiprocessing
import re
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from email import policy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT, SHARED
from tests.feedserver import FeedServer, child_env
from tests.test_parse import HEADER, corpus_files
from tests.test_pipeline import context
from watcher.config import parse_config
from watcher.errors import ConfigError, FeedError
from watcher.ingest.fetch import MiB
from watcher.ingest.parse import MAX_SUMMARY, MAX_TITLE, parse_feed
from watcher.judge.match import Matcher
from watcher.service import run_once

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


# `watcher poll` as the CLI runs it, reporting its peak RSS once everything is imported (the
# baseline) and again when it ends. VmHWM, not getrusage's ru_maxrss: on Linux a child's
# ru_maxrss keeps the high-water mark of the process it was forked from (pytest here), so
# it would hide the poll's own growth.
POLL_AND_MEASURE = """
import re, sys
from watcher import cli, service, store
from watcher.ingest import fetch, parse
from watcher.judge import match
from watcher.report import digest, render
def peak():
    with open("/proc/self/status") as status:
        return int(re.search(r"VmHWM:\\s+(\\d+) kB", status.read()).group(1))
print(f"BASE_RSS_KIB={peak()}", file=sys.stderr)
code = cli.main(sys.argv[1:])
print(f"PEAK_RSS_KIB={peak()}", file=sys.stderr)
sys.exit(code)
"""


def start_poll(config: Path, state: Path) -> subprocess.Popen[str]:
    """`watcher poll` in a child process (its stdout/stderr collected by `finish_poll`)."""
    env = child_env(WATCHER_STATE_DIR=str(state), WATCHER_FETCH_TIMEOUT="20")
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
    print(f"\npoll RSS high-water: {rss['BASE'] / MiB:.0f} MiB once imported, "
          f"{rss['PEAK'] / MiB:.0f} MiB at the end")
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
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_every_corpus_file_polled_over_http_is_stored_or_explained(
        feed_server: FeedServer, tmp_path: Path) -> None:
    served = serve_corpus(feed_server)
    started = time.monotonic()
    proc = start_poll(write_corpus_config(tmp_path, feed_server, list(served)), tmp_path / "state")
    # Meanwhile, what the parser reads from each file — in another process, so it neither
    # holds this process's GIL (the feed server's threads answer the poll) nor waits for it.
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        keys = pool.map(expected_keys, *zip(*((fid, path, body, ctype,
                                                feed_server.url(f"/c/{fid[1:]}"))
                                               for fid, (path, body, ctype) in served.items())),
                        chunksize=32)
        want = dict(zip(served, keys))
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


# --- feed text that attacks the digest ---------------------------------------------------------

HUGE_TITLE = 5 * MiB
HOSTILE_ITEMS = [
    # (guid, title XML, link, description XML)
    ("script", ("&lt;script&gt;alert('x')&lt;/script&gt;Azerbaijan signs on to the Abraham "
                "Accords in Washington"), "https://news.example.com/az",
     ("<![CDATA[<img src=x onerror=alert(1)><a href=\"javascript:alert(2)\">click</a>"
      "<iframe src=\"https://evil.example/\"></iframe>]]>")),
    ("jslink", "Protesters rally in Almaty over fuel prices", "javascript:alert(document.cookie)",
     "<![CDATA[<a href=\"data:text/html,<script>alert(3)</script>\">x</a>]]>"),
    ("crlf", ("Kazakhstan and Israel sign water agreement&#13;&#10;Bcc: victim@example.com"
              "&#13;&#10;Subject: pwned&#13;&#10;&#13;&#10;<b>body</b>"),
     "https://news.example.com/kz-il",
     "Content-Type: text/html&#13;&#10;&#13;&#10;&lt;script&gt;alert(4)&lt;/script&gt;"),
    ("bidi", "Saudi Arabia \u202eSLIAM DESREVER\u202c formally enters Abraham Accords framework",
     "https://www.gov.kz@evil.example/\u202ephishing", "Invisible\u200b\u2066 marks\u2069."),
    ("userinfo", "Uzbekistan confirms Abraham Accords membership at Tashkent summit",
     "https://www.gov.uz@evil.example/login", "Looks like gov.uz, goes to evil.example."),
]


def hostile_feed() -> bytes:
    items = "".join(f"<item><guid>{g}</guid><title>{t}</title><link>{link}</link>"
                    f"<description>{d}</description>"
                    f"<pubDate>Mon, 09 Mar 2026 0{n}:00:00 GMT</pubDate></item>"
                    for n, (g, t, link, d) in enumerate(HOSTILE_ITEMS))
    huge = "Kazakh students protest in Astana " + "endlessly " * (HUGE_TITLE // 10)
    items += (f"<item><guid>huge</guid><title>{huge}</title><link>https://news.example.com/huge"
              f"</link><pubDate>Mon, 09 Mar 2026 08:00:00 GMT</pubDate></item>")
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>' \
           f"<title>hostile</title>{items}</channel></rss>".encode()


@pytest.fixture
def hostile_digest(feed_server: FeedServer, state_env: Path, tmp_path: Path) -> Any:
    """The hostile feed polled, stored and sent as a digest to the file outbox."""
    feed_server.add("/hostile.rss", hostile_feed())
    data = yaml.safe_load((ROOT / "tests" / "fixtures" / "mini.yaml").read_text(encoding="utf-8"))
    data["feeds"] = [{"id": "hostile", "url": feed_server.url("/hostile.rss"), "every": "1h"}]
    config = tmp_path / "indicators.yaml"
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    ctx = context(config)
    report, _verdict, sent = run_once(ctx)
    assert report.new_items == len(HOSTILE_ITEMS) + 1 and sent == (1, 0), report.line()
    (eml,) = (state_env / "outbox").glob("*.eml")
    return ctx, eml.read_bytes()


def test_hostile_text_is_stored_as_harmless_capped_plain_text(hostile_digest: Any) -> None:
    ctx, _raw = hostile_digest
    items = {s.item.key.rsplit("/", 1)[-1]: s.item for s in ctx.store.iter_items()}
    for item in items.values():
        text = item.title + item.summary
        assert "<" not in text and "\r" not in text and "\n" not in text
        assert not set(text) & set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200b")
        assert item.url == "" or item.url.startswith("https://")
        assert len(item.title) <= MAX_TITLE and len(item.summary) <= MAX_SUMMARY
    assert items["jslink"].url == ""
    assert "Bcc: victim@example.com Subject: pwned" in items["crlf"].title   # kept, one line
    assert items["huge"].title.startswith("Kazakh students protest in Astana endlessly")
    assert "@" not in items["userinfo"].url and "@" not in items["bidi"].url


def test_the_digest_cannot_be_turned_into_a_weapon(hostile_digest: Any) -> None:
    _ctx, raw = hostile_digest
    head = raw.split(b"\r\n\r\n", 1)[0].decode()
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert sorted(msg.keys()) == sorted(["From", "To", "Subject", "Date", "Message-ID",
                                         "MIME-Version", "Content-Type", "List-Id",
                                         "Auto-Submitted", "X-Watcher-Period", "Precedence",
                                         "X-Auto-Response-Suppress"])
    assert "pwned" not in head and "victim" not in head and "Bcc" not in head
    html = msg.get_body(("html",)).get_content()                  # type: ignore[union-attr]
    text = msg.get_body(("plain",)).get_content()                 # type: ignore[union-attr]
    for body in (html, text):
        assert "Azerbaijan signs on to the Abraham Accords" in body   # the content is there …
        assert "Bcc: victim@example.com" in body                      # … as text
        assert not re.search(r"javascript:|data:text|onerror|<script|<iframe|<img", body,
                             re.IGNORECASE)
        assert not set(body) & set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
        assert "gov.uz@" not in body and "gov.kz@" not in body      # no disguised host
        assert "endlessly " * 100 not in body                          # 5 MB title cut short
    assert len(raw) < 200_000
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert hrefs and all(h.startswith("https://") and "@" not in h for h in hrefs), hrefs
    # every link says where it really goes: its host is printed next to it
    for href in hrefs:
        host = href.split("/")[2]
        assert host in html.split(f'href="{href}"', 1)[1].split("</div>", 1)[0], href


# --- indicators.yaml mutated ---------------------------------------------------------------------


def shipped_slice() -> list[str]:
    """The shipped file up to its fourth indicator: every section, the aliases it uses, and
    small enough to parse a hundred variants quickly."""
    lines = (ROOT / "indicators.yaml").read_text(encoding="utf-8").splitlines()
    starts = [n for n, line in enumerate(lines) if line.startswith("  - id: ")]
    return lines[:starts[3]]


SHIPPED = shipped_slice()
JUNK = st.sampled_from(["", "[", "{", "}", "]", "*nope", "&dup", "-1", "1e999", "null", "~",
                        '"unterminated', "'", "!!python/object/apply:os.system ['true']",
                        "!!binary AAAA", "? complex", "- item", "\t", "\x00", "\ufeff", "yes",
                        "2025-13-45", "0o777", ": :", "%YAML 1.1", "---", "...", "<<: *x"])
BOMB = ["b0: &b0 [x, x, x, x, x, x, x, x, x, x]"] + [
    f"b{i}: &b{i} [{', '.join([f'*b{i - 1}'] * 10)}]" for i in range(1, 8)]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """The shipped slice with one to three edits a tired maintainer (or a fuzzer) could make."""
    lines = list(SHIPPED)
    for _ in range(draw(st.integers(1, 3))):
        n = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "value", "indent", "dedent",
                                   "insert", "truncate", "bomb", "self-alias"]))
        if op == "delete":
            del lines[n]
        elif op == "duplicate":
            lines.insert(n, lines[n])
        elif op == "swap":
            m = draw(st.integers(0, len(lines) - 1))
            lines[n], lines[m] = lines[m], lines[n]
        elif op == "value":
            key = lines[n].split(":", 1)[0] if ":" in lines[n] else lines[n]
            lines[n] = f"{key}: {draw(JUNK | st.text(max_size=20))}"
        elif op == "indent":
            lines[n] = "  " + lines[n]
        elif op == "dedent":
            lines[n] = lines[n].removeprefix("  ")
        elif op == "insert":
            at = draw(st.integers(0, len(lines[n])))
            lines[n] = lines[n][:at] + draw(JUNK | st.text(max_size=10)) + lines[n][at:]
        elif op == "truncate":
            lines = lines[:n]
        elif op == "bomb":
            lines[n:n] = BOMB
        else:
            lines[n:n] = ["loop: &loop [*loop]"]
        if not lines:
            lines = [""]
    return "\n".join(lines) + "\n"


@settings(max_examples=120, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_a_mutated_indicators_file_is_valid_or_a_config_error_with_a_line(text: str) -> None:
    try:
        config = parse_config(text)
    except ConfigError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert re.match(r"indicators\.yaml:\d+: \S", problem), problem
        return
    Matcher(config)          # what a reload builds next: a valid file must compile


def test_an_alias_bomb_is_refused_fast_with_its_line() -> None:
    text = "\n".join(SHIPPED[:1] + BOMB + SHIPPED[1:]) + "\n"
    started = time.monotonic()
    with pytest.raises(
        ConfigError,
        match=r"indicators\.yaml:7: YAML aliases add over [\d,]+ values "
        r"\(at most 200,000, or as many as the file writes out\)",
    ):
        parse_config(text)
    assert time.monotonic() - started < 5
