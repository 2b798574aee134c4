"""End to end (issue 12): an invented 13-month archive (tests/fixtures/replay-archive) replayed
with --json gives the expected state of every track at several dates, each object in the
documented shape (docs/verdict.schema.json)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import ROOT
from watcher.cli import main

ARCHIVE = ROOT / "tests" / "fixtures" / "replay-archive"
SHIPPED = ROOT / "indicators.yaml"
SCHEMA = json.loads((ROOT / "docs" / "verdict.schema.json").read_text(encoding="utf-8"))
W, F, WARN, HW = "WATCHING", "FOLLOW-UP", "WARN", "HIGH-WATER"
ITEMS = sum(p.read_text(encoding="utf-8").count("<item>") for p in ARCHIVE.rglob("*.xml"))
EXPECTED = {            # tests/fixtures/replay-archive/README.md
    "2025-11-30": (W, W, W), "2026-02-28": (F, W, W), "2026-05-31": (F, WARN, F),
    "2026-06-30": (F, WARN, F), "2026-11-30": (F, HW, F), "2026-12-31": (F, HW, F)}


def replay_json(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[dict[str, dict], str]:
    dates = [a for d in EXPECTED for a in ("--as-of", d)]
    assert main(["replay", str(ARCHIVE), *dates, "--json", "--config", str(SHIPPED), *extra]) == 0
    out, err = capsys.readouterr()
    objects = [json.loads(line) for line in out.splitlines()]
    return {o["as_of"]: o for o in objects}, err


def test_replay_json_gives_each_tracks_state_at_each_date(
        state_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    verdicts, err = replay_json(capsys)
    assert list(verdicts) == list(EXPECTED)                     # one object per date, in order
    for day, obj in verdicts.items():
        jsonschema.validate(obj, SCHEMA, cls=jsonschema.Draft202012Validator)
        assert tuple(t["state"] for t in obj["tracks"]) == EXPECTED[day], day
        assert [t["id"] for t in obj["tracks"]] == ["deals", "signatories", "diplomacy"]
    deals = verdicts["2026-02-28"]["tracks"][0]
    assert deals["since"] == "2026-02-11"
    (water,) = deals["counting"]
    assert water["happened"] == "2026-02-10" and water["sources"] == 2 and water["reason"] is None
    assert {u.split("/")[2] for u in water["urls"]} == {"astanatimes.com", "www.timesofisrael.com"}
    later = verdicts["2026-11-30"]
    assert [(c["title"], c["reason"]) for c in later["candidates"]] == [
        (
            "Казахстан и Израиль подписали меморандум о кибербезопасности",
            "single source awaiting review",
        ),
        (
            "Kazakhstan welcomes the launch of the second phase of the Gaza peace plan",
            "a reaction, not the step (awaiting review)",
        ),
    ]
    # the court's ruling is a step; a way "cleared" for the vote and a promise that ratification
    # "will come in due time" are not the ratification (class 1 of the blind replay)
    assert later["formalization"]["stage"] == "constitutional_council"
    court = next(s for s in later["formalization"]["stages"] if s["id"] == "constitutional_council")
    assert court["reached"] == "2026-08-12" and len(court["evidence"]) == 1
    assert verdicts["2026-06-30"]["formalization"]["stage"] == "signed"
    assert verdicts["2026-05-31"]["formalization"]["stage"] == "signed"
    assert verdicts["2025-11-30"]["formalization"]["stage"] == "announced"
    # what was seen but does not count says why, in the documented order
    assert "regional-blog" in err and "2026-12-31 lies past the archive's last file" in err
    files = list(ARCHIVE.rglob("*.xml"))
    assert f"replayed {len(files)} file(s)" in err      # the summary is not mixed into the JSON


def test_nothing_but_real_follow_up_counts_in_the_archive(
        state_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Of the archive's classes (baseline occasion, a meeting dated in the grace period,
    op-ed, appeal, analysis, conditional offer, after the window; a visit, a rival draft, a
    joining "next week": classes 9-11 of the second blind replay; negotiating to join, a plan
    tabled, clashes around the Gaza force: classes 14-16 of the fourth), only the real
    follow-ups count."""
    verdicts, _ = replay_json(capsys)
    counting = [e["title"] for t in verdicts["2026-12-31"]["tracks"] for e in t["counting"]]
    assert counting == [
        "Israel, Kazakhstan sign water technology agreement in Astana",
        "Казахстан направил военных медиков в международные силы стабилизации в Газе",
        "Hamas begins weapons handover under Gaza peace plan",
    ]
    # one deployment reported once each in Russian, Chinese and Hebrew is one event, three sources
    medics = verdicts["2026-05-31"]["tracks"][2]["counting"][0]
    assert medics["sources"] == 3 and medics["happened"] == "2026-04-14"
    assert verdicts["2026-05-31"]["tracks"][2]["since"] == "2026-04-15"
