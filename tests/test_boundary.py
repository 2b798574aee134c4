"""One bad feed never stops the watch (issue 16): every feed has its own failure boundary.

Whatever goes wrong while one feed is fetched, parsed, stored or matched is recorded on that
feed; the other feeds are stored, and the cycle goes on to the digest and the outbox. The
feeds are real documents on a 127.0.0.1 server, polled through `ingest.poll` and
`run_once` as the service does, on a real database.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from tests.conftest import at
from tests.feedserver import FeedServer
from tests.hostile_docs import documents
from tests.test_pipeline import context, serve_fixtures, write_config
from watcher import cli
from watcher.context import Context
from watcher.ingest.poll import poll
from watcher.judge.match import Matcher
from watcher.models import Match
from watcher.service import run_once
from watcher.store import FeedFailed

T0 = at("2026-03-10T06:00")
HEALTHY = ("wire", "regional", "gazette")
DATED_PAST_9999 = (b'{"version":"https://jsonfeed.org/version/1","title":"late","items":['
                   b'{"id":"1","title":"Azerbaijan joins the Abraham Accords",'
                   b'"date_published":"9999-12-31T23:59:59-01:00"},'
                   b'{"id":"2","title":"Indonesia joins the Abraham Accords",'
                   b'"date_published":"0001-01-01T00:00:00+01:00"}]}')


def add_feed(config: Path, feed_id: str, url: str) -> None:
    """One more feed in the test's indicators.yaml."""
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["feeds"].append({"id": feed_id, "url": url, "every": "30m", "tier": "outlet"})
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def at_time(ctx: Context, moment: object) -> Context:
    return Context(ctx.config, ctx.settings, ctx.store, ctx.matcher, lambda: moment)  # type: ignore[arg-type,return-value]


def stored_by_feed(ctx: Context) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for s in ctx.store.iter_items():
        found.setdefault(s.item.feed_id, set()).add(s.item.key)
    return found


def test_a_json_feed_dated_past_year_9999_is_read_and_the_cycle_completes(
        feed_server: FeedServer, state_env: Path, tmp_path: Path) -> None:
    serve_fixtures(feed_server)
    feed_server.add("/late.json", DATED_PAST_9999, content_type="application/feed+json")
    config = write_config(tmp_path, feed_server)
    add_feed(config, "late", feed_server.url("/late.json"))
    ctx = context(config)
    report, _verdict, _sent = run_once(ctx)           # raised OverflowError before
    assert not report.failed and report.new_items == 11
    late = [s.item for s in ctx.store.iter_items() if s.item.feed_id == "late"]
    assert sorted(i.title for i in late) == ["Azerbaijan joins the Abraham Accords",
                                             "Indonesia joins the Abraham Accords"]
    assert all(i.published is None for i in late)     # an impossible date is no date
    assert ctx.store.messages(), "the digest was written"


class PoisonedMatcher(Matcher):
    """A bug that only one feed's text triggers, as the OverflowError was."""

    def match(self, title: str, summary: str = "") -> list[Match]:
        if "POISON" in title:
            raise RuntimeError("a bug triggered by one feed's item")
        return super().match(title, summary)


POISON = (b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>p</title>'
          b"<item><title>POISON pill</title><guid>p-1</guid></item>"
          b"<item><title>Azerbaijan joins the Abraham Accords</title><guid>p-2</guid></item>"
          b"</channel></rss>")


def poisoned(feed_server: FeedServer, tmp_path: Path) -> tuple[Context, Path]:
    """The fixture feeds and the poison feed, polled at T0 through the PoisonedMatcher."""
    serve_fixtures(feed_server)
    feed_server.add("/poison.rss", POISON)
    config = write_config(tmp_path, feed_server)
    add_feed(config, "poison", feed_server.url("/poison.rss"))
    plain = context(config, clock=lambda: T0)
    return (Context(plain.config, plain.settings, plain.store, PoisonedMatcher(plain.config),
                    plain.clock), config)


def test_a_bug_on_one_feed_is_recorded_on_it_and_never_stops_the_others(
        feed_server: FeedServer, state_env: Path, tmp_path: Path,
        caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    ctx, config = poisoned(feed_server, tmp_path)
    caplog.set_level(logging.INFO, logger="watcher")
    report = asyncio.run(poll(ctx))                    # raised RuntimeError before
    assert report.new_items == 9 and set(stored_by_feed(ctx)) == set(HEALTHY)
    assert report.failed == {"poison": "unexpected error (a bug in watcher): RuntimeError: "
                                       "a bug triggered by one feed's item"}
    bug = [r for r in caplog.records if "unexpected error" in r.getMessage() and r.exc_info]
    assert bug and "poison" in bug[0].getMessage()     # the traceback is in the log
    health = {f.feed_id: f for f in ctx.store.feed_health()}
    assert health["poison"].failures == 1 and health["poison"].next_due_at == T0 + timedelta(
        minutes=30
    )
    assert cli.main(["status", "--config", str(config)]) == 0
    assert "failing: 1" in capsys.readouterr().out
    again = asyncio.run(
        poll(at_time(ctx, T0 + timedelta(minutes=31)))
    )  # it backs off, then retries
    assert again.failed.keys() == {"poison"} and ctx.store.feed_health()[0].failures == 2


def test_a_feed_whose_failure_cannot_be_written_either_stays_due_and_the_others_go_on(
        feed_server: FeedServer, state_env: Path, tmp_path: Path,
        caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx, _config = poisoned(feed_server, tmp_path)
    real = ctx.store.record_failure

    def refuse_poison(failed: FeedFailed, now: datetime) -> int:
        if failed.feed_id == "poison":   # as PostgreSQL refuses a row it cannot hold
            raise ValueError("A string literal cannot contain NUL (0x00) characters.")
        return real(failed, now)

    monkeypatch.setattr(ctx.store, "record_failure", refuse_poison)
    report = asyncio.run(poll(ctx))                    # raised ValueError before
    assert report.new_items == 9 and set(report.failed) == {"poison"}
    assert "feed poison: its failure could not be recorded either" in caplog.text
    assert {f.feed_id: f.next_due_at for f in ctx.store.feed_health()}["poison"] == T0   # still due


def test_what_a_feed_error_quotes_is_storable() -> None:
    from watcher.errors import FeedError
    error = FeedError("http://h/\x00", "not a feed: unreadable (ValueError: '\x00\ud800')")
    assert (error.url, error.reason) == ("http://h/\ufffd",
                                         "not a feed: unreadable (ValueError: '\ufffd\ufffd')")


@pytest.fixture
def hostile_ctx(feed_server: FeedServer, state_env: Path, tmp_path: Path) -> Iterator[Context]:
    config = write_config(tmp_path, feed_server)
    add_feed(config, "hostile", feed_server.url("/hostile"))
    yield context(config)


def healthy_version(feed_id: str, n: int) -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{feed_id}'
            f"</title><item><title>Uzbekistan joins the Abraham Accords, report {n}</title>"
            f"<guid isPermaLink=\"false\">{feed_id}-{n}</guid></item></channel></rss>").encode()


ROUND = itertools.count()


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(doc=documents())
def test_generated_hostile_documents_never_stop_the_healthy_feeds(
        hostile_ctx: Context, feed_server: FeedServer, doc: tuple[bytes, str | None]) -> None:
    body, content_type = doc
    n = next(ROUND)
    now = T0 + timedelta(days=2 * n)  # every feed due again, backoff or not
    for fid, path in (
        ("wire", "/wire.rss"),
        ("regional", "/regional.atom"),
        ("gazette", "/outlet.rss"),
    ):
        feed_server.add(path, healthy_version(fid, n))
    feed_server.add("/hostile", body, content_type=content_type or "application/octet-stream")
    ctx = at_time(hostile_ctx, now)
    report = asyncio.run(poll(ctx))                    # never raises: that is the point
    assert report.polled == 4
    stored = stored_by_feed(ctx)
    health = {f.feed_id: f for f in ctx.store.feed_health()}
    for fid in HEALTHY:
        assert f"{fid}-{n}" in stored[fid] and health[fid].last_success_at == now
    hostile = health["hostile"]
    assert hostile.last_attempt_at == now
    assert (hostile.last_success_at == now) != (hostile.failures > 0)   # read, or failing
    if hostile.failures:
        assert report.failed["hostile"] == hostile.last_error


def test_a_feed_of_5000_items_costs_2000_rows_and_says_so_in_health_and_status(
        feed_server: FeedServer, state_env: Path, tmp_path: Path,
        caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.test_parse import many_items
    from watcher.service import prepare_digest
    serve_fixtures(feed_server)
    feed_server.add("/flood.rss", many_items(5000, dated=True))
    config = write_config(tmp_path, feed_server)
    add_feed(config, "flood", feed_server.url("/flood.rss"))
    ctx = context(config, clock=lambda: T0)
    caplog.set_level(logging.INFO, logger="watcher")
    report = asyncio.run(poll(ctx))
    assert report.new_items == 9 + 2000 and not report.failed
    cut = "5000 items in one document: kept the newest 2000"
    assert "feed flood: 2000 item(s), 2000 new" in caplog.text and cut in caplog.text
    assert cli.main(["status", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "failing: 0, read with warnings since the last digest: 1" in out and f"~ {cut}" in out
    assert prepare_digest(ctx, T0) == 1
    from email import message_from_bytes, policy
    mail = message_from_bytes(ctx.store.messages()[0].raw, policy=policy.SMTP)
    text = mail.get_body(("plain",)).get_content()  # type: ignore[attr-defined]
    assert cut in text.replace("\r\n", "\n")                # the health section
    assert cli.main(["status", "--config", str(config)]) == 0  # reported: the window moves on
    assert "read with warnings since the last digest: 0" in capsys.readouterr().out
