#!/usr/bin/env python3
"""Polling benchmark: watcher's real poll path against the peer feed tools, in one run.

    make bench                                              # = the line below
    .venv/bin/python benchmarks/run.py --feeds 1000 5000 --reps 3
    .venv/bin/python benchmarks/run.py --feeds 1000 --reps 1 --tools watcher sfeed:stock rss2email

Uses ../shared/bench (corpus generator, loopback nginx, peer runners, GNU time parsing). For
every N, repetition and tool: fresh client state, then round 1 (cold: everything new) and
`--warm-rounds` rounds with nothing changed on the server. Repetitions are interleaved (rep 1
of every tool, then rep 2, ...) so load from other processes on this machine hits every tool
alike; the table shows medians. Then the matching benchmark: every indicator over 100,000
stored items. Results: a markdown table on stdout and in $BENCH_TMP/results/.

watcher's round is `python -m watcher poll --config CFG` (fetch → parse → store → match: what
the service runs each cycle) with a fresh SQLite state dir for the cold round. Between rounds
every feed is made due again (its next_due_at cleared, as if its interval had passed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import math
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import summary

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("WATCHER_BENCH_SHARED", ROOT.parent / "shared" / "bench"))
# Not the shared bench's defaults (/tmp/feedbench, 47231), so a peer run elsewhere can coexist.
BENCH_TMP = Path(os.environ.get("BENCH_TMP", "/tmp/watcher-bench"))
PORT = int(os.environ.get("BENCH_PORT", "47239"))
SEED = 20261123
MATCH_ITEMS = 100_000
PEERS = ["sfeed:stock", "sfeed:etag", "newsboat", "rss2email", "python:naive",
         "python:ideal-feedparser", "python:ideal-fastfeedparser"]
DEFAULT_TOOLS = ["watcher"] + PEERS
# What the targets compare against (ratios within one run; issue 17).
TARGETS = {"cold_vs_sfeed": 0.5, "cold_vs_rss2email": 0.15, "warm_vs_rss2email": 0.8,
           "rss_mb_at_5000": 120.0, "match_s": 5.0, "scaling": 5.5, "year_vs_week": 1.5,
           "sqlite_year_gb": 2.0}
FLOOR = "python:ideal-fastfeedparser"     # asyncio + httpx + fastfeedparser: no store, no match


@dataclass
class Round:
    """One timed run of one tool: GNU time's figures plus what the server and store saw."""

    n: int
    tool: str
    rep: int
    round: int
    wall_s: float = 0.0
    cpu_s: float = 0.0
    maxrss_mb: float = 0.0      # GNU time: the largest single process
    tree_rss_mb: float = 0.0    # sampled: the sum over the process tree at its peak
    rc: str = "0"
    items: str = "NA"
    http: dict[str, int] = field(default_factory=dict)

    def tsv(self) -> str:
        h = self.http
        return "\t".join(str(x) for x in (
            self.n, self.tool, self.rep, self.round, f"{self.wall_s:.2f}", f"{self.cpu_s:.2f}",
            f"{self.maxrss_mb:.1f}", f"{self.tree_rss_mb:.1f}", self.rc, self.items,
            h.get("requests", 0), h.get("s200", 0), h.get("s304", 0), h.get("sother", 0)))


TSV_HEADER = "n\ttool\trep\tround\twall_s\tcpu_s\tmaxrss_mb\ttree_rss_mb\trc\titems\trequests\ts200\ts304\tsother"


# --- setup ----------------------------------------------------------------------------------


def shared_report() -> ModuleType:
    """The shared bench's report.py (GNU time and nginx log parsing), imported by path."""
    spec = importlib.util.spec_from_file_location("shared_bench_report", SHARED / "report.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_shared() -> None:
    """Stop with the exact reason when ../shared/bench is not there."""
    needed = ["make_corpus.py", "serve.sh", "setup.sh", "report.py", "runners"]
    missing = [n for n in needed if not (SHARED / n).exists()]
    if missing:
        sys.exit(f"benchmark: {SHARED} is missing ({', '.join(missing)}); it holds the corpus "
                 "generator, the nginx server and the peer runners. Check out the shared folder "
                 "next to this repo or set WATCHER_BENCH_SHARED=/path/to/shared/bench.")


def bench_env() -> dict[str, str]:
    return {**os.environ, "BENCH_TMP": str(BENCH_TMP), "BENCH_PORT": str(PORT)}


def setup(tools: list[str]) -> None:
    """Install nginx, GNU time and the peers (shared setup.sh: apt + pip) when missing."""
    need_peers = any(t != "watcher" for t in tools)
    missing = [c for c in ("nginx", "curl") if shutil.which(c) is None and not Path(f"/usr/sbin/{c}").exists()]
    missing += [] if Path("/usr/bin/time").exists() else ["time"]
    if need_peers:
        missing += [c for c in ("sfeed_update", "newsboat") if shutil.which(c) is None]
        missing += [v for v in ("venv-py/bin/python", "venv-r2e/bin/r2e") if not (BENCH_TMP / v).exists()]
    if not missing:
        return
    if os.geteuid() != 0 and any("/" not in m for m in missing):
        sys.exit(f"benchmark: missing {', '.join(missing)}; run as root once:\n"
                 f"  sudo BENCH_TMP={BENCH_TMP} bash {SHARED / 'setup.sh'}")
    print(f"setup: installing {', '.join(missing)} via {SHARED / 'setup.sh'}", flush=True)
    subprocess.run(["bash", str(SHARED / "setup.sh")], env=bench_env(), check=True)


def corpus(n: int) -> Path:
    """The deterministic corpus with at least n feeds (a prefix of a larger one is identical)."""
    out = BENCH_TMP / "corpus"
    manifest = out / "manifest.json"
    if manifest.exists():
        summary = json.loads(manifest.read_text(encoding="utf-8"))["summary"]
        if summary["n"] >= n and summary["seed"] == SEED and summary["port"] == PORT:
            return out
    shutil.rmtree(out, ignore_errors=True)
    print(f"corpus: generating {n} feeds in {out}", flush=True)
    subprocess.run([sys.executable, str(SHARED / "make_corpus.py"), "--out", str(out), "--n", str(n),
                    "--seed", str(SEED), "--port", str(PORT)], check=True, stdout=subprocess.DEVNULL)
    return out


def serve(root: Path) -> None:
    subprocess.run(["bash", str(SHARED / "serve.sh"), "start", str(root)], env=bench_env(), check=True)


def stop_server() -> None:
    subprocess.run(["bash", str(SHARED / "serve.sh"), "stop"], env=bench_env(), check=False)


def urls_file(root: Path, n: int) -> Path:
    path = BENCH_TMP / f"urls-{n}.txt"
    urls = (root / "urls.txt").read_text(encoding="utf-8").split()[:n]
    path.write_text("\n".join(urls) + "\n", encoding="utf-8")
    return path


# --- the tools ------------------------------------------------------------------------------


def state_dir(tool: str) -> Path:
    return BENCH_TMP / "state" / tool.replace(":", "-")


def watcher_config(urls: Path, dest: Path) -> Path:
    """The shipped indicators.yaml with its feeds replaced by the corpus URLs."""
    data = yaml.safe_load((ROOT / "indicators.yaml").read_text(encoding="utf-8"))
    data["feeds"] = [{"id": f"f{i:04d}", "url": u, "every": "1h", "tier": "outlet"}
                     for i, u in enumerate(urls.read_text(encoding="utf-8").split())]
    path = dest / "indicators.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def watcher_env(state: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
    return {**env, "WATCHER_STATE_DIR": str(state), "WATCHER_LOG_LEVEL": "WARNING",
            "WATCHER_ALLOW_PRIVATE": "127.0.0.1"}     # the benchmark's feeds are on loopback


def make_due(state: Path) -> None:
    """Every feed due now, as if its interval had passed (untimed, between rounds)."""
    db = state / "watcher.db"
    if db.exists():
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE feed_state SET next_due_at = NULL")


def prepare(tool: str, urls: Path, state: Path | None = None) -> Path:
    """Fresh client state for one repetition (untimed)."""
    state = state or state_dir(tool)
    if tool == "watcher":
        shutil.rmtree(state, ignore_errors=True)
        state.mkdir(parents=True)
        watcher_config(urls, state)
    else:
        runner, variant = peer_runner(tool)
        subprocess.run(["bash", str(runner), "prepare", str(state), str(urls), *variant],
                       env=bench_env(), check=True)
    return state


def peer_runner(tool: str) -> tuple[Path, list[str]]:
    name, _, variant = tool.partition(":")
    return SHARED / "runners" / f"{name}.sh", [variant] if variant else []


def command(tool: str, state: Path, urls: Path) -> tuple[list[str], dict[str, str]]:
    if tool == "watcher":
        return ([sys.executable, "-m", "watcher", "poll", "--config", str(state / "indicators.yaml")],
                watcher_env(state))
    runner, variant = peer_runner(tool)
    return ["bash", str(runner), "run", str(state), str(urls), *variant], bench_env()


def count(tool: str, state: Path, urls: Path) -> str:
    if tool == "watcher":
        db = state / "watcher.db"
        if not db.exists():
            return "0"
        with sqlite3.connect(db) as conn:
            return str(conn.execute("SELECT count(*) FROM item").fetchone()[0])
    runner, variant = peer_runner(tool)
    done = subprocess.run(["bash", str(runner), "count", str(state), str(urls), *variant],
                          env=bench_env(), capture_output=True, text=True, check=False)
    return done.stdout.strip() or "NA"


# --- measuring ------------------------------------------------------------------------------


def children(pid: int) -> list[int]:
    try:
        return [int(c) for t in Path(f"/proc/{pid}/task").iterdir()
                for c in (t / "children").read_text().split()]
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return []


def tree_rss_kb(pid: int) -> int:
    """Memory of a process and all its descendants: the sum of their PSS (proportional set
    size: a page shared by forked workers counts once in total, not once per process)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
                    break
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
        todo += children(p)
    return total


def timed(cmd: list[str], env: dict[str, str], out: Path, timeout: float) -> tuple[dict[str, float], int, str]:
    """Run under GNU time -v, sampling the tree's RSS; (time fields, peak tree KB, exit code)."""
    tfile = out.with_suffix(".time")
    with open(out, "wb") as sink:
        proc = subprocess.Popen(["/usr/bin/time", "-v", "-o", str(tfile), *cmd], env=env,
                                stdout=sink, stderr=subprocess.STDOUT, start_new_session=True)
        peak, deadline, rc = 0, time.monotonic() + timeout, ""
        while proc.poll() is None:
            peak = max(peak, sum(tree_rss_kb(c) for c in children(proc.pid)))  # not GNU time
            if time.monotonic() > deadline:
                os.killpg(proc.pid, 9)
                proc.wait()
                rc = "timeout"
                break
            time.sleep(0.1)
    fields = REPORT.parse_time_v(tfile) if tfile.exists() else {}
    return fields, peak, rc or str(proc.returncode)


def run_round(tool: str, n: int, rep: int, rnd: int, state: Path, urls: Path,
              timeout: float) -> Round:
    log = BENCH_TMP / "nginx" / "access.log"
    offset = log.stat().st_size if log.exists() else 0
    if tool == "watcher" and rnd > 1:
        make_due(state)
    cmd, env = command(tool, state, urls)
    fields, peak, rc = timed(cmd, env, state / f"out.{rnd}", timeout)
    r = Round(n, tool, rep, rnd, rc=rc)
    r.wall_s = fields.get("wall_s", 0.0)
    r.cpu_s = fields.get("user_s", 0.0) + fields.get("sys_s", 0.0)
    r.maxrss_mb = fields.get("maxrss_kb", 0) / 1024
    r.tree_rss_mb = max(peak, 0) / 1024
    r.items = count(tool, state, urls)
    r.http = dict(REPORT.parse_log(log, offset)) if log.exists() else {}
    return r


def poll_rounds(ns: list[int], reps: int, tools: list[str], warm_rounds: int, timeout: float,
                root: Path, tsv: Path, peers_up_to: int | None = None) -> list[Round]:
    rounds: list[Round] = []
    for n in ns:
        urls = urls_file(root, n)
        here = [t for t in tools if t == "watcher" or peers_up_to is None or n <= peers_up_to]
        for rep in range(1, reps + 1):
            for tool in here:
                state = prepare(tool, urls)
                for rnd in range(1, warm_rounds + 2):
                    r = run_round(tool, n, rep, rnd, state, urls, timeout)
                    rounds.append(r)
                    with open(tsv, "a", encoding="utf-8") as f:
                        f.write(r.tsv() + "\n")
                    print(f"  n={n} rep={rep} {tool:<28} round {rnd}: {r.wall_s:6.2f} s wall, "
                          f"{r.cpu_s:6.2f} s CPU, {r.maxrss_mb:5.0f} MB (tree {r.tree_rss_mb:.0f}), "
                          f"items {r.items}, 200/304 {r.http.get('s200', 0)}/{r.http.get('s304', 0)}"
                          f"{'' if r.rc == '0' else ', exit ' + r.rc}", flush=True)
    return rounds


# --- matching -------------------------------------------------------------------------------


def feeds_for_items(root: Path, items: int) -> int:
    """How many corpus feeds (in order) hold at least `items` items."""
    total = 0
    for i, feed in enumerate(json.loads((root / "manifest.json").read_text(encoding="utf-8"))["feeds"]):
        total += feed["items"]
        if total >= items:
            return i + 1
    raise SystemExit(f"benchmark: the corpus holds only {total} items, fewer than {items}")


def match_state(root: Path) -> Path:
    """A watcher state with exactly MATCH_ITEMS stored items (a cold poll, then trimmed)."""
    state = BENCH_TMP / "state" / "match"
    db = state / "watcher.db"
    urls = urls_file(root, feeds_for_items(root, MATCH_ITEMS))
    if db.exists():
        with sqlite3.connect(db) as conn:
            if conn.execute("SELECT count(*) FROM item").fetchone()[0] == MATCH_ITEMS:
                watcher_config(urls, state)     # the items are reused; the rules must be today's
                return state
    prepare("watcher", urls, state)
    cmd, env = command("watcher", state, urls)
    print(f"matching: storing {MATCH_ITEMS} items (one cold poll of the first feeds)", flush=True)
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    with sqlite3.connect(db) as conn:
        cut = conn.execute("SELECT id FROM item ORDER BY id LIMIT 1 OFFSET ?", (MATCH_ITEMS,)).fetchone()
        if cut:
            conn.execute("DELETE FROM match WHERE item_id >= ?", cut)
            conn.execute("DELETE FROM item WHERE id >= ?", cut)
    return state


def has_rematch() -> bool:
    done = subprocess.run([sys.executable, "-m", "watcher", "--help"], check=False, capture_output=True,
                          text=True)
    return "rematch" in done.stdout


def match_rounds(root: Path, reps: int) -> tuple[list[Round], str]:
    """Every indicator over MATCH_ITEMS stored items: `watcher rematch`, or the Matcher directly."""
    state = match_state(root)
    cfg = state / "indicators.yaml"
    if has_rematch():
        cmd = [sys.executable, "-m", "watcher", "rematch", "--config", str(cfg)]
        how = "`watcher rematch` (read every stored item, match all indicators, rewrite matches)"
    else:
        cmd = [sys.executable, str(Path(__file__).with_name("match_bench.py")), "--config", str(cfg)]
        how = ("benchmarks/match_bench.py: this branch has no `watcher rematch`; the same work in "
               "process (Store.iter_items → Matcher.match → Store.add_matches)")
    rounds = []
    for rep in range(1, reps + 1):
        fields, peak, rc = timed(cmd, watcher_env(state), state / f"rematch.{rep}", 3600)
        r = Round(MATCH_ITEMS, "match", rep, 1, rc=rc, items=str(MATCH_ITEMS))
        r.wall_s, r.maxrss_mb = fields.get("wall_s", 0.0), fields.get("maxrss_kb", 0) / 1024
        r.cpu_s, r.tree_rss_mb = fields.get("user_s", 0.0) + fields.get("sys_s", 0.0), peak / 1024
        print(f"  matching rep={rep}: {r.wall_s:.2f} s wall, {r.cpu_s:.2f} s CPU, "
              f"{r.maxrss_mb:.0f} MB{'' if rc == '0' else ', exit ' + rc}", flush=True)
        rounds.append(r)
    return rounds, how


# --- report ---------------------------------------------------------------------------------


def med(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


class Table:
    """Medians per (n, tool, round) over repetitions."""

    def __init__(self, rounds: list[Round], warm_round: int) -> None:
        self.warm_round = warm_round
        self.groups: dict[tuple[int, str, int], list[Round]] = defaultdict(list)
        for r in rounds:
            self.groups[(r.n, r.tool, r.round)].append(r)

    def get(self, n: int, tool: str, rnd: int, what: str) -> float:
        return med([float(getattr(r, what)) for r in self.groups.get((n, tool, rnd), [])])

    def cold(self, n: int, tool: str, what: str = "wall_s") -> float:
        return self.get(n, tool, 1, what)

    def warm(self, n: int, tool: str, what: str = "wall_s") -> float:
        return self.get(n, tool, self.warm_round, what)

    def has(self, n: int, tool: str) -> bool:
        return bool(self.groups.get((n, tool, 1)))


def ratio(a: float, b: float) -> str:
    return "—" if not b or math.isnan(a) or math.isnan(b) else f"{a / b:.2f}×"


def per_n_table(t: Table, n: int, tools: list[str]) -> list[str]:
    out = [f"### N = {n} feeds (medians)\n",
           ("| tool | cold wall s | cold CPU s | cold peak RSS MB (largest / tree) | warm wall s | "
            "warm CPU s | warm peak RSS MB | items | watcher ÷ tool, cold wall | watcher ÷ tool, warm wall |"),
           "|---|---|---|---|---|---|---|---|---|---|"]
    for tool in [x for x in tools if t.has(n, x)]:
        items = sorted({r.items for k, rs in t.groups.items() if k[:2] == (n, tool) for r in rs})
        fails = [r.rc for k, rs in t.groups.items() if k[:2] == (n, tool) for r in rs if r.rc != "0"]
        out.append(
            f"| {tool} | {t.cold(n, tool):.2f} | {t.cold(n, tool, 'cpu_s'):.2f} "
            f"| {t.cold(n, tool, 'maxrss_mb'):.0f} / {t.cold(n, tool, 'tree_rss_mb'):.0f} "
            f"| {t.warm(n, tool):.2f} | {t.warm(n, tool, 'cpu_s'):.2f} | {t.warm(n, tool, 'maxrss_mb'):.0f} "
            f"| {', '.join(items)}{' ⚠ exit ' + ','.join(fails) if fails else ''} "
            f"| {ratio(t.cold(n, 'watcher'), t.cold(n, tool))} | {ratio(t.warm(n, 'watcher'), t.warm(n, tool))} |")
    return out + [""]


def verdict(ok: bool) -> str:
    return "**holds**" if ok else "**misses**"


def targets(t: Table, ns: list[int], match: list[Round]) -> list[str]:
    out = ["### Targets (issue #6; ratios within this run)\n"]
    for n in ns:
        if not t.has(n, "watcher"):
            continue
        cold, warm = t.cold(n, "watcher"), t.warm(n, "watcher")
        for peer, key, what, phase in (("sfeed:stock", "cold_vs_sfeed", cold, "cold"),
                                       ("rss2email", "cold_vs_rss2email", cold, "cold"),
                                       ("rss2email", "warm_vs_rss2email", warm, "warm")):
            base = t.cold(n, peer) if phase == "cold" else t.warm(n, peer)
            if t.has(n, peer):
                limit = TARGETS[key] * base
                out.append(f"- N={n}, {phase}: watcher {what:.2f} s ≤ {TARGETS[key]} × {peer} "
                           f"({base:.2f} s) = {limit:.2f} s: {verdict(what <= limit)}")
        tree = max(t.cold(n, "watcher", "tree_rss_mb"), t.warm(n, "watcher", "tree_rss_mb"))
        if n >= 5000:
            out.append(f"- N={n}: peak RSS of the whole process tree {tree:.0f} MB "
                       f"(largest process {t.cold(n, 'watcher', 'maxrss_mb'):.0f} MB) ≤ "
                       f"{TARGETS['rss_mb_at_5000']:.0f} MB: {verdict(tree <= TARGETS['rss_mb_at_5000'])}")
    if len(ns) > 1 and all(t.has(n, "watcher") for n in ns):
        lo, hi = min(ns), max(ns)
        for phase in ("cold", "warm"):
            a = t.cold(lo, "watcher") if phase == "cold" else t.warm(lo, "watcher")
            b = t.cold(hi, "watcher") if phase == "cold" else t.warm(hi, "watcher")
            allowed = TARGETS["scaling"] * hi / 5000 * 1000 / lo
            out.append(f"- scaling, {phase}: {lo}→{hi} feeds costs {b / a:.2f}× the time "
                       f"(≤ {allowed:.2f}×): {verdict(b / a <= allowed)}")
    if match:
        wall = med([r.wall_s for r in match])
        out.append(f"- matching {MATCH_ITEMS:,} stored items: {wall:.2f} s ≤ {TARGETS['match_s']:.0f} s: "
                   f"{verdict(wall <= TARGETS['match_s'])}")
    return out + [""]


def year_section(points: list[Any], args: argparse.Namespace) -> list[str]:
    """The year of data, checkpoint by checkpoint (year_bench's own tables)."""
    if not points:
        return []
    import year_bench
    return [f"### A year of data ({year_scale(args)})\n", YEAR_HOW, ""] + year_bench.table(points)


YEAR_HOW = ("benchmarks/year_data.py generates the history straight into the tables (items at "
            "the real captures' rates, 0.1 % matched, the derived rows); benchmarks/year_bench.py "
            "measures each operation in-process from the store's open, at each checkpoint, "
            "medians over the repetitions.")


def year_scale(args: argparse.Namespace) -> str:
    return f"{args.year_feeds:,} feeds" + (
        "" if args.year_feeds >= 5000 else f", a {5000 / args.year_feeds:g}th of the issue's 5,000")


def summary_table(t: Table, match: list[Round], points: list[Any], ns: list[int],
                  args: argparse.Namespace) -> list[str]:
    out = summary.Summary(TARGETS)
    summary.poll_rows(out, t, ns, FLOOR)
    summary.rematch_row(out, [r.wall_s for r in match], MATCH_ITEMS)
    if points:
        import year_bench
        summary.year_rows(out, points, year_bench.OPS, year_scale(args), args.year_feeds)
    return out.lines()


def report(rounds: list[Round], match: list[Round], how: str, ns: list[int], tools: list[str],
           args: argparse.Namespace, root: Path, points: list[Any] | None = None) -> str:
    points = points or []
    t = Table(rounds, args.warm_rounds + 1)
    summary = json.loads((root / "manifest.json").read_text(encoding="utf-8"))["summary"]
    lines = [f"## watcher polling benchmark, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC\n",
             (f"Host: {os.cpu_count()} cores; {args.reps} repetition(s), interleaved; medians. "
             f"Corpus: make_corpus.py seed {SEED} ({summary['n']} feeds generated, the first N used), "
             f"served by nginx on 127.0.0.1:{PORT} (ETag, Last-Modified, gzip). Cold = empty client "
             f"state; warm = round {args.warm_rounds + 1}, nothing changed on the server. CPU = "
             "user+sys of the process tree; peak RSS = GNU time's largest process / sampled sum "
             "of PSS over the process tree.\n")]
    for n in ns:
        lines += per_n_table(t, n, tools)
    if match:
        lines += ["### Matching\n", (f"{how}: all indicators of indicators.yaml over "
                  f"{MATCH_ITEMS:,} stored items, median of {len(match)}: "
                  f"{med([r.wall_s for r in match]):.2f} s wall, {med([r.cpu_s for r in match]):.2f} s CPU, "
                  f"peak RSS {med([r.maxrss_mb for r in match]):.0f} MB.\n")]
    return "\n".join(summary_table(t, match, points, ns, args) + lines + targets(t, ns, match)
                     + year_section(points, args))


# --- main -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feeds", type=int, nargs="+", default=[1000, 5000], help="N values (default 1000 5000)")
    ap.add_argument("--reps", type=int, default=3, help="repetitions per tool (default 3)")
    ap.add_argument("--tools", nargs="+", default=DEFAULT_TOOLS,
                    help=f"subset of: {' '.join(DEFAULT_TOOLS)} python:ideal-feedparser_rs")
    ap.add_argument("--warm-rounds", type=int, default=2,
                    help="rounds with nothing changed after the cold one; the last is reported "
                         "(2: newsboat 2.21 only sends validators from a feed's third reload)")
    ap.add_argument("--round-timeout", type=float, default=1800, help="seconds before a round is killed")
    ap.add_argument("--no-match", action="store_true", help="skip the matching benchmark")
    ap.add_argument("--match-only", action="store_true", help="only the matching benchmark")
    ap.add_argument("--peers-up-to", type=int, default=None,
                    help="run the peers only at N up to this (watcher runs at every N)")
    ap.add_argument("--year-feeds", type=int, default=1000,
                    help="feeds of the year of data (default 1000; the issue's scale is 5000)")
    ap.add_argument("--year-days", type=int, nargs="+", default=[7, 30, 365])
    ap.add_argument("--year-backends", nargs="+", default=["sqlite", "postgresql"],
                    choices=["sqlite", "postgresql"])
    ap.add_argument("--year-reps", type=int, default=3)
    ap.add_argument("--no-year", action="store_true", help="skip the year of data")
    ap.add_argument("--year-only", action="store_true", help="only the year of data")
    return ap.parse_args(argv)


def year_points(args: argparse.Namespace, root: Path) -> list[Any]:
    """year_bench's checkpoints for every backend (the corpus server must be up: the poll)."""
    if args.no_year:
        return []
    import year_bench
    ns = argparse.Namespace(feeds=args.year_feeds, days=args.year_days, reps=args.year_reps,
                            matched=0.001, seed=17, corpus=root, work=BENCH_TMP / "year",
                            keep=False)
    points: list[Any] = []
    for backend in args.year_backends:
        points += year_bench.run_backend(backend, ns, lambda s: print(s, flush=True))
    return points


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    check_shared()
    global REPORT
    REPORT = shared_report()
    setup([] if args.match_only else args.tools)
    root = corpus(max(args.feeds + [3000]))      # 3,000 feeds hold the matching bench's 100k items
    (BENCH_TMP / "results").mkdir(parents=True, exist_ok=True)
    stem = BENCH_TMP / "results" / f"bench-{dt.datetime.now():%Y%m%d-%H%M%S}"
    tsv = stem.with_suffix(".tsv")
    tsv.write_text(TSV_HEADER + "\n", encoding="utf-8")
    serve(root)
    try:
        only = args.match_only or args.year_only
        rounds = [] if only else poll_rounds(
            args.feeds, args.reps, args.tools, args.warm_rounds, args.round_timeout, root, tsv,
            args.peers_up_to)
        match, how = ([], "") if args.no_match or args.year_only else match_rounds(root, args.reps)
        points = [] if args.match_only else year_points(args, root)
    finally:
        stop_server()
    text = report(rounds, match, how, [] if only else args.feeds, args.tools, args, root, points)
    stem.with_suffix(".md").write_text(text + "\n", encoding="utf-8")
    print("\n" + text)
    print(f"(raw rows: {tsv}; table: {stem.with_suffix('.md')})")
    return 0


REPORT: Any = None

if __name__ == "__main__":
    sys.exit(main())
