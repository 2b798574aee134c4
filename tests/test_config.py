"""indicators.yaml: typed, validated, every mistake named with its line; `watcher check`."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT
from tests.rules import probe_yaml
from watcher.cli import main
from watcher.config import load_config, parse_config
from watcher.errors import ConfigError

MINI = (ROOT / "tests" / "fixtures" / "mini.yaml").read_text(encoding="utf-8")


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "ind.yaml")
    return info.value.problems


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_mini_config_parses_into_typed_models() -> None:
    cfg = parse_config(MINI)
    assert [i.id for i in cfg.indicators] == [
        "new_signatory",
        "kz_israel_deal",
        "domestic_backlash",
    ]
    assert cfg.feeds[0].interval.total_seconds() == 1800
    assert cfg.criterion.warn_months == 6 and cfg.criterion.expire_months == 12
    assert cfg.counts_as_follow_up("new_signatory") and not cfg.counts_as_follow_up(
        "domestic_backlash"
    )


def test_unknown_key_is_named_with_its_line() -> None:
    text = MINI.replace("    weight: 2\n", "    weight: 2\n    wieght: 3\n")
    (msg,) = problems(text)
    assert msg.startswith(f"ind.yaml:{line_of(text, 'wieght')}:")
    assert "wieght" in msg and "unknown key" in msg


def test_wrong_type_names_the_line_of_the_value() -> None:
    text = MINI.replace("every: 30m", "every: often")
    (msg,) = problems(text)
    assert msg.startswith(f"ind.yaml:{line_of(text, 'every: often')}:") and "duration" in msg


def test_an_unknown_time_zone_is_named_with_its_line() -> None:
    text = MINI.replace("timezone: Asia/Almaty", "timezone: Asia/Atlantis")
    (msg,) = problems(text)
    assert msg.startswith(f"ind.yaml:{line_of(text, 'Asia/Atlantis')}:")
    assert "unknown time zone 'Asia/Atlantis'" in msg


def test_every_problem_is_reported_at_once() -> None:
    text = MINI.replace("weight: 3", "weight: -1").replace("stance: stall", "stance: sideways")
    found = problems(text)
    assert len(found) == 2
    assert any(f":{line_of(text, 'weight: -1')}:" in p for p in found)
    assert any(f":{line_of(text, 'sideways')}:" in p for p in found)


def test_yaml_syntax_error_has_a_line() -> None:
    text = MINI.replace("    weight: 2\n", "    weight: [2\n")
    (msg,) = problems(text)
    assert (
        msg.startswith("ind.yaml:")
        and abs(int(msg.split(":")[1]) - line_of(text, "weight: [2")) <= 1
    )


def test_duplicate_key_is_an_error_not_a_silent_override() -> None:
    text = MINI.replace("    weight: 2\n", "    weight: 2\n    weight: 5\n")
    (msg,) = problems(text)
    assert "duplicate key 'weight'" in msg


def test_follow_up_must_name_indicators_or_groups() -> None:
    text = MINI.replace(
        "follow_up: [expansion, kz_israel_deal]", "follow_up: [expansion, large_deals]"
    )
    assert any("large_deals" in p for p in problems(text))


def test_bad_terms_and_duplicate_ids_are_errors() -> None:
    assert any("no letters" in p for p in problems(MINI.replace("any: [protest,", 'any: ["--",')))
    assert any("may only end a word" in p for p in problems(MINI.replace("[deal,", '["de*al",')))
    assert any("duplicate indicators id" in p
               for p in problems(MINI.replace("id: domestic_backlash", "id: new_signatory")))


def test_not_a_mapping_and_empty_file() -> None:
    assert problems("")[0].startswith("ind.yaml:1:")
    assert problems("- a\n- b\n")[0].startswith("ind.yaml:1:")


def run_check(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["check", str(path)])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_check_passes_on_the_shipped_indicators(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_check(ROOT / "indicators.yaml", capsys)
    assert code == 0, out
    assert "examples pass" in out


def test_check_reports_a_failing_example_with_its_line(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    text = MINI.replace('"Israel signs deal with Cyprus"', '"Kazakhstan and Israel signed a deal"')
    path = tmp_path / "ind.yaml"
    path.write_text(text, encoding="utf-8")
    code, out = run_check(path, capsys)
    assert code == 1
    assert (
        f"{path}:{line_of(text, 'Kazakhstan and Israel signed a deal')}: kz_israel_deal: "
        "example should not match"
        in out
    )
    assert "Traceback" not in out


def test_check_on_broken_file_exits_1_without_traceback(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "ind.yaml"
    path.write_text(MINI.replace("version: 1", "version: 2"), encoding="utf-8")
    code, out = run_check(path, capsys)
    assert code == 1 and f"{path}:2:" in out and "Traceback" not in out
    code, out = run_check(tmp_path / "missing.yaml", capsys)
    assert code == 1 and "cannot read" in out


def test_shipped_indicators_cover_the_contract_ids() -> None:
    cfg = load_config(ROOT / "indicators.yaml")
    ids = {i.id for i in cfg.indicators}
    contract = {
        "new_signatory",
        "signing_ceremony",
        "ratification",
        "dfc_project",
        "kz_israel_deal",
        "kz_us_deal",
        "jackson_vanik",
        "israel_palestine_progress",
        "counter_move",
        "domestic_backlash",
    }
    assert contract <= ids
    for ind in cfg.indicators:
        assert ".txt" in ind.source, f"{ind.id} must cite its seed file"


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000,
        "x: " + "{a: " * 5_000,
        "- " * 100_000 + "x",
        "a: &a [*a]\n",
        "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]\n"
            for i in range(8)
        ),
    ],
)
def test_hostile_yaml_structure_is_refused_with_a_line_not_a_crash(text: str) -> None:
    """Deep nesting (LibYAML's composer recurses in C: it would crash the process), aliases
    that refer to themselves, an alias bomb: each one ConfigError naming a line."""
    with pytest.raises(ConfigError, match=r"^indicators\.yaml:\d+: "):
        parse_config(text)


def test_unknown_term_set_is_named_at_its_line() -> None:
    text = probe_yaml("""
        all: [$KZ, $ISRAEL]
        """, top="""
        terms:
          KZ: [Kazakh*]
        """)
    (msg,) = problems(text)
    assert msg.startswith(f"ind.yaml:{line_of(text, '$ISRAEL')}:")
    assert "unknown term set $ISRAEL" in msg and "$KZ" in msg


def test_a_term_set_that_uses_itself_is_an_error() -> None:
    text = probe_yaml("any: [$A]", top="terms:\n  A: [x, $B]\n  B: [y, $A]\n")
    assert any("uses itself" in p for p in problems(text))


def test_bad_field_scope_and_bad_alternative_have_lines() -> None:
    text = probe_yaml("""
        any: [x]
        none: [{titel: [opinion]}]
        """)
    (msg,) = problems(text)
    assert msg.startswith(f"ind.yaml:{line_of(text, 'titel')}:") and "titel" in msg
    text = probe_yaml("""
        - any: [x]
        - anny: [y]
        """)
    (msg,) = problems(text)
    assert msg.startswith(f"ind.yaml:{line_of(text, 'anny')}:") and "unknown key" in msg
    text = probe_yaml("""
        all: [{title: [a], summary: [b]}]
        """)
    assert "exactly one field" in problems(text)[0]


def test_bad_durations_in_the_criterion_and_an_alert_rule_name_their_lines() -> None:
    shipped = (ROOT / "indicators.yaml").read_text(encoding="utf-8")
    text = (shipped.replace("baseline_grace: 3d", "baseline_grace: 3 months", 1)
            .replace("alert: {sources: 2}", "alert: {sources: 2, max_age: soon}", 1))
    grace, age = problems(text)
    assert (
        grace.startswith(f"ind.yaml:{line_of(text, 'baseline_grace: 3 months')}:")
        and "duration" in grace
    )
    assert age.startswith(f"ind.yaml:{line_of(text, 'max_age: soon')}:") and "'soon'" in age


def many_indicators(n: int) -> str:
    """indicators.yaml with n indicators shaped like mini.yaml's (about 40 values each)."""
    data = yaml.safe_load(MINI)
    shapes = data["indicators"]
    data["indicators"] = [{**copy.deepcopy(shapes[i % len(shapes)]), "id": f"indicator_{i}"}
                          for i in range(n)]           # copies: shared lists would dump as aliases
    data["criterion"]["follow_up"] = ["expansion"]
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def test_a_file_of_5000_indicators_without_aliases_loads() -> None:
    """It was refused as "expands to more than 200,000 values (YAML aliases nested in
    aliases)": the limit counted every value written, not what aliases add."""
    text = many_indicators(5000)
    assert "&id0" not in text                       # PyYAML names its anchors &id001…
    cfg = parse_config(text)
    assert len(cfg.indicators) == 5000 and cfg.indicators[-1].id == "indicator_4999"


def test_aliases_used_as_intended_load_and_bombs_are_refused_at_their_line() -> None:
    shared = MINI.replace(
        "all: [[Kazakh*, Казахстан*, Astana], ", "all: [&kz [Kazakh*, Казахстан*, Astana], "
    )
    shared = shared.replace("all: [[Kazakh*, Казахстан*, Almaty, Astana]]", "all: [*kz]")
    assert parse_config(shared).indicators[2].match.all[0] == ["Kazakh*", "Казахстан*", "Astana"]
    laughs = ["a: &a [x, x, x, x, x, x, x, x, x, x]"] + [
        f"{c}: &{c} [{', '.join(['*' + p] * 10)}]" for p, c in zip("abcdefgh", "bcdefghi")]
    (problem,) = problems("\n".join(laughs) + "\n")
    # *e adds 10^4 values a time: the 200,000 are passed on the line of f (line 6)
    assert re.fullmatch(
        r"ind\.yaml:6: YAML aliases add over [\d,]+ values \(at most 200,000, "
        r"or as many as the file writes out\): write the lists out",
        problem,
    ), problem
    assert problems("a: 1\nb: &b\n  c: [1, *b]\n") == [
        "ind.yaml:3: the YAML alias *b refers to the list or mapping that contains it"]
    assert problems("a: 1\nb:\n  " + "[" * 70 + "]" * 70 + "\n") == [
        "ind.yaml:3: nested more than 64 deep: too deep to be an indicators file"]
