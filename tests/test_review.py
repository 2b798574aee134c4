"""The analyst's call from the command line (issue 12): review, confirm, dismiss, undo; the
decision kept on the event's reports through rematch and the event's growth; --db and --as-of
on status, explain, review and digest --preview, on a replay's database."""

from __future__ import annotations

import json
import re
import shutil
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.conftest import ON_POSTGRES, ROOT
from tests.test_replay_json import ITEMS
from watcher.cli import main

ARCHIVE = ROOT / "tests" / "fixtures" / "replay-archive"
SHIPPED = str(ROOT / "indicators.yaml")
SECOND_REPORT = Path("times-of-israel") / "2026-02-11.xml"     # the water deal's second source


def run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code = main([*args, "--config", SHIPPED])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def deals(capsys: pytest.CaptureFixture[str], *db: str) -> dict[str, object]:
    status = json.loads(run(capsys, "status", "--json", "--as-of", "2026-03-31", *db))
    return status["tracks"][0]  # type: ignore[no-any-return]


def test_confirm_and_dismiss_survive_rematch_and_the_events_growth(
        tmp_path: Path, state_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = tmp_path / "archive"
    shutil.copytree(ARCHIVE, archive)
    (archive / SECOND_REPORT).unlink()                    # the deal has one source so far
    run(capsys, "replay", str(archive), "--as-of", "2026-03-31", "--into-live")
    review = run(capsys, "review", "--as-of", "2026-03-31")
    line = next(x for x in review.splitlines() if "water technology cooperation" in x)
    assert "candidate" in line
    event = re.search(r"E\d+", line).group(0)  # type: ignore[union-attr]
    assert deals(capsys)["state"] == "WATCHING"

    said = run(capsys, "confirm", event, "--note", "MFA release of 10 Feb", "--by", "alice")
    assert said.startswith(f"{event} (kz_israel_deal; 1 report(s)): confirmed by alice on ")
    track = deals(capsys)
    assert track["state"] == "FOLLOW-UP" and track["counting"][0]["event"] == event
    assert track["counting"][0]["decision"]["note"] == "MFA release of 10 Feb"

    run(capsys, "rematch")                                 # matches replaced: still confirmed
    assert deals(capsys)["state"] == "FOLLOW-UP"

    shutil.copy(ARCHIVE / SECOND_REPORT, archive / SECOND_REPORT)   # a second outlet reports it
    run(capsys, "replay", str(archive), "--as-of", "2026-03-31", "--into-live")
    grown = deals(capsys)["counting"][0]
    assert grown["event"] == event and len(grown["urls"]) == 2     # the same id, grown
    assert grown["decision"]["by"] == "alice"

    run(capsys, "dismiss", event, "--reason", "a renewal of the 2019 memorandum", "--by", "bob")
    track = deals(capsys)
    assert track["state"] == "WATCHING" and track["counting"] == []
    status = json.loads(run(capsys, "status", "--json", "--as-of", "2026-03-31"))
    assert [d["action"] for d in status["decisions"]] == ["confirm", "dismiss"]
    url = grown["urls"][1]
    assert "dismissed by bob" in run(capsys, "explain", url)
    text = run(capsys, "status", "--as-of", "2026-03-31")
    assert "dismissed by bob on " in text and "a renewal of the 2019 memorandum" in text

    undone = run(capsys, "undo", event)
    assert undone.startswith(f"undone: {event} ") and "(undone " in undone
    assert deals(capsys)["state"] == "FOLLOW-UP"           # two sources now: it counts anyway


def test_an_unknown_event_and_a_dismissal_without_reason_are_one_line_errors(
        tmp_path: Path, state_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "replay", str(ARCHIVE), "--as-of", "2026-03-31", "--into-live")
    assert main(["confirm", "E999999", "--config", SHIPPED]) == 1
    assert "no event E999999" in capsys.readouterr().err
    assert main(["undo", "E999999", "--config", SHIPPED]) == 1
    capsys.readouterr()
    with pytest.raises(SystemExit):                        # --reason is required (usage, exit 2)
        main(["dismiss", "E1", "--config", SHIPPED])


def test_db_and_as_of_work_on_a_replay_database(
        tmp_path: Path, state_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "replay.db"
    run(capsys, "replay", str(ARCHIVE), "--as-of", "2026-06-30", "--db", str(db))
    status = json.loads(run(capsys, "status", "--json", "--db", str(db), "--as-of", "2026-06-30"))
    assert [t["state"] for t in status["tracks"]] == ["FOLLOW-UP", "WARN", "FOLLOW-UP"]
    assert status["as_of"] == "2026-06-30" and status["items"] == ITEMS
    earlier = json.loads(run(capsys, "status", "--json", "--db", str(db), "--as-of", "2026-01-31"))
    assert [t["state"] for t in earlier["tracks"]] == ["WATCHING"] * 3
    review = run(capsys, "review", "--db", str(db), "--as-of", "2026-06-30")
    assert "Hamas begins weapons handover" in review
    # each candidate says why it waits: one source, or only a reaction to the step
    assert "· single source awaiting review ·" in review
    assert "welcomes the launch of the second phase" in review
    assert "· a reaction, not the step (awaiting review) ·" in review
    water = "https://astanatimes.com/2026/02/10/kazakhstan-and-israel-sign-agreement-on"
    assert "counts for deals" in run(capsys, "explain", water, "--db", str(db))
    preview = tmp_path / "digest.html"
    run(capsys, "digest", "--preview", str(preview), "--db", str(db), "--as-of", "2026-06-30")
    html = preview.read_text(encoding="utf-8")
    assert "<strong>deals</strong>: <span dir=\"auto\">follow-up since 11 Feb 2026" in html
    assert "not yet cleared by" not in html
    assert ON_POSTGRES or not (state_env / "watcher.db").exists()   # the live one untouched


def test_each_tracks_change_is_stored_once_and_alerts_once(
        tmp_path: Path, state_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Winter's archive, judged; then spring's files arrive and the deals track turns: that
    change (and the accession's signing) is stored once and alerted once."""
    from tests.conftest import at
    from tests.test_pipeline import context
    from watcher.service import judge, prepare_alerts
    winter = tmp_path / "winter"
    shutil.copytree(ARCHIVE, winter, ignore=lambda _d, names: [
        n for n in names if n.endswith(".xml") and n[:7] > "2026-01"])
    run(capsys, "replay", str(winter), "--as-of", "2026-01-31", "--into-live")
    ctx = context(Path(SHIPPED), clock=lambda: at("2026-05-10"))
    try:
        judge(ctx, at("2026-01-31"))
        assert {t.track: t.state for t in ctx.store.transitions()} == {
            None: "WATCHING", "deals": "WATCHING", "signatories": "WATCHING",
            "diplomacy": "WATCHING", "formalization": "announced"}
        run(capsys, "replay", str(ARCHIVE), "--as-of", "2026-05-10", "--into-live")
        for _ in range(2):
            judge(ctx, at("2026-05-10"))
        changed = [(t.track, t.previous, t.state) for t in ctx.store.transitions() if t.previous]
        assert changed == [
            (None, "WATCHING", "FOLLOW-UP"),
            ("deals", "WATCHING", "FOLLOW-UP"),
            ("signatories", "WATCHING", "WARN"),
            ("diplomacy", "WATCHING", "FOLLOW-UP"),
            ("formalization", "announced", "signed"),
        ]
        assert prepare_alerts(ctx, at("2026-05-10")) == 1      # counted right on PostgreSQL too
        assert prepare_alerts(ctx, at("2026-05-10T01:00")) == 0          # alerts once
        (alert,) = [m for m in ctx.store.messages() if m.kind == "alert"]
        mail = message_from_bytes(alert.raw, _class=EmailMessage, policy=policy.SMTP)
        text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert "Track deals changed WATCHING → FOLLOW-UP on 10 May 2026" in text
        assert "Track diplomacy changed WATCHING → FOLLOW-UP on 10 May 2026" in text
        assert "Accession changed announced → signed" in text
    finally:
        ctx.store.close()
