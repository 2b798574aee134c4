"""`watcher feed test`: fetch a source once and show what the watch would make of it.

The model is urlwatch's `--test-filter`: try a source (above all a page's selectors) before
deploying it. The body is fetched with the poll's own fetcher (same caps, deadlines and
address rules), parsed by the same parse stage and matched by the same rules; nothing is
stored, so trying a source never changes the watch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from watcher.config import Feed
from watcher.errors import WatcherError
from watcher.ingest.fetch import Fetcher, request_for
from watcher.ingest.page import parse_source
from watcher.judge.match import Matcher
from watcher.models import Item, Match


@dataclass(frozen=True)
class TrialItem:
    """One item the source gave, with the indicators it would match."""

    item: Item
    matches: tuple[Match, ...]


@dataclass(frozen=True)
class Trial:
    """What one fetch of a source gave: where it ended up, its items, what was wrong."""

    feed: Feed
    final_url: str
    status: int
    title: str
    items: tuple[TrialItem, ...]
    warning: str | None


def adhoc_feed(url: str, select: list[str], lang: str | None = None) -> Feed:
    """A source named on the command line: a URL and `KEY=SELECTOR` pairs (a page if any)."""
    fields: dict[str, Any] = {}
    for pair in select:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise WatcherError(f"--select {pair!r}: expected KEY=SELECTOR, e.g. item=div.news-item")
        fields[key.strip()] = value.strip()
    data: dict[str, Any] = {"id": "test", "url": url, "lang": lang}
    if fields:
        data |= {"type": "html", "select": fields}
    try:
        return Feed.model_validate(data)
    except ValidationError as exc:
        raise WatcherError("; ".join(_problem(e) for e in exc.errors())) from None


def _problem(error: Any) -> str:
    where = ".".join(str(p) for p in error["loc"] if not str(p).startswith(("function-", "tag:")))
    what = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "missing":
        what = "missing (give it as KEY=SELECTOR)"
    if error["type"] == "extra_forbidden":
        what = ("unknown key (known: item, title, link, date, summary, date_format, date_lang, "
                "timezone)")
    where = where.replace("select.", "--select ")
    return f"{where}: {what}" if where else what


async def run_trial(feed: Feed, fetcher: Fetcher, matcher: Matcher) -> Trial:
    """Fetch `feed` once (no validators: always the whole body), parse it, match every item."""
    result = await fetcher.fetch(request_for(feed))
    assert result.body is not None            # without validators nothing is "unchanged"
    parsed = parse_source(feed.id, result.body, feed.page, content_type=result.content_type,
                          base_url=result.final_url, lang=feed.lang)
    items = tuple(TrialItem(i, tuple(matcher.match(i.title, i.summary))) for i in parsed.items)
    return Trial(feed, result.final_url, result.status, parsed.title, items, parsed.warning)


def render_trial(trial: Trial) -> str:
    """The report printed for the user: one block per item, newest as the source lists them."""
    kind = "page" if trial.feed.page is not None else "feed"
    lines = [f"{trial.feed.id}: {kind} {trial.final_url} ({trial.status}): "
             f"{len(trial.items)} item(s)" + (f" — {trial.title}" if trial.title else "")]
    if trial.warning:
        lines.append(f"warning: {trial.warning}")
    for n, entry in enumerate(trial.items, start=1):
        item = entry.item
        when = f"{item.published:%Y-%m-%d %H:%M} UTC" if item.published else "no date"
        lines += ["", f"{n:>3}. {when}  {item.title}",
                  f"     {item.url or '(no link: identified by title and date)'}"]
        if item.summary:
            lines.append(f"     {item.summary[:160]}")
        matched = [f"{m.indicator} ({m.why(3)})" for m in entry.matches]
        lines.append("     matches: " + ("; ".join(matched) if matched else "none"))
    hits = sum(1 for e in trial.items if e.matches)
    lines += ["", f"{hits} of {len(trial.items)} item(s) would match; nothing was stored."]
    return "\n".join(lines)
