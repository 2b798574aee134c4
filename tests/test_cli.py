"""The CLI contract (DESIGN §8): commands, JSON-lines `score`, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.test_pipeline import serve_fixtures, write_config
from watcher.cli import main

MINI = ROOT / "tests" / "fixtures" / "mini.yaml"


def score(lines: list[str], config: Path = MINI) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "watcher", "score", "--config", str(config)],
                          input="\n".join(lines) + "\n", capture_output=True, text=True, timeout=60,
                          check=False)


def test_score_follows_the_json_lines_contract() -> None:
    items = [{"id": "a", "title": "Azerbaijan joins the Abraham Accords", "summary": "",
              "url": "https://x.org/a", "published": "2026-02-10", "lang": "en"},
             {"id": "b", "title": "Indonesia says it will not join the Abraham Accords"},
             {"id": "c", "title": "Wheat exports rise"}]
    proc = score([json.dumps(i) for i in items])
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a", "b", "c"]
    (a,) = out[0]["matches"]
    assert set(a) == {"indicator", "score", "certainty", "evidence"}
    assert a["indicator"] == "new_signatory" and a["certainty"] == "confirmed" and a["score"] > 0
    assert {"term": "Azerbaijan", "field": "title"} in a["evidence"]
    assert out[1]["matches"][0]["certainty"] == "denied"
    assert out[1]["matches"][0]["score"] < a["score"]          # a denial weighs less
    assert out[2]["matches"] == []


def test_score_with_the_shipped_rules_marks_denials_and_ignores_the_baseline() -> None:
    items = [
        {"id": "deny", "title": "Indonesia says it will not join the Abraham Accords"},
        {"id": "deny-ru", "title": "Азербайджан не планирует присоединяться к Соглашениям Авраама"},
        {
            "id": "base",
            "title": "Kazakhstan to join Abraham Accords, Trump says",
            "summary": "Trump said a signing ceremony would be held soon.",
        },
        {"id": "base-ru", "title": "Казахстан присоединится к Соглашениям Авраама"},
        {"id": "join", "title": "Azerbaijan formally joins the Abraham Accords"},
    ]
    proc = score([json.dumps(i) for i in items], ROOT / "indicators.yaml")
    assert proc.returncode == 0, proc.stderr
    out = {o["id"]: o["matches"] for o in map(json.loads, proc.stdout.splitlines())}
    for denial in ("deny", "deny-ru"):
        assert out[denial] and {m["certainty"] for m in out[denial]} == {"denied"}
    assert out["base"] == [] and out["base-ru"] == []          # the baseline is not follow-up
    assert ("new_signatory", "confirmed") in [(m["indicator"], m["certainty"]) for m in out["join"]]


def test_score_reports_a_bad_line_and_scores_the_rest() -> None:
    proc = score(['{"id": "a", "title": "Azerbaijan joins the Abraham Accords"}', "not json",
                  '["a list"]', '{"id": "d", "title": "Protest in Almaty"}'])
    assert proc.returncode == 1
    assert [json.loads(x)["id"] for x in proc.stdout.splitlines()] == ["a", "d"]
    assert "stdin line 2" in proc.stderr and "stdin line 3" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_eval_prints_per_indicator_figures_confusions_and_mistakes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    labeled = tmp_path / "dev.jsonl"
    rows = [("1", "Azerbaijan joins the Abraham Accords", ["new_signatory"]),
            ("2", "Kazakhstan and Israel sign water agreement", ["kz_israel_deal"]),
            ("3", "Uzbekistan weighs its options", ["new_signatory"]),
            ("4", "Protest in Almaty over Abraham Accords with Azerbaijan", ["none"]),
            ("5", "Indonesia says it will not join the Abraham Accords", ["new_signatory"])]
    labeled.write_text(
        "\n".join(json.dumps({"id": i, "title": t, "labels": lab}) for i, t, lab in rows)
    )
    assert main(["eval", str(labeled), "--config", str(MINI)]) == 0
    out = capsys.readouterr().out
    assert "new_signatory" in out and "micro" in out
    (line,) = [x for x in out.splitlines() if x.startswith("new_signatory")]
    assert line.split()[1:7] == [
        "0.50",
        "0.33",
        "0.40",
        "1",
        "1",
        "2",
    ]  # FP item 4, FN items 3 and 5
    assert "false-positive rate on 'none' items: 100.0% (1/1)" in out
    confusions = out.split("confusions (labeled → predicted")[1].split("mistakes:")[0]
    assert "none → new_signatory: 1" in confusions and "new_signatory → none: 2" in confusions
    assert "FN new_signatory              3: Uzbekistan weighs" in out
    assert (
        "closest rule 1: all: group 1 has no hit; hits: “Uzbekistan” in title" in out
    )  # what to fix
    assert "FP new_signatory              4: Protest in Almaty" in out
    assert "evidence: “Abraham Accords” in title" in out
    assert (
        "denied, so no hit — evidence: “Abraham Accords” in title, “Indonesia” in title; "
        "denied (will not join)"
        in out
    )


def test_eval_without_mistakes_still_prints_the_confusion_table(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    labeled = tmp_path / "dev.jsonl"
    labeled.write_text(json.dumps({"id": "1", "title": "Azerbaijan joins the Abraham Accords",
                                   "labels": ["new_signatory"]}))
    assert main(["eval", str(labeled), "--config", str(MINI)]) == 0
    out = capsys.readouterr().out
    assert "confusions (labeled → predicted, 'none' = no indicator):\n  (none)" in out
    assert "mistakes:" not in out


def test_eval_titles_only_blanks_summaries_and_breaks_figures_down_by_language(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    labeled = tmp_path / "dev.jsonl"
    rows = [
        ("1", "Azerbaijan joins the Abraham Accords", "", "en", ["new_signatory"]),
        (
            "2",
            "Big news from Baku",
            "Azerbaijan joins the Abraham Accords.",
            "en",
            ["new_signatory"],
        ),
        ("3", "Узбекистан присоединился к Соглашениям Авраама", "", "ru", ["new_signatory"]),
        ("4", "Protest in Almaty over Abraham Accords with Azerbaijan", "", "kk", ["none"]),
    ]
    labeled.write_text(
        "\n".join(
            json.dumps({"id": i, "title": t, "summary": s, "lang": lang, "labels": lab})
            for i, t, s, lang, lab in rows
        )
    )
    assert main(["eval", str(labeled), "--config", str(MINI)]) == 0
    full = capsys.readouterr().out
    assert main(["eval", str(labeled), "--titles-only", "--config", str(MINI)]) == 0
    titles = capsys.readouterr().out
    assert "new_signatory                 0.75  1.00" in full        # item 2 matches by its summary
    assert "new_signatory                 0.67  0.67" in titles      # … and not on its title alone
    assert "(titles only: every summary blanked)" in titles and "titles only" not in full
    assert "FN new_signatory              2: Big news from Baku" in titles
    table = titles.split("per language:")[1].split("confusions")[0]
    rows_by_lang = {line.split()[0]: line.split()[1:] for line in table.strip().splitlines()[1:]}
    assert rows_by_lang["en"] == ["1.00", "0.50", "0.67", "1", "0", "1", "0/0"]
    assert rows_by_lang["ru"] == ["1.00", "1.00", "1.00", "1", "0", "0", "0/0"]
    assert rows_by_lang["kk"] == [
        "0.00",
        "1.00",
        "0.00",
        "0",
        "2",
        "0",
        "1/1",
    ]  # 2 indicators, 1 item


def test_eval_measures_every_set_with_summaries_and_titles_only(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Several labelled sets and --both: one line of figures per set and form, and each set's
    languages (issue 13: every set measured twice)."""
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    first.write_text("\n".join(json.dumps(d) for d in [
        {"id": "1", "title": "Big news from Baku", "summary": "Azerbaijan joins the Abraham "
         "Accords.", "lang": "en", "labels": ["new_signatory"]},
        {"id": "2", "title": "Azerbaijan joins the Abraham Accords", "lang": "en",
         "labels": ["new_signatory"]}]))
    second.write_text(json.dumps({"id": "3", "title": "Узбекистан присоединился к Соглашениям "
                                  "Авраама", "lang": "ru", "labels": ["none"]}))
    assert main(["eval", str(first), str(second), "--both", "--config", str(MINI)]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert rows[0] == ["set", "form", "P", "R", "F1", "FP", "on", "'none'"]
    figures = [r for r in rows[1:] if r[0] != "by"]
    assert figures == [["first", "full", "1.00", "1.00", "1.00", "0/0"],
                       ["first", "titles", "1.00", "0.50", "0.67", "0/0"],
                       ["second", "full", "0.00", "1.00", "0.00", "1/1"],
                       ["second", "titles", "0.00", "1.00", "0.00", "1/1"]]
    by_language = [" ".join(r) for r in rows[1:] if r[0] == "by"]
    assert by_language[1] == "by language (P/R): en 1.00/0.50"
    assert by_language[2] == "by language (P/R): ru 0.00/1.00"
    with pytest.raises(SystemExit):
        main(["eval", str(first), "--both", "--titles-only", "--config", str(MINI)])


def test_eval_bad_file_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "1", "title": "x", "labels": []}\n{oops\n')
    assert main(["eval", str(bad), "--config", str(MINI)]) == 1
    assert f"{bad}:2: not a labeled item" in capsys.readouterr().err


def test_status_explain_and_preview_after_a_poll(feed_server: Any, state_env: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    serve_fixtures(feed_server)
    config = str(write_config(tmp_path, feed_server))
    assert main(["poll", "--config", config]) == 0
    assert "polled 3 feed(s)" in capsys.readouterr().out
    assert main(["status", "--json", "--config", config]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["state"] == "FOLLOW-UP" and status["items"] == 9
    # the English wire story and the Russian regional one a day later are one happening
    assert status["indicators"]["kz_israel_deal"]["total"] == 1
    assert {f["id"] for f in status["feeds"]} == {"wire", "regional", "gazette"}
    assert status["balance"]["stall"]["denials"] == 1
    assert status["balance"]["momentum"]["strongest"][0]["certainty"] == "confirmed"
    assert main(["status", "--config", config]) == 0
    text = capsys.readouterr().out
    assert text.startswith("FOLLOW-UP") and "\ncoverage: " in text
    assert "balance of evidence since the baseline: " in text
    assert re.search(
        r"^  momentum .* confirmed +kz_israel_deal: Kazakhstan and Israel sign water",
        text,
        re.MULTILINE,
    )
    assert re.search(
        r"^  stall .* denied +\w+: Indonesia says it will not join", text, re.MULTILINE
    )
    assert (
        main(["explain", "https://wire.example.com/2026/03/02/kz-il-water", "--config", config])
        == 0
    )
    out = capsys.readouterr().out
    assert "title:   kazakhstan and israel sign water technology agreement in astana" in out
    assert "✔ kz_israel_deal" in out and "rule: all [“Kazakh*”" in out
    assert "near “agreement” in title" in out and "strength 10 = “Kazakh*” title 2 + " in out
    assert "certainty: confirmed" in out and "× tier 1.3 × confirmed 1 = " in out
    assert (
        "event: 2 report(s)" in out and "publishers: example.com, example.ru (2 independent)" in out
    )
    assert "corroboration 1.50 (2 independent source(s))" in out
    # since its 2nd source
    assert re.search(r"event E\d+ counts for follow-up \(2 independent source\(s\), "
                     r"since 03 Mar 2026\)", out)
    assert "genre: news" in out and "happened: 02 Mar 2026" in out
    preview = tmp_path / "preview.html"
    assert main(["digest", "--preview", str(preview), "--config", config]) == 0
    html = preview.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "Kazakhstan and Israel sign water" in html
    assert not (state_env / "outbox").exists()          # a preview sends nothing
    assert main(["explain", "999", "--config", config]) == 1
    assert "no stored item" in capsys.readouterr().err


def test_poll_unknown_feed_and_usage_errors(
    state_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["poll", "--feed", "nope", "--config", str(MINI)]) == 1
    assert "no feed with id nope" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["frobnicate"])
    assert exit_.value.code == 2


def test_digest_send_writes_the_outbox_once(feed_server: Any, state_env: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    serve_fixtures(feed_server)
    config = str(write_config(tmp_path, feed_server))
    main(["poll", "--config", config])
    assert main(["digest", "--send", "--config", config]) == 0
    assert main(["digest", "--send", "--config", config]) == 0
    out = capsys.readouterr().out
    assert "1 message(s) written" in out and "already written for this period" in out
    assert len(list((state_env / "outbox").glob("*.eml"))) == 1


def cli(args: list[str], state: Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """The real `watcher` in its own process, with only a state dir from the environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
    env.update(WATCHER_STATE_DIR=str(state), WATCHER_ALLOW_PRIVATE="127.0.0.1")
    return subprocess.run([sys.executable, "-m", "watcher", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def placed(option: list[str], command: list[str], before: bool) -> list[str]:
    """`watcher OPTION COMMAND` or `watcher COMMAND OPTION`."""
    return [*option, *command] if before else [*command, *option]


@pytest.mark.parametrize("before", [True, False], ids=["before", "after"])
def test_config_before_or_after_the_command_is_the_file_checked(
        tmp_path: Path, before: bool) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("version: 1\nfeeds: [\n", encoding="utf-8")
    # run where ./indicators.yaml is valid: ignoring --config would say "ok"
    proc = cli(placed(["--config", str(broken)], ["check"], before), tmp_path / "state")
    assert proc.returncode == 1, proc.stdout
    assert f"{broken}:3: " in proc.stderr and "ok:" not in proc.stdout


@pytest.mark.parametrize("before", [True, False], ids=["before", "after"])
def test_log_format_and_verbose_before_or_after_the_command(
        feed_server: Any, tmp_path: Path, before: bool) -> None:
    serve_fixtures(feed_server)
    config = ["--config", str(write_config(tmp_path, feed_server))]
    state = tmp_path / "state"
    proc = cli(placed(["--log-format", "json"], ["poll", *config], before), state)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert lines and all(json.loads(line)["logger"] for line in lines)   # every line is JSON
    assert any(json.loads(line)["msg"].startswith("poll: polled 3 feed(s)") for line in lines)
    # -v: an expected error shows its traceback (without -v, one line)
    quiet = cli(["poll", "--feed", "nope", *config], state)
    loud = cli(placed(["-v"], ["poll", "--feed", "nope", *config], before), state)
    assert quiet.returncode == loud.returncode == 1
    assert "Traceback" not in quiet.stderr and "Traceback" in loud.stderr
    assert "no feed with id nope" in quiet.stderr and "no feed with id nope" in loud.stderr
