"""Command line (DESIGN §8). Exit codes: 0 ok, 1 user error (one line + hint), 2 usage."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from watcher.cli.parser import build_parser
from watcher.config import Config, load_config
from watcher.errors import ConfigError, WatcherError, damage_in
from watcher.judge.match import Matcher
from watcher.judge.publisher import without_publisher
from watcher.logs import setup_logging
from watcher.settings import SYSTEM_CONFIG, Settings, load_settings, log_level

if TYPE_CHECKING:
    from watcher.context import Context

log = logging.getLogger("watcher")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging("DEBUG" if args.verbose else log_level(), args.log_format)
    try:
        return int(COMMANDS[args.command](args) or 0)
    except ConfigError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        print(f"watcher: configuration error ({exc.hint})", file=sys.stderr)
        return 1
    except WatcherError as exc:
        if args.verbose:
            log.exception("failed")
        print(f"watcher: {damage_in(exc) or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_settings()
    if args.config is not None:
        settings = dataclasses.replace(settings, config_path=args.config)
    if args.db and args.command != "replay":         # replay keeps its own database there
        settings = dataclasses.replace(settings, database_url=database_url(args.db))
    return settings


def database_url(value: str) -> str:
    """--db: a URL as given, a file path as a SQLite URL."""
    return value if "://" in value else f"sqlite:///{Path(value).resolve()}"


def _end_of(day: date | None) -> datetime | None:
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC) if day else None


def _config(args: argparse.Namespace) -> tuple[Settings, Config]:
    settings = _settings(args)
    return settings, load_config(_found(settings.config_path, args))


def _found(path: Path, args: argparse.Namespace) -> Path:
    """indicators.yaml as found by the search (DESIGN §4); when there is none, say where
    it was looked for."""
    if args.config is None and not path.exists():
        looked = ("$WATCHER_CONFIG, $CONFIGURATION_DIRECTORY/indicators.yaml, "
                  f"{SYSTEM_CONFIG}, ./indicators.yaml")
        error = ConfigError([f"{path}: no such file (looked for {looked})"])
        error.hint = "pass --config PATH or set WATCHER_CONFIG"
        raise error
    return path


def _context(args: argparse.Namespace, read_only: bool = False) -> Context:
    """The store opened for a command; `read_only` for those that only look: they never
    create or migrate a database, and write nothing to it (issue 18)."""
    from watcher.context import Context
    settings, config = _config(args)
    return Context.open(config, settings, read_only=read_only)


# --- commands ---------------------------------------------------------------------------

def cmd_run(args: argparse.Namespace) -> int:
    from watcher.deliver import FileTransport, transport_for
    from watcher.service import run_once
    ctx = _context(args)
    if not args.once:
        from watcher.scheduler import Service
        Service(ctx, ctx.settings.config_path).run()
        return 0
    report, verdict, (sent, failed) = run_once(ctx)
    print(report.line())
    print(verdict.sentence())
    transport = transport_for(ctx.settings)
    if isinstance(transport, FileTransport):
        print(f"delivered {sent} message(s) to the file outbox {transport.outbox_dir}"
              + (f", {failed} failed" if failed else ""))
        for path in sorted(transport.outbox_dir.glob("*.eml")):
            print(f"  {path}\n  {path.with_suffix('.html')}")
    else:
        print(f"delivered {sent} message(s) via {ctx.settings.redacted_smtp_url}"
              + (f", {failed} failed (queued for retry)" if failed else ""))
    return 0


def cmd_poll(args: argparse.Namespace) -> int:
    from watcher.ingest.poll import poll
    ctx = _context(args)
    known = {f.id for f in ctx.config.feeds}
    unknown = [f for f in args.feed or [] if f not in known]
    if unknown:
        raise WatcherError(f"no feed with id {', '.join(unknown)} in {ctx.settings.config_path}")
    report = asyncio.run(poll(ctx, args.feed))
    print(report.line())
    for fid, reason in report.failed.items():
        print(f"  failed {fid}: {reason}")
    return 0


def cmd_digest(args: argparse.Namespace) -> int:
    from watcher.deliver.outbox import deliver_pending
    from watcher.report.periods import period_of
    from watcher.service import prepare_digest
    if args.full and not args.preview:
        raise WatcherError("--full goes with --preview FILE")
    if args.as_of and not args.preview:
        raise WatcherError("--as-of goes with --preview FILE (a digest is sent for now only)")
    ctx = _context(args, read_only=bool(args.preview))
    now = ctx.clock()
    since = datetime.combine(args.since, time(0), tzinfo=UTC) if args.since else None
    if args.preview:
        return _preview(ctx, args, since)
    written = prepare_digest(ctx, now, since=since)
    print(f"digest {period_of(ctx.config, now)}: {written} message(s) written to the outbox"
          + ("" if written else " (already written for this period)"))
    if args.send:
        sent, failed = deliver_pending(ctx, now)
        print(f"delivered {sent}, failed {failed}")
    return 0


def _preview(ctx: Context, args: argparse.Namespace, since: datetime | None) -> int:
    """The HTML a recipient would see now, or at the end of --as-of DATE (new: its last week)."""
    from watcher.report.periods import period_of
    from watcher.report.render import render_digest
    from watcher.service import digest_report, judge_as_of
    moment = _end_of(args.as_of)
    if moment is None:
        now, judged = ctx.clock(), None
        since = since or _preview_since(ctx, now, args.full)
    else:
        now, judged = moment, judge_as_of(ctx, moment)
        since = since or moment - timedelta(days=7)
    report = digest_report(ctx, now, period_of(ctx.config, now), since, full=args.full,
                           judged=judged)
    _subject, _text, html = render_digest(report, ctx.config)
    args.preview.write_text(html, encoding="utf-8")
    print(f"wrote {args.preview}")
    return 0


def _preview_since(ctx: Context, now: datetime, full: bool) -> datetime | None:
    """'New' for a preview: since the last digest; for --full once this period's digest is
    written, since the one before it (the week that digest covered, not an empty list)."""
    from watcher.report.periods import period_of
    last = ctx.store.last_digest_at()
    if full and last is not None and ctx.store.has_message("digest", period_of(ctx.config, now)):
        return ctx.store.last_digest_at(before=last)
    return last


def cmd_check(args: argparse.Namespace) -> int:
    if args.schema:
        from watcher.config.schema import indicators_schema
        print(json.dumps(indicators_schema(), indent=2, ensure_ascii=False))
        return 0
    path = args.path or _found(_settings(args).config_path, args)
    config = load_config(path)
    from watcher.judge.evaluate import example_failures
    problems = example_failures(config, path.read_text(encoding="utf-8"), str(path))
    if problems:
        raise ConfigError(problems)
    n = sum(len(e.match) + len(e.no_match) for e in [i.examples for i in config.indicators]
            + [s.examples for s in config.criterion.formalization if s.examples is not None]
            + [o.examples for o in [config.criterion.occasion]
               if o is not None and o.examples is not None])
    print(f"{path}: ok: {len(config.indicators)} indicators, {len(config.feeds)} feeds, "
          f"{n} examples pass")
    return 0


def cmd_feed(args: argparse.Namespace) -> int:
    """`watcher feed test`: one fetch, parse and match of a source, nothing stored."""
    from watcher.ingest.poll import fetcher_for
    from watcher.ingest.trial import adhoc_feed, render_trial, run_trial
    settings, config = _config(args)
    feeds = {f.id: f for f in config.feeds}
    if args.source in feeds:
        if args.select or args.lang:
            raise WatcherError("--select and --lang go with a URL; a feed id uses its entry in "
                               f"{settings.config_path}")
        feed = feeds[args.source]
    elif args.source.startswith(("http://", "https://")):
        feed = adhoc_feed(args.source, args.select, args.lang)
    else:
        raise WatcherError(f"no feed with id {args.source} in {settings.config_path} "
                           "(or give an http(s) URL)")

    async def trial() -> str:
        async with fetcher_for(settings) as fetcher:
            return render_trial(await run_trial(feed, fetcher, Matcher(config)))
    print(asyncio.run(trial()))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """`watcher status` is what ops run when something is wrong, so it never ends in a
    traceback: an unexpected error is one line (its traceback under -v)."""
    from watcher.service import status
    try:
        ctx = _context(args, read_only=True)
        view = status(ctx, _end_of(args.as_of))
    except WatcherError:
        raise
    except Exception as exc:
        cause = getattr(exc, "orig", None) or exc      # SQLAlchemy wraps the driver's error
        first = (str(cause).strip().splitlines() or [""])[0]
        raise WatcherError(f"status failed: {type(cause).__name__}: {first}") from exc
    print(json.dumps(view.as_json(), indent=2) if args.json else "\n".join(view.lines(ctx.config)))
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    from watcher.judge.explain import explain_item
    from watcher.service import judge_as_of
    ctx = _context(args, read_only=True)
    stored = ctx.store.find_item(args.item)
    if stored is None:
        raise WatcherError(f"no stored item with id or URL {args.item!r}")
    matched = ctx.store.matched_items()
    mine = {m.match.indicator for m in matched if m.item_id == stored.id}
    events, verdict = judge_as_of(ctx, ctx.clock())
    lines = explain_item(stored, ctx.config, ctx.matcher, events, mine, show_all=args.all,
                         verdict=verdict)
    article = ctx.store.article_of(stored.id)
    if article is not None:                      # after the header's url line
        lines.insert(3, article.line())
    print("\n".join(lines))
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    from watcher.report.verdict import review_lines
    from watcher.service import judge_as_of
    ctx = _context(args, read_only=True)
    _, verdict = judge_as_of(ctx, _end_of(args.as_of) or ctx.clock())
    print(verdict.sentence())
    print("\n".join(review_lines(verdict)))
    return 0


def cmd_decide(args: argparse.Namespace) -> int:
    from watcher import review
    ctx = _context(args)
    if args.command == "undo":
        done = review.undo(ctx, args.event, args.by)
        print(f"undone: {done.line()}")
        return 0
    note = args.note if args.command == "confirm" else args.reason
    if args.command == "dismiss" and not note.strip():
        raise WatcherError("dismiss needs --reason TEXT: the record says why")
    print(review.decide(ctx, args.event, args.command, note, args.by).line())
    return 0


def cmd_rematch(args: argparse.Namespace) -> int:
    from watcher.service import judge, rematch
    ctx = _context(args)
    since = datetime.combine(args.since, time(0), tzinfo=UTC) if args.since else None
    print(rematch(ctx, since).line())
    _, verdict = judge(ctx)
    print(verdict.sentence())
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from watcher.replay import replay
    if args.into_live and args.db:
        raise WatcherError("--into-live and --db name two different databases: give one")
    settings, config = _config(args)
    replay(settings, config, args.dir, sorted(args.as_of), into_live=args.into_live,
           keep=Path(args.db) if args.db else None, as_json=args.json)
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    from watcher.judge.score import score_match
    _, config = _config(args)
    matcher = Matcher(config)
    bad = 0
    for n, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            if not isinstance(d, dict) or not isinstance(d.get("title", ""), str):
                raise ValueError("expected an object with a string title")  # noqa: TRY004 (reported as bad input)
        except ValueError as exc:
            print(f"watcher score: stdin line {n}: not a JSON item ({exc}); skipped",
                  file=sys.stderr)
            bad += 1
            continue
        title = without_publisher(d.get("title") or "", d.get("publisher"), d.get("source"))
        matches = matcher.match(title, d.get("summary") or "")
        out = {"id": d.get("id"), "matches": [
            {"indicator": m.indicator,
             "score": score_match(m, config.indicator(m.indicator)),
             "certainty": m.certainty.value,
             "evidence": [{"term": h.term, "field": h.field} for h in m.hits]}
            for m in matches]}
        print(json.dumps(out, ensure_ascii=False), flush=True)
    return 1 if bad else 0


def cmd_eval(args: argparse.Namespace) -> int:
    """One set in one form: the full report. Several sets, or --both: one line per set and form
    (with summaries, titles only), each with its figures per language."""
    from watcher.judge.evaluate import (
        evaluate_matcher,
        format_evaluation,
        format_summary,
        load_labeled,
    )
    _, config = _config(args)
    matcher = Matcher(config)
    contract = [i.id for i in config.indicators if i.contract] or [i.id for i in config.indicators]
    forms = [False, True] if args.both else [args.titles_only]
    runs = [(path.stem, evaluate_matcher(matcher, items, contract, titles_only))
            for path in args.path for items in [load_labeled(path)] for titles_only in forms]
    if len(runs) == 1:
        print(format_evaluation(runs[0][1]))
    else:
        print(format_summary(runs))
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    from watcher.dbcopy import copy_database
    from watcher.store import redacted_url
    source = args.source or _settings(args).database_url
    counts = copy_database(source, args.target)
    to = redacted_url(args.target)
    print(f"copied {sum(counts.values())} row(s) to {to}: "
          + ", ".join(f"{name} {n}" for name, n in counts.items()))
    return 0


def cmd_silence(args: argparse.Namespace) -> int:
    from watcher.models import Silence
    ctx = _context(args)
    now = ctx.clock()
    if args.list or args.indicator is None:
        rows = ctx.store.silences()
        for s in rows:
            state = "active" if s.until > now else "expired"
            print(f"{s.indicator:<28} until {s.until:%Y-%m-%d %H:%M} UTC ({state}; "
                  f"set {s.since:%Y-%m-%d}): {s.reason}")
        if not rows:
            print("no silences")
        return 0
    _known_subject(ctx, args.indicator)
    if args.until is None or not (args.reason or "").strip():
        raise WatcherError("silence needs --until DATE and --reason TEXT")
    if args.until <= now:
        raise WatcherError(f"--until {args.until:%Y-%m-%d %H:%M} UTC is not in the future")
    ctx.store.set_silence(Silence(args.indicator, args.until, args.reason.strip(), since=now))
    print(f"alerts for {args.indicator} silenced until {args.until:%Y-%m-%d %H:%M} UTC "
          "(the digest still reports it)")
    return 0


def cmd_unsilence(args: argparse.Namespace) -> int:
    ctx = _context(args)
    if not ctx.store.remove_silence(args.indicator):
        raise WatcherError(f"{args.indicator} is not silenced (see `watcher silence --list`)")
    print(f"alerts for {args.indicator} are on again")
    return 0


def _known_subject(ctx: Context, name: str) -> None:
    known = [i.id for i in ctx.config.indicators] + ["criterion"]
    if name not in known:
        raise WatcherError(f"no indicator {name!r} in {ctx.settings.config_path} "
                           f"(ids: {', '.join(known)})")


def cmd_web(args: argparse.Namespace) -> int:
    """`watcher web`: serve the workbench; `watcher web user add NAME`: its users file."""
    from watcher.web.options import users_file, web_options
    from watcher.web.serve import serve, user_add
    if getattr(args, "web_command", None) == "user":
        print(user_add(users_file(), args.name, args.read_only, args.password_stdin))
        return 0
    options = web_options(args.listen, args.public_read)
    settings, config = _config(args)
    serve(settings, config, options)
    return 0


COMMANDS = {"run": cmd_run, "poll": cmd_poll, "digest": cmd_digest, "check": cmd_check,
            "status": cmd_status, "explain": cmd_explain, "score": cmd_score, "eval": cmd_eval,
            "rematch": cmd_rematch, "replay": cmd_replay, "silence": cmd_silence,
            "unsilence": cmd_unsilence, "db": cmd_db, "feed": cmd_feed, "review": cmd_review,
            "confirm": cmd_decide, "dismiss": cmd_decide, "undo": cmd_decide,
            "web": cmd_web}


if __name__ == "__main__":
    sys.exit(main())
