"""Alerts: a rule per indicator, corroboration by N sources, once per happening, grouped."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, at
from tests.test_criterion import events, item
from tests.test_pipeline import context, quiet_week, serve_fixtures, write_config
from watcher.config import parse_config
from watcher.deliver.outbox import message_id
from watcher.ingest.poll import poll
from watcher.judge.criterion import evaluate
from watcher.models import AlertMark, Transition
from watcher.report.alerts import select_alerts
from watcher.service import judge, prepare_alerts, run_once

NOW = at("2026-03-10T06:00")
RULES = {"new_signatory": {"sources": 2, "max_age": "60d"},
         "kz_israel_deal": {"sources": 1, "max_age": "60d"}}
ALERT_CFG = parse_config(yaml.safe_dump({**yaml.safe_load(
    (ROOT / "tests" / "fixtures" / "mini.yaml").read_text(encoding="utf-8")),
    "indicators": [{**i, **({"alert": RULES[i["id"]]} if i["id"] in RULES else {})}
                   for i in yaml.safe_load((ROOT / "tests" / "fixtures" / "mini.yaml")
                                           .read_text(encoding="utf-8"))["indicators"]]},
    allow_unicode=True))
WIRE = item(
    1, "Azerbaijan joins the Abraham Accords", "2026-03-08", "https://reuters.com/a", "wire"
)
SECOND = item(2, "Azerbaijan formally joins Abraham Accords", "2026-03-08", "https://apnews.com/b")
THIRD = item(3, "Azerbaijan joins Abraham Accords, officials say", "2026-03-09", "https://bbc.co.uk/c")


def alerts_for(evs: list[Any], alerted: dict[str, set[int]], silenced: set[str] = frozenset(),  # type: ignore[assignment]
               transitions: list[Any] | None = None) -> Any:
    return select_alerts(ALERT_CFG, evs, evaluate(ALERT_CFG, evs, NOW), transitions or [],
                         alerted, set(silenced), NOW)


def test_an_event_alerts_once_when_corroborated_and_never_again_as_it_grows() -> None:
    assert alerts_for(events(WIRE), {}).lines == []                       # one source: not yet
    first = alerts_for(events(WIRE, SECOND), {})
    (line,) = first.lines
    assert line.subject == "new_signatory" and line.refs == [1, 2]
    alerted = {"new_signatory": {mark.ref for mark in first.covered()}}
    assert alerts_for(events(WIRE, SECOND), alerted).lines == []
    assert alerts_for(events(WIRE, SECOND, THIRD), alerted).lines == []   # grew: same happening


def test_rules_follow_certainty_age_and_indicators_without_a_rule_never_alert() -> None:
    expected = item(4, "Uzbekistan reportedly in talks to join the Abraham Accords", "2026-03-08",
                    "https://reuters.com/d") + item(5, "Uzbekistan could join the Abraham Accords",
                                                    "2026-03-08", "https://apnews.com/e")
    old = item(6, "Kazakhstan and Israel sign water agreement", "2025-12-01", "https://x.kz/f")
    protest = (item(7, "Protesters rally in Almaty", "2026-03-08", "https://a.kz/g")
               + item(8, "Protesters rally in Almaty again", "2026-03-08", "https://b.kz/h"))
    assert alerts_for(events(expected, old, protest), {}).lines == []


def test_a_criterion_change_alerts_once_and_a_silence_sets_an_alert_aside() -> None:
    transitions = [
        Transition(1, "WATCHING", None, at("2025-11-07"), "first"),
        Transition(2, "FOLLOW-UP", "WATCHING", NOW, "FOLLOW-UP: measurable follow-up seen"),
    ]
    report = alerts_for(events(WIRE, SECOND), {}, transitions=transitions)
    assert [line.subject for line in report.lines] == ["new_signatory", "criterion"]
    assert report.lines[1].headline == "Criterion changed WATCHING → FOLLOW-UP on 10 Mar 2026"
    assert alerts_for([], {"criterion": {2}}, transitions=transitions).lines == []
    quiet = alerts_for(events(WIRE, SECOND), {}, silenced={"new_signatory"})
    assert quiet.lines == [] and [line.subject for line in quiet.silenced] == ["new_signatory"]
    assert AlertMark("new_signatory", 1, "silenced") in quiet.covered()


def alert_config(tmp: Path, server: Any) -> Path:
    base = tmp / "alerting.yaml"
    data = yaml.safe_load((ROOT / "tests" / "fixtures" / "mini.yaml").read_text(encoding="utf-8"))
    for ind in data["indicators"]:
        if ind["id"] in RULES:
            ind["alert"] = RULES[ind["id"]]
    base.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return write_config(tmp, server, base=base)


def test_one_grouped_alert_reaches_a_real_smtp_server_and_is_not_repeated(
        feed_server: Any, smtp_server: Any, state_env: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    serve_fixtures(feed_server)
    monkeypatch.setenv("WATCHER_SMTP_URL", smtp_server.url)
    config = alert_config(tmp_path, feed_server)
    ctx = context(config)
    quiet_week(ctx)
    judge(ctx)                                     # WATCHING before the news was polled
    run_once(ctx)
    kinds = {r.message["X-Watcher-Period"]: r.message for r in smtp_server.messages}
    assert len(smtp_server.messages) == 2          # one alert + the weekly digest
    (alert,) = [m for p, m in kinds.items() if p != "2026-W11"]
    assert alert["Auto-Submitted"] == "auto-generated"
    assert alert["List-Id"] == "watcher alerts <alert.example.org>"
    assert alert["Message-ID"] == message_id("alert", alert["X-Watcher-Period"],
                                             "analyst@example.org", "watcher@example.org")
    subject = alert["Subject"]
    # the subject and the first line are the happening, its sources and how many others
    assert len(subject) < 80 and subject.startswith("[watcher] ALERT: Kazakhstan and Israel sign")
    assert subject.endswith(" — 2 sources (+2 more)")
    text = alert.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert text.startswith("Kazakhstan and Israel sign water technology agreement in Astana — "
                           "2 sources\r\n")
    assert text.count("Criterion changed WATCHING → FOLLOW-UP") == 1          # said once
    assert "Why it matters: Another country joins the Abraham Accords (track " in text
    assert "Azerbaijan joins the Abraham Accords at White House ceremony" in text
    assert "3 independent sources (alert rule: at least 2): example.com, example.org, " \
        "example.ru" in text and "why: " in text
    assert "Kazakhstan and Israel sign water technology agreement" in text
    assert "Criterion changed WATCHING → FOLLOW-UP" in text
    assert "2026-03-10 11:00 Asia/Almaty" in text          # the digest's time zone
    assert "Domestic backlash" not in text and "Indonesia" not in text      # no rule / denied
    html = alert.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "<style>" in html and "Kazakhstan and Israel sign water" in html.split("<h1")[1]
    later = context(config, lambda: at("2026-03-10T07:00"))
    asyncio.run(poll(later))
    assert prepare_alerts(later) == 0
    run_once(context(config, lambda: at("2026-03-10T08:00")))
    assert len(smtp_server.messages) == 2


def test_a_silence_stops_alerts_not_the_digest_and_is_listed_there(
        feed_server: Any, smtp_server: Any, state_env: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from watcher.cli import main
    serve_fixtures(feed_server)
    monkeypatch.setenv("WATCHER_SMTP_URL", smtp_server.url)
    config = alert_config(tmp_path, feed_server)
    ctx = context(config)          # first: the feeds become due at the test's clock, not today's
    cli = ["--config", str(config)]
    assert main(["silence", "new_signatory", "--until", "2099-01-01", "--reason",
                 "Azerbaijan story already briefed", *cli]) == 0
    assert main(["silence", "no_such_thing", "--until", "2099-01-01", "--reason", "x", *cli]) == 1
    assert main(["silence", "kz_israel_deal", "--until", "2001-01-01", "--reason", "x", *cli]) == 1
    assert main(["silence", "kz_israel_deal", "--until", "2099-01-01", *cli]) == 1   # no reason
    capsys.readouterr()
    assert main(["silence", "--list", *cli]) == 0
    listed = capsys.readouterr().out
    assert "new_signatory" in listed and "2099-01-01 00:00 UTC (active" in listed
    assert "kz_israel_deal" not in listed
    run_once(ctx)
    by_period = {r.message["X-Watcher-Period"]: r.message for r in smtp_server.messages}
    digest = by_period.pop("2026-W11")
    (alert,) = by_period.values()
    assert "Kazakhstan and Israel sign water" in alert["Subject"]
    assert "Another country joins" not in alert.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    text = digest.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "SILENCED ALERTS" in text and "Azerbaijan story already briefed" in text
    assert "Azerbaijan joins the Abraham Accords at White House ceremony" in text   # still reported
    assert "alerts silenced until 01 Jan 2099" in text
    assert main(["unsilence", "new_signatory", *cli]) == 0
    assert main(["unsilence", "new_signatory", *cli]) == 1
    run_once(context(config, lambda: at("2026-03-10T09:00")))
    assert len(smtp_server.messages) == 2            # the silenced happening stays quiet after


def test_the_running_service_alerts_right_after_a_poll_and_records_its_run(
        feed_server: Any, tmp_path: Path) -> None:
    import socket
    import sqlite3

    from tests.test_service import start, stop, wait_for
    serve_fixtures(feed_server)
    config = alert_config(tmp_path, feed_server)
    # the service runs on today's clock: let the fixtures' weeks-old happenings still alert
    config.write_text(config.read_text(encoding="utf-8").replace("max_age: 60d", "max_age: 3650d"),
                      encoding="utf-8")
    state = tmp_path / "state"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        notify.bind(str(tmp_path / "notify.sock"))
        proc = start(config, state, notify, tmp_path)
        try:
            assert wait_for(lambda: len(list((state / "outbox").glob("alert.*.eml"))) == 1, 30)
        finally:
            code, err = stop(proc)
    assert code == 0, err
    with sqlite3.connect(state / "watcher.db") as db:
        ((mode, started, seen),) = db.execute(
            "SELECT mode, started_at, last_seen_at FROM service_run"
        )
    assert mode == "run" and seen >= started


def test_a_dismissed_event_never_alerts_however_it_grows() -> None:
    """An analyst's dismissal is on the reports: the grown event carries it and stays quiet."""
    from watcher.models import Decision
    evs = events(WIRE, SECOND)
    no = Decision(1, frozenset({1, 2}), "dismiss", "alice", NOW, "an appeal, nobody joined")
    quiet = select_alerts(ALERT_CFG, evs, evaluate(ALERT_CFG, evs, NOW, decisions=(no,)), [], {},
                          set(), NOW)
    assert quiet.lines == [] and quiet.silenced == []
    grown = events(WIRE, SECOND, THIRD)
    assert select_alerts(ALERT_CFG, grown, evaluate(ALERT_CFG, grown, NOW, decisions=(no,)), [],
                         {}, set(), NOW).lines == []
    assert len(alerts_for(grown, {}).lines) == 1                  # without the dismissal it would


def test_an_op_ed_never_corroborates_an_alert() -> None:
    oped = item(9, "Opinion: Azerbaijan joins the Abraham Accords, and it matters",
                "2026-03-08", "https://thehill.com/opinion/x")
    assert alerts_for(events(WIRE, oped), {}).lines == []        # one news source + an op-ed
