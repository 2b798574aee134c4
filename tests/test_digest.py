"""The digest as analysts read it: timeline, weekly evidence, changes, health, full report."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import at
from tests.test_criterion import CFG, events, item
from tests.test_pipeline import context, serve_fixtures, write_config
from watcher.ingest.poll import poll
from watcher.judge.criterion import evaluate
from watcher.models import IngestIssue, ServiceRun, Silence, Transition
from watcher.report.charts import build_spark, build_timeline, week_count, week_of
from watcher.report.digest import History, Undelivered, build_digest, uptime
from watcher.report.render import render_digest
from watcher.service import prepare_digest

NOW = at("2026-03-10T06:00")
STRONG = (item(1, "Azerbaijan joins the Abraham Accords", "2026-02-10",
                "https://reuters.com/a", "wire")
          + item(2, "Azerbaijan formally joins Abraham Accords", "2026-02-11",
                 "https://apnews.com/b"))
DENIED = item(3, "Indonesia says it will not join the Abraham Accords", "2026-01-20",
              "https://jakartapost.com/c")


def test_timeline_marks_baseline_six_and_twelve_months_today_and_counting_events() -> None:
    evs = events(STRONG)
    verdict = evaluate(CFG, evs, NOW)
    tl = build_timeline(verdict, evs)
    assert tl.weeks == week_count(verdict) == 53
    assert tl.cells[0] == "baseline" and tl.cells[-1] == "expire"
    assert tl.cells[week_of(verdict, verdict.warn_at)] == "warn"          # type: ignore[index]
    assert tl.cells[week_of(verdict, at("2026-02-10"))] == "event"       # type: ignore[index]
    today = week_of(verdict, NOW)
    assert tl.cells[today] == "today"                                     # type: ignore[index]
    assert set(tl.cells[1:today]) <= {"past", "event"} and "past" in tl.cells[1:today]
    assert tl.cells[today + 1] == "future"                                # type: ignore[operator]
    assert sum(span for _, span in tl.months) == 53 and tl.months[0][0] == "Nov"
    assert [m.kind for m in tl.marks] == ["baseline", "warn", "expire", "event", "today"]


def test_weekly_evidence_sums_scores_per_week_and_leaves_denials_out() -> None:
    evs = events(STRONG, DENIED)
    verdict = evaluate(CFG, evs, NOW)
    spark = build_spark(verdict, evs, scale=10.0)
    week = week_of(verdict, at("2026-02-10"))
    strong = next(e for e in evs if e.indicator == "new_signatory" and len(e.items) == 2)
    assert spark.totals[week] == strong.score                             # type: ignore[index]
    assert spark.totals[week_of(verdict, at("2026-01-20"))] == 0          # type: ignore[index]
    assert sum(1 for h in spark.heights if h) == 1
    assert spark.future[-1] and not spark.future[0]


def test_uptime_counts_only_time_covered_by_runs_since_the_last_digest() -> None:
    since = at("2026-03-02T00:00")
    runs = [ServiceRun(at("2026-02-20T00:00"), at("2026-03-04T00:00")),  # until Wednesday, killed
            ServiceRun(at("2026-03-05T00:00"), at("2026-03-09T00:00"))]  # restarted Thursday
    up = uptime(runs, since, at("2026-03-09T00:00"))
    assert up is not None and up.starts == 1
    assert up.seconds_up == timedelta(days=6).total_seconds()
    assert round(up.percent) == 86


def test_digest_text_is_complete_on_its_own() -> None:
    evs = events(STRONG, DENIED)
    verdict = evaluate(CFG, evs, NOW)
    history = History(transitions=[Transition(1, "WATCHING", None, at("2026-01-01"), ""),
                                   Transition(2, "FOLLOW-UP", "WATCHING", at("2026-03-09"), "")],
                      runs=[ServiceRun(at("2026-03-02T07:00"), NOW)],
                      issues=[IngestIssue("wire", at("2026-03-05"),
                                          "XML parse error line 3: mismatched tag")],
                      undelivered=[Undelivered("digest", "2026-W10", "a@example.org",
                                               "550 mailbox unavailable", 1)],
                      silences=[Silence("domestic_backlash", at("2026-04-01"), "protest season")])
    report = build_digest(CFG, evs, verdict, [], period="2026-W11", now=NOW,
                          since=at("2026-03-02T01:00"), history=history)
    _subject, text, html = render_digest(report, CFG)
    for heading in ("THIS WEEK", "TIMELINE", "BALANCE OF EVIDENCE", "INDICATORS",
                    "NEW EVENTS", "SILENCED ALERTS", "HEALTH"):
        assert heading in text
    assert "0 new, 0 counting, 0 to review, 1 state change" in text
    assert "Criterion changed WATCHING → FOLLOW-UP on 09 Mar 2026." in text
    assert "XML parse error line 3" in text and "550 mailbox unavailable" in text
    assert "domestic_backlash until 2026-04-01 00:00 UTC: protest season" in text
    assert "Service up 7 d 23 h of the 8 d 5 h since the last digest (97.0%), 1 start(s)" in text
    strip = text.split("TIMELINE")[1].splitlines()[1]
    assert strip.startswith("[B") and strip.endswith("X]") and "*" in strip and "T" in strip
    assert "6" in strip and len(strip) == 55
    assert "█" not in text                     # the weekly bars are the full report's
    assert '<td class="cell c-event">' in html and ".c-event { background: #1f8a4c; }" in html
    assert "Silenced alerts" in html and "protest season" in html


def test_long_lists_are_cut_and_point_at_the_full_report(feed_server: Any, state_env: Path,
                                                          tmp_path: Path) -> None:
    serve_fixtures(feed_server)
    ctx = context(write_config(tmp_path, feed_server))
    ctx.config = ctx.config.model_copy(update={"digest": ctx.config.digest.model_copy(
        update={"max_events": 1})})
    asyncio.run(poll(ctx))
    assert prepare_digest(ctx) == 1
    (msg,) = ctx.store.messages()
    full = state_env / "reports" / "digest-2026-W11.html"
    raw = msg.raw.decode().replace("=\r\n", "")
    assert "and 3 more" in raw and str(full) in raw
    report = full.read_text(encoding="utf-8")
    assert "Azerbaijan joins the Abraham Accords at White House ceremony" in report
    assert "Indonesia says it will not join" in report and "more:" not in report
    assert report.count('class="sp-bar"') > 0 and 'class="sp-bar"' not in raw   # bars: report only


def test_with_a_report_url_the_cut_list_links_to_the_full_report(
        feed_server: Any, state_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    serve_fixtures(feed_server)
    monkeypatch.setenv("WATCHER_REPORT_URL", "https://intranet.example.org/watcher/")
    ctx = context(write_config(tmp_path, feed_server))
    ctx.config = ctx.config.model_copy(update={"digest": ctx.config.digest.model_copy(
        update={"max_events": 1})})
    asyncio.run(poll(ctx))
    prepare_digest(ctx)
    (msg,) = ctx.store.messages()
    raw = msg.raw.decode().replace("=\r\n", "").replace("=3D", "=")
    assert (
        'href="https://intranet.example.org/watcher/digest-2026-W11.html#events"' in raw
    )


def test_an_event_never_hides_the_six_month_mark_and_today_off_the_strip_is_said() -> None:
    on_mark = (item(1, "Azerbaijan joins the Abraham Accords", "2026-05-07",
                    "https://reuters.com/a", "wire")
               + item(2, "Azerbaijan formally joins Abraham Accords", "2026-05-07",
                      "https://apnews.com/b"))
    evs = events(on_mark)
    late = at("2026-11-30")
    verdict = evaluate(CFG, evs, late)
    tl = build_timeline(verdict, evs)
    assert tl.cells[week_of(verdict, verdict.warn_at)] == "warn"          # type: ignore[index]
    assert "today" not in tl.cells
    (today,) = [m for m in tl.marks if m.kind == "today"]
    assert today.label.endswith("(after the 12-month mark, past the strip's end)")
    report = build_digest(CFG, evs, verdict, [], period="2026-W49", now=late, since=None)
    _, _, html = render_digest(report, CFG)
    legend = html.split('<ul class="legend">')[-1].split("</ul>")[0]
    assert '<span class="key c-today">' not in legend and "day 389" in legend


def test_uptime_is_no_percentage_of_a_few_minutes() -> None:
    from watcher.report.render import uptime_line
    up = uptime([ServiceRun(at("2026-03-10T05:58"), at("2026-03-10T05:58"))],
                at("2026-03-10T05:58"), NOW)
    line = uptime_line(up, at("2026-03-10T05:58"))
    assert "%" not in line and "too soon for an uptime figure" in line and "2 min" in line


def test_preview_full_after_the_weeks_digest_lists_that_week(
        feed_server: Any, state_env: Path, tmp_path: Path) -> None:
    from watcher.cli import _preview_since
    from watcher.service import digest_report
    serve_fixtures(feed_server)
    ctx = context(write_config(tmp_path, feed_server))
    asyncio.run(poll(ctx))
    assert prepare_digest(ctx) == 1
    now = ctx.clock()
    assert _preview_since(ctx, now, full=False) == ctx.store.last_digest_at()   # nothing new
    since = _preview_since(ctx, now, full=True)                                 # the week sent
    report = digest_report(ctx, now, "2026-W11", since, full=True)
    _, _, html = render_digest(report, ctx.config)
    assert report.new_total > 0 and "No new events" not in html
    assert "Azerbaijan joins the Abraham Accords at White House ceremony" in html
