"""`watcher replay DIR --as-of DATE…`: backtest the current rules on archived feed files.

Each file is ingested as if polled on its own date (from its name, else its modification
time), into a temporary database unless the live one is asked for; the criterion is then
evaluated as it would have stood on each date, from what had been seen by then.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path

from watcher.config import Config, Feed
from watcher.context import Context
from watcher.errors import FeedError, WatcherError
from watcher.ingest.page import parse_source
from watcher.models import CriterionVerdict
from watcher.report.balance import Balance, balance_of
from watcher.report.verdict import verdict_object
from watcher.service import judge_as_of
from watcher.settings import Settings
from watcher.store import FeedFailed, FeedPolled

FEED_FILES = (".xml", ".rss", ".atom", ".rdf", ".json", ".html", ".htm")   # .html: saved pages
_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[T_ ](\d{2}):?(\d{2}))?")


@dataclass(frozen=True)
class ArchivedFile:
    """One saved copy of a feed and the moment it stands for."""

    path: Path
    feed_id: str
    at: datetime


@dataclass
class ReplayReport:
    """What ingesting an archive did."""

    files: int = 0
    items: int = 0
    matches: int = 0
    failed: dict[str, str] = field(default_factory=dict)

    def line(self, where: str) -> str:
        failed = f"; {len(self.failed)} file(s) unreadable" if self.failed else ""
        return (f"replayed {self.files} file(s) into {where}: {self.items} new item(s), "
                f"{self.matches} match(es){failed}")


def archived_files(folder: Path) -> list[ArchivedFile]:
    """Feed files under `folder`, oldest first. The feed id is the sub-folder's name, else the
    file name without its date and extension ('tass-ru.2026-02-10.xml' → 'tass-ru')."""
    if not folder.is_dir():
        raise WatcherError(f"{folder}: not a folder of archived feed files")
    out = []
    found = (p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in FEED_FILES)
    for path in sorted(found):
        m = _DATE.search(path.name)
        at = _moment(m) if m else datetime.fromtimestamp(path.stat().st_mtime, UTC)
        stem = _DATE.sub("", path.stem).strip("._- ") if m else path.stem
        feed_id = path.parent.name if path.parent != folder else stem
        out.append(ArchivedFile(path, _feed_id(feed_id), at))
    if not out:
        raise WatcherError(f"{folder}: no feed files ({', '.join(FEED_FILES)}) found")
    return sorted(out, key=lambda f: (f.at, str(f.path)))


def _moment(m: re.Match[str]) -> datetime:
    day = datetime.fromisoformat(m.group(1))
    hour, minute = int(m.group(2) or 0), int(m.group(3) or 0)
    return datetime.combine(day.date(), time(hour, minute), tzinfo=UTC)


def _feed_id(name: str) -> str:
    return re.sub(r"[^a-z0-9_.-]+", "-", name.lower()).strip("-") or "archive"


def replay_feeds(config: Config, files: list[ArchivedFile], *, keep_configured: bool) -> list[Feed]:
    """The feeds a replay knows: configured ones keep their tier and language; an archive's
    unknown feed is an outlet. A temporary replay watches only the archive's feeds."""
    known = {f.id: f for f in config.feeds}
    ids = dict.fromkeys(f.feed_id for f in files)
    extra = [Feed(id=i, url=f"https://archive.invalid/{i}", tier="outlet")
             for i in ids if i not in known]
    ours = list(config.feeds) if keep_configured else [known[i] for i in ids if i in known]
    return ours + extra


def ingest(ctx: Context, files: list[ArchivedFile]) -> ReplayReport:
    """Store each file's items as if polled at the file's moment, and match them."""
    feeds = {f.id: f for f in ctx.config.feeds}
    report = ReplayReport()
    for f in files:
        feed = feeds[f.feed_id]
        try:
            # an archived page's relative links resolve against the page's configured address
            parsed = parse_source(f.feed_id, f.path.read_bytes(), feed.page, lang=feed.lang,
                                  base_url=feed.url if feed.page is not None else "",
                                  aggregator=feed.tier == "aggregator")
        except (FeedError, OSError) as exc:
            report.failed[str(f.path)] = str(exc)
            ctx.store.record_failure(FeedFailed(f.feed_id, None, str(exc)[:300], f.at), f.at)
            continue
        new = ctx.store.add_items(parsed.items, f.at)
        report.matches += ctx.store.add_matches(
            {s.id: ms for s in new if (ms := ctx.matcher.match(s.item.title, s.item.summary))})
        ctx.store.record_polls([FeedPolled(f.feed_id, 200, None, None, None, f.at, len(new))], f.at)
        report.files += 1
        report.items += len(new)
    return report


def as_of(ctx: Context, moment: datetime) -> tuple[CriterionVerdict, Balance]:
    """The criterion and the balance as they stood at `moment`: only what had been seen by then.
    Nothing is recorded (no transition), so a replay into the live database leaves its history."""
    events, verdict = judge_as_of(ctx, moment)
    return verdict, balance_of(events, ctx.config, moment)


def replay(settings: Settings, config: Config, folder: Path, days: list[date], *,
           into_live: bool = False, keep: Path | None = None, as_json: bool = False) -> None:
    """`watcher replay`: ingest the archive, then print the verdict at the end of each day,
    as text (with its coverage, whatever the state) or as one JSON object a line. What is not
    the verdict (the ingest summary, warnings) goes to stderr with --json."""
    files = archived_files(folder)
    chatter = sys.stderr if as_json else sys.stdout
    for warning in archive_warnings(config, files, days):
        print(f"watcher: warning: {warning}", file=sys.stderr)
    config = config.model_copy(update={"feeds": replay_feeds(config, files,
                                                             keep_configured=into_live)})
    with tempfile.TemporaryDirectory(prefix="watcher-replay-") as tmp:
        if into_live:
            where = f"the live database {settings.database_url}"
        else:
            db = keep or Path(tmp) / "replay.db"
            settings = dataclasses.replace(settings, database_url=f"sqlite:///{db.resolve()}")
            where = f"the replay database {db}" if keep else "a temporary database (deleted after)"
        ctx = Context.open(config, settings, clock=lambda: files[0].at)
        try:
            print(ingest(ctx, files).line(where), file=chatter)
            for day in days:
                verdict, balance = as_of(ctx, datetime.combine(day, time(23, 59, 59), tzinfo=UTC))
                print(json.dumps(verdict_object(verdict, balance), ensure_ascii=False) if as_json
                      else "\n".join(["", f"as of {day}: {verdict.sentence()}",
                                      f"  coverage: {_coverage(verdict)}",
                                      f"  balance: {balance.sentence()}"]))
        finally:
            ctx.store.close()


def archive_warnings(config: Config, files: list[ArchivedFile], days: list[date]) -> list[str]:
    """What would make a replay misleading: feeds the config does not know (read as outlets,
    their tier unknown), and dates past the archive's last file (nothing after it was seen)."""
    out = []
    unknown = sorted({f.feed_id for f in files} - {f.id for f in config.feeds})
    if unknown:
        out.append(f"feed folder(s) not in the config, read as outlets: {', '.join(unknown)}")
    last = max(f.at for f in files).date()
    out += [f"as of {day} lies past the archive's last file ({last}): what followed is not in it"
            for day in days if day > last]
    return out


def _coverage(verdict: CriterionVerdict) -> str:
    cov = verdict.coverage
    if cov is None:
        return "not measured"
    return cov.sentence() + (" — POOR" if cov.poor else "")
