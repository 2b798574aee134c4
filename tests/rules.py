"""Build a one-indicator config around a rule written inline, for rule-language tests."""

from __future__ import annotations

import textwrap

from tests.conftest import ROOT
from watcher.config import Config, parse_config
from watcher.judge.match import Matcher

MINI = (ROOT / "tests" / "fixtures" / "mini.yaml").read_text(encoding="utf-8")
HEAD = MINI.split("indicators:\n")[0].replace("follow_up: [expansion, kz_israel_deal]",
                                               "follow_up: [probe]")


def probe_yaml(rule: str, top: str = "", fields: str = "") -> str:
    """indicators.yaml text with one indicator `probe` whose `match:` is `rule` (YAML).

    `top` adds top-level sections; a `certainty:` there replaces the mini file's."""
    head = HEAD
    if "certainty:" in top:
        head = (
            "\n".join(
                ln
                for ln in head.splitlines()
                if not ln.startswith(("certainty:", "  denied:", "  expected:"))
            )
            + "\n"
        )
    body = textwrap.indent(textwrap.dedent(rule).strip(), "      ")
    extra = f"    fields: {fields}\n" if fields else ""
    return (head + textwrap.dedent(top) + "indicators:\n"
            "  - id: probe\n    group: test\n    title: Probe\n"
            "    source: \"000_e04cb1293b4fe0c3.txt: test\"\n" + extra +
            "    match:\n" + body + "\n"
            "    examples: {match: [a, b], no_match: [c, d]}\n")


def probe(rule: str, top: str = "", fields: str = "") -> Matcher:
    return Matcher(probe_config(rule, top, fields))


def probe_config(rule: str, top: str = "", fields: str = "") -> Config:
    return parse_config(probe_yaml(rule, top, fields), "ind.yaml")
