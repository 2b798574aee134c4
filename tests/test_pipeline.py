"""End to end on real parts: feeds on a 127.0.0.1 HTTP server → SQLite → digest over SMTP."""

from __future__ import annotations

import asyncio
import email
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, at
from watcher.config import load_config
from watcher.context import Context
from watcher.deliver.outbox import deliver_pending
from watcher.ingest.poll import poll
from watcher.models import Item
from watcher.service import judge, prepare_digest, run_once
from watcher.settings import load_settings

E2E = ROOT / "tests" / "fixtures" / "e2e"
NOW = at("2026-03-10T06:00")


def write_config(
    tmp: Path, server: Any, base: Path = ROOT / "tests" / "fixtures" / "mini.yaml"
) -> Path:
    data = yaml.safe_load(base.read_text(encoding="utf-8"))
    data["feeds"] = [
        {
            "id": "wire",
            "url": server.url("/wire.rss"),
            "every": "30m",
            "tier": "wire",
            "lang": "en",
        },
        {
            "id": "regional",
            "url": server.url("/regional.atom"),
            "every": "1h",
            "tier": "outlet",
            "lang": "ru",
        },
        {"id": "gazette", "url": server.url("/outlet.rss"), "every": "1h", "tier": "outlet"},
    ]
    path = tmp / "indicators.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def serve_fixtures(server: Any) -> None:
    server.add("/wire.rss", (E2E / "wire.rss").read_bytes(), content_type="application/rss+xml")
    server.add("/regional.atom", (E2E / "regional.atom").read_bytes(),
               content_type="application/atom+xml; charset=utf-8")
    server.add(
        "/outlet.rss", (E2E / "outlet.rss").read_bytes(), content_type="text/xml; charset=utf-8"
    )


def context(config_path: Path, clock: Any = lambda: NOW) -> Context:
    return Context.open(load_config(config_path), load_settings(), clock=clock)


def quiet_week(ctx: Context) -> None:
    """A watch that has seen something before the fixtures' news: one unmatched item stored
    (a watch that has seen nothing records no state)."""
    ctx.store.add_items([Item("wire", "quiet", "Weather in Astana", "", "https://example.com/q",
                              at("2026-03-02T06:00"))], at("2026-03-02T06:00"))


def received(smtp: Any) -> list[EmailMessage]:
    for r in smtp.messages:
        assert r.rcpt_tos == ["analyst@example.org"]
    return [r.message for r in smtp.messages]


def test_second_poll_gets_304s_and_stores_nothing_new(feed_server: Any, state_env: Path,
                                                      tmp_path: Path) -> None:
    serve_fixtures(feed_server)
    ctx = context(write_config(tmp_path, feed_server))
    first = asyncio.run(poll(ctx))
    assert first.polled == 3 and first.new_items == 9 and not first.failed
    stored = ctx.store.count_items()
    later = Context(
        ctx.config, ctx.settings, ctx.store, ctx.matcher, lambda: at("2026-03-10T08:00")
    )
    second = asyncio.run(poll(later))
    assert second.polled == 3 and second.unchanged == 3 and second.new_items == 0
    assert ctx.store.count_items() == stored
    statuses = [r[2] for r in feed_server.requests]
    assert statuses.count(304) == 3


def test_a_feed_not_yet_due_is_not_polled(
    feed_server: Any, state_env: Path, tmp_path: Path
) -> None:
    serve_fixtures(feed_server)
    ctx = context(write_config(tmp_path, feed_server))
    asyncio.run(poll(ctx))
    soon = Context(ctx.config, ctx.settings, ctx.store, ctx.matcher, lambda: at("2026-03-10T06:40"))
    report = asyncio.run(poll(soon))
    assert report.polled == 1          # wire (30m) is due, the others (1h) are not


def test_digest_reaches_a_real_smtp_server_with_items_under_their_indicators(
        feed_server: Any, smtp_server: Any, state_env: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    serve_fixtures(feed_server)
    monkeypatch.setenv("WATCHER_SMTP_URL", smtp_server.url)
    _, verdict, (sent, failed) = run_once(context(write_config(tmp_path, feed_server)))
    assert (sent, failed) == (1, 0)
    assert verdict.state.value == "FOLLOW-UP"
    (msg,) = received(smtp_server)
    assert msg["To"] == "analyst@example.org" and msg["From"] == "watcher <watcher@example.org>"
    assert msg["Subject"] == "[watcher] 2026-W11 · FOLLOW-UP · 4 new, 2 counting"
    assert msg["Message-ID"] and msg["Date"] and msg["Auto-Submitted"] == "auto-generated"
    assert msg["List-Id"]
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert text.splitlines()[3].startswith("FOLLOW-UP: measurable follow-up seen 10 Feb 2026")
    assert "THIS WEEK (first digest: everything seen so far)\r\n  4 new, 2 counting" in text
    # one entry per happening, counting first, with its indicators, sources and why it matched
    listed = text.split("NEW EVENTS")[1].split("BALANCE OF EVIDENCE")[0]
    az = entry(listed, "Azerbaijan joins the Abraham Accords at White House ceremony")
    water = entry(listed, "Kazakhstan and Israel sign water technology")
    assert "new_signatory" in az and "COUNTS" in az and "kz_israel_deal" in water
    assert listed.index("Azerbaijan joins") < listed.index("В Алматы")      # counting first
    assert "domestic_backlash" in entry(listed, "В Алматы прошел митинг")
    assert "[RU]" in listed.split("В Алматы прошел митинг")[1].splitlines()[0]
    # wire + gazette (English) and the regional Russian report: one event, three publishers
    assert "3 source(s): example.com, example.org, example.ru" in az
    assert "Azerbaijan formally joins" not in listed                  # the gazette copy joined it
    assert "why: “Abraham Accords” in title/summary, “Azerbaijan” in title" in az
    assert "wheat" not in text
    balance = text.split("BALANCE OF EVIDENCE")[1].split("INDICATORS")[0]
    assert (
        "MOMENTUM: 2 event(s)" in balance
        and "STALL: 2 event(s)" in balance
        and "1 denial(s)" in balance
    )
    assert "Indonesia says it will not join" in balance and "denied" in balance
    assert "<table" in html and "Azerbaijan joins the Abraham Accords" in html
    assert (
        "Balance of evidence" in html
        and "momentum: 2</strong>" in html
        and "stall: 2</strong>" in html
    )
    assert "why:" not in html                     # the email's HTML leaves that to the report


def test_the_same_period_is_never_sent_twice(
    feed_server: Any,
    smtp_server: Any,
    state_env: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    serve_fixtures(feed_server)
    monkeypatch.setenv("WATCHER_SMTP_URL", smtp_server.url)
    path = write_config(tmp_path, feed_server)
    run_once(context(path))
    run_once(context(path, lambda: at("2026-03-11T06:00")))    # same week: nothing new to send
    assert len(smtp_server.messages) == 1
    run_once(context(path, lambda: at("2026-03-16T06:00")))    # next Monday 07:00 Almaty passed
    assert len(smtp_server.messages) == 2
    first, second = received(smtp_server)
    assert first["Message-ID"] != second["Message-ID"]
    assert "No new events since the last digest" in second.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_a_failed_send_is_kept_and_retried_until_the_server_is_back(
        feed_server: Any, smtp_server: Any, state_env: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    serve_fixtures(feed_server)
    monkeypatch.setenv("WATCHER_SMTP_URL", smtp_server.url)
    ctx = context(write_config(tmp_path, feed_server))
    asyncio.run(poll(ctx))
    smtp_server.stop()
    assert prepare_digest(ctx) == 1
    assert deliver_pending(ctx) == (0, 1)
    (queued,) = ctx.store.messages("pending")
    assert queued.attempts == 1 and queued.last_error
    smtp_server.start()
    assert deliver_pending(ctx, at("2026-03-10T06:01")) == (0, 0)     # not due for a retry yet
    assert deliver_pending(ctx, at("2026-03-10T07:00")) == (1, 0)
    (msg,) = received(smtp_server)
    assert msg["Message-ID"] == queued.message_id


def test_without_smtp_the_digest_lands_in_the_file_outbox(feed_server: Any, state_env: Path,
                                                          tmp_path: Path) -> None:
    serve_fixtures(feed_server)
    run_once(context(write_config(tmp_path, feed_server)))
    (eml,) = (state_env / "outbox").glob("*.eml")
    assert eml.with_suffix(".html").exists()
    msg = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert "FOLLOW-UP" in msg["Subject"]


def test_a_failing_feed_is_recorded_and_listed_and_others_still_stored(
        feed_server: Any, state_env: Path, tmp_path: Path) -> None:
    feed_server.add("/wire.rss", b"gone", status=500)
    feed_server.add("/regional.atom", (E2E / "regional.atom").read_bytes(),
                    content_type="application/atom+xml")
    feed_server.add("/outlet.rss", (E2E / "outlet.rss").read_bytes())
    ctx = context(write_config(tmp_path, feed_server))
    report = asyncio.run(poll(ctx))
    assert set(report.failed) == {"wire"} and report.new_items == 5
    (wire,) = [f for f in ctx.store.feed_health() if f.feed_id == "wire"]
    assert wire.failures == 1 and "500" in (wire.last_error or "") and wire.next_due_at > NOW  # type: ignore[operator]
    prepare_digest(ctx)
    (msg,) = ctx.store.messages()
    assert b"wire" in msg.raw and b"500 status code" in msg.raw


def test_criterion_transition_is_stored_once(
    feed_server: Any, state_env: Path, tmp_path: Path
) -> None:
    serve_fixtures(feed_server)
    ctx = context(write_config(tmp_path, feed_server))
    judge(ctx)                                     # nothing seen: nothing to record
    assert ctx.store.transitions() == []
    quiet_week(ctx)
    judge(ctx)
    asyncio.run(poll(ctx))
    judge(ctx)
    judge(ctx)
    assert [t.state for t in ctx.store.transitions()] == ["WATCHING", "FOLLOW-UP"]


def test_shipped_indicators_on_unseen_feeds_deliver_one_digest_with_items_in_place(
        feed_server: Any, smtp_server: Any, state_env: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    serve_fixtures(feed_server)
    monkeypatch.setenv("WATCHER_SMTP_URL", smtp_server.url)
    config = write_config(tmp_path, feed_server, base=ROOT / "indicators.yaml")
    cfg = load_config(config)
    _, verdict, sent = run_once(context(config))
    # one digest per recipient, and one alert each for what crossed a shipped alert rule
    assert sent == (2 * len(cfg.digest.recipients), 0)
    alert = received_by(smtp_server, cfg.digest.recipients[0], kind="alert")
    alerting = {i.id for i in cfg.indicators if i.alert}
    alerted = [line for line in alert.get_body(("plain",)).get_content().splitlines()  # type: ignore[union-attr]
               if line.startswith("  Why it matters: ")]
    assert alerted and alert["Subject"].startswith("[watcher] ALERT: ")
    assert {next(i.id for i in cfg.indicators if i.title.startswith(line[18:58]))
            for line in alerted} <= alerting
    msg = received_by(smtp_server, cfg.digest.recipients[0])
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    listed = text.split("NEW EVENTS")[1].split("BALANCE OF EVIDENCE")[0]
    assert "new_signatory" in entry(listed,
                                    "Azerbaijan joins the Abraham Accords at White House ceremony")
    assert "kz_israel_deal" in entry(listed, "Kazakhstan and Israel sign water technology")
    assert "domestic_backlash" in entry(listed, "В Алматы прошел митинг")
    denial = entry(listed, "Indonesia says it will not join")
    assert "new_signatory" in denial and "denied" in denial
    assert "wheat" not in text and "Markets close" not in text
    assert verdict.state.value == "FOLLOW-UP" and "FOLLOW-UP" in msg["Subject"]


def entry(listed: str, title: str) -> str:
    """One happening's entry in the text digest's list: from its title to the next entry."""
    start = listed.index(f"  * {title}")
    end = listed.find("\n  * ", start + 1)
    return listed[start:end if end >= 0 else None]


def received_by(smtp: Any, recipient: str, kind: str = "digest") -> EmailMessage:
    """The one message of this kind (digest or alert) the recipient got."""
    (msg,) = [r.message for r in smtp.messages if r.rcpt_tos == [recipient]
              and r.message["Subject"].startswith("[watcher] ALERT") == (kind == "alert")]
    return msg  # type: ignore[no-any-return]


def test_one_cycle_reads_and_clusters_the_stored_matches_once(
        feed_server: Any, smtp_server: Any, state_env: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Alerts, the full report and the email all come from one judgement of the cycle: reading
    every stored match is the costly part once a year of evidence is stored."""
    serve_fixtures(feed_server)
    monkeypatch.setenv("WATCHER_SMTP_URL", smtp_server.url)
    ctx = context(write_config(tmp_path, feed_server))
    reads = 0
    real = ctx.store.matched_items

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal reads
        reads += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(ctx.store, "matched_items", counted)
    _, verdict, (sent, failed) = run_once(ctx)
    assert (sent, failed) == (1, 0) and verdict.state.value == "FOLLOW-UP"
    assert reads == 1
