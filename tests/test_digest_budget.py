"""The digest read whole in every mail client (issue 14): under Gmail's clip at 0, 31 and 200
new happenings, one entry per happening, counts that agree with the lists, 'counts' only where
the criterion's rule says so, and an envelope that says the week at a glance."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import at
from tests.digestweeks import NOW, config, generated_events, generated_week
from tests.test_criterion import CFG, events, item
from tests.test_pipeline import context, received, serve_fixtures, write_config
from watcher.config.models import AlertRule
from watcher.judge.criterion import counts, evaluate
from watcher.report.alerts import select_alerts
from watcher.report.digest import build_digest
from watcher.report.render import render_alert, render_digest
from watcher.service import run_once

HTML_BUDGET = 90_000       # Gmail clips an HTML part over 102 KB behind "View entire message"
TEXT_BUDGET = 30_000


@pytest.mark.parametrize("n", [0, 31, 200])
def test_the_email_stays_under_the_clip_at_0_31_and_200_events(n: int) -> None:
    report, _ = generated_week(n)
    subject, text, html = render_digest(report, config())
    assert report.new_total == n
    assert len(html.encode("utf-8")) <= HTML_BUDGET
    assert len(text.encode("utf-8")) <= TEXT_BUDGET
    # the events and the health section are in the part a client shows, not clipped away
    assert "Health" in html and ("No new events" in html if n == 0 else 'class="ev"' in html)
    assert len(subject) < 80 and subject.startswith("[watcher] 2026-W49 · ")
    assert f"· {n} new, {report.week.counting if report.week else 0} counting" in subject


def test_the_weekly_bars_are_only_in_the_full_report() -> None:
    email, _ = generated_week(31)
    full, _ = generated_week(31, full=True)
    _, text, html = render_digest(email, config())
    _, full_text, full_html = render_digest(full, config())
    assert 'class="sp-bar"' not in html and "▁" not in text and "█" not in text
    assert 'class="sp-bar"' in full_html
    assert "|" in full_text.split("INDICATORS")[1]


def _table(html: str) -> dict[str, tuple[int, int]]:
    """The indicator table as {indicator: (new, total)}."""
    rows = re.findall(r'<span class="meta">([a-z0-9_]+) · [^<]*?(?:<em>[^<]*</em>)?</span></td>'
                      r'<td class="n">(\d+)</td><td class="n">(\d+)</td>', html)
    return {ind: (int(new), int(total)) for ind, new, total in rows}


def _listed(html: str) -> list[list[str]]:
    """The indicators of each entry of the events list, in order."""
    events = html.split('id="events"')[1].split('id="balance"')[0]
    metas = [re.findall(r'<div class="meta">(.*?)</div>', block, re.DOTALL)
             for block in events.split('<div class="ev">')[1:]]
    return [m[1].split(" · why:")[0].split(" · ") for m in metas]


def test_the_tables_counts_equal_the_lists_counts() -> None:
    report, _ = generated_week(200, full=True)
    _, _, html = render_digest(report, config())
    table, listed = _table(html), _listed(html)
    assert len(table) == len(config().indicators) and len(listed) == 200
    for indicator, (new, total) in table.items():
        assert new == sum(indicator in entry for entry in listed), indicator
        assert total >= new
    # the email lists the first of them and says how many more, with the same table
    email, _ = generated_week(200)
    _, _, cut = render_digest(email, config())
    assert _table(cut) == table
    assert _listed(cut) == listed[:config().digest.max_events]
    assert f"… and {200 - config().digest.max_events} more" in cut


def test_a_happening_several_indicators_matched_is_listed_once_with_all_of_them() -> None:
    evs = generated_events(31)
    shared = [e for e in evs if sum(1 for o in evs if o.items[0].item_id == e.items[0].item_id) > 1]
    assert shared, "the demo headlines include one two indicators match"
    report, _ = generated_week(31, full=True)
    _, text, html = render_digest(report, config())
    title = shared[0].lead.title
    assert html.count(f">{title}</a>") == 1 and text.count(f"* {title}") == 1
    entry = next(e for e in report.events if e.title == title)
    assert set(entry.indicators) == {e.indicator for e in shared
                                     if e.items[0].item_id == shared[0].items[0].item_id}


def test_entries_carry_a_snippet_a_language_mark_and_strength_in_words() -> None:
    report, _ = generated_week(200, full=True)
    assert {e.strength for e in report.events} <= {"strong", "moderate", "weak"}
    assert any(e.snippet for e in report.events)
    assert {e.lang for e in report.events if e.lang} >= {"ru"}
    _, text, html = render_digest(report, config())
    ru = next(e for e in report.events if e.lang == "ru")
    assert f"{ru.title} [RU]" in text and '<span class="lang" title="original language">RU' in html
    assert f'<span title="score {ru.score}">{ru.strength}</span>' in html


def test_on_equal_scores_the_newest_is_listed_first() -> None:
    older = events(item(1, "Azerbaijan joins the Abraham Accords", "2026-02-10",
                        "https://reuters.com/a"))
    newer = events(item(2, "Azerbaijan joins the Abraham Accords", "2026-02-20",
                        "https://apnews.com/b"))
    evs = older + newer
    assert len(evs) == 2 and evs[0].score == evs[1].score
    now = at("2026-03-01")
    report = build_digest(CFG, evs, evaluate(CFG, evs, now), [], period="2026-W09", now=now,
                          since=None)
    assert [e.first_seen for e in report.events] == [at("2026-02-20"), at("2026-02-10")]


def test_no_event_outside_the_window_is_marked_as_counting_in_digest_or_alert() -> None:
    late = (item(1, "Azerbaijan joins the Abraham Accords", "2026-11-20", "https://reuters.com/a",
                 "wire")
            + item(2, "Azerbaijan formally joins Abraham Accords", "2026-11-21",
                   "https://apnews.com/b"))
    evs = events(late)
    now = at("2026-11-22")
    verdict = evaluate(CFG, evs, now)
    assert verdict.state.value == "HIGH-WATER" and not counts(evs[0], CFG)
    report = build_digest(CFG, evs, verdict, [], period="2026-W47", now=now, since=None)
    (entry,) = report.events
    assert not entry.counts and entry.status == "does not count: outside the window"
    _, text, html = render_digest(report, CFG)
    assert "COUNTS" not in text and "COUNTS" not in html
    alerting = CFG.model_copy(update={"indicators": [
        i.model_copy(update={"alert": AlertRule(sources=2)}) if i.id == "new_signatory" else i
        for i in CFG.indicators]})
    alert = select_alerts(alerting, evs, verdict, [], {}, set(), now)
    subject, alert_text, _ = render_alert(alert, alerting)
    assert alert.lines and "Azerbaijan" in subject and "COUNTS" not in alert_text
    assert "does not count: outside the window" in alert_text
    # and over a generated year: every entry the digest marks as counting lies in the window
    report, verdict = generated_week(200, full=True)
    expire = verdict.expire_at.date()
    for j in verdict.judged:
        if j.counts:
            assert verdict.baseline.date() <= j.happened < expire
    assert all(not e.counts for e in report.events if e.first_seen.date() >= expire)


def test_the_preheader_is_hidden_and_carries_each_tracks_verdict() -> None:
    report, _ = generated_week(31)
    _, _, html = render_digest(report, config())
    body = html.split("<body>", 1)[1]
    pre = re.match(r'\s*<div class="preheader" style="display:none;[^"]*">([^<]*)</div>', body)
    assert pre is not None
    assert "deals: HIGH-WATER" in pre.group(1) and "this week 31 new" in pre.group(1)


def test_from_has_a_configurable_display_name_on_the_wire(
        feed_server: Any, smtp_server: Any, state_env: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    serve_fixtures(feed_server)
    monkeypatch.setenv("WATCHER_SMTP_URL", smtp_server.url)
    ctx = context(write_config(tmp_path, feed_server))
    ctx.config = ctx.config.model_copy(update={"digest": ctx.config.digest.model_copy(
        update={"sender_name": "Accords watch"})})
    run_once(ctx)
    (msg,) = received(smtp_server)
    assert msg["From"] == "Accords watch <watcher@example.org>"
    assert msg["From"].addresses[0].display_name == "Accords watch"
    assert re.fullmatch(r"<digest\.2026-W11\.[0-9a-f]{12}@example\.org>", msg["Message-ID"])


def test_the_generated_week_is_dated_as_the_demo_digest() -> None:
    assert NOW.isoformat().startswith("2026-11-30")
