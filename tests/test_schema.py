"""The JSON Schema of indicators.yaml (issue 18): generated from the config models, kept
current in the repo, named by the file's first line, and true to what maintainers write."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT
from watcher.cli import main
from watcher.config.schema import indicators_schema

SCHEMA = ROOT / "indicators.schema.json"
MODELINE = "# yaml-language-server: $schema=./indicators.schema.json"


class _Yaml12(yaml.SafeLoader):
    """YAML as editors' language server reads it (1.2 core schema): 2025-11-06 is a string."""


_Yaml12.yaml_implicit_resolvers = {
    first: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def as_written(path: str) -> Any:
    return yaml.load((ROOT / path).read_text(encoding="utf-8"), Loader=_Yaml12)


def test_the_committed_schema_is_current(capsys: pytest.CaptureFixture[str]) -> None:
    """After a change to watcher/config/: `make schema` (watcher check --schema > …)."""
    assert main(["check", "--schema"]) == 0
    printed = capsys.readouterr().out
    assert json.loads(printed) == indicators_schema()
    assert SCHEMA.read_text(encoding="utf-8") == printed, "stale: run `make schema`"


def test_the_shipped_file_names_the_schema_on_its_first_line() -> None:
    first = (ROOT / "indicators.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first == MODELINE


def errors(doc: Any) -> list[str]:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    return ["/".join(map(str, e.absolute_path)) for e in validator.iter_errors(doc)]


@pytest.mark.parametrize("path", ["indicators.yaml", "tests/fixtures/mini.yaml"])
def test_files_watcher_accepts_are_valid_against_it(path: str) -> None:
    """Term sets named where terms stand ("$KZ"), examples as bare titles, nested lists."""
    assert errors(as_written(path)) == []


def test_it_flags_what_watcher_check_refuses() -> None:
    good = as_written("tests/fixtures/mini.yaml")
    typo, wrong, missing = copy.deepcopy(good), copy.deepcopy(good), copy.deepcopy(good)
    typo["indicators"][0]["wieght"] = 3                  # unknown key
    wrong["feeds"][0]["tier"] = "blog"                   # not one of the tiers
    wrong["indicators"][1]["match"]["any"] = [{"x": 1}]  # a mapping where terms go
    del missing["digest"]["recipients"]
    assert errors(typo) == ["indicators/0"]
    assert errors(wrong) == ["feeds/0/tier", "indicators/1/match"]
    assert errors(missing) == ["digest"]
