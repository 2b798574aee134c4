"""The command line documents itself (issue 18): help text on every command and option, and
shell completions (bash, zsh, fish) and a man page generated from the same parser, current
with it, and working in the real shells.

The shells and groff are Debian packages CI installs (.ci/run); elsewhere a missing one
skips its test, unless WATCHER_REQUIRE_SHELLS=1 makes that a failure.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from watcher.cli.parser import build_parser

COMPLETIONS = ROOT / "deploy" / "completions"
MAN = ROOT / "deploy" / "man" / "watcher.1"


def needs(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("WATCHER_REQUIRE_SHELLS"):
            pytest.fail(f"{tool} is not installed (WATCHER_REQUIRE_SHELLS=1)")
        pytest.skip(f"{tool} is not installed (CI installs it)")
    return path


def undocumented(parser: argparse.ArgumentParser, path: str = "watcher") -> list[str]:
    """Every command and option of the parser, depth first, that has no help text."""
    missing = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helped = {c.dest for c in action._choices_actions if c.help}
            missing += [f"{path} {name}" for name in action.choices if name not in helped]
            for name, child in action.choices.items():
                missing += undocumented(child, f"{path} {name}")
        elif not action.help or action.help == argparse.SUPPRESS:
            missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}")
    return missing


def test_every_command_and_option_has_help() -> None:
    assert undocumented(build_parser()) == []


def test_the_help_check_sees_an_option_without_help() -> None:
    parser = build_parser()
    parser.add_argument("--quiet", action="store_true")
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    sub.add_parser("bare").add_argument("thing", help="documented")
    assert sorted(undocumented(parser)) == ["watcher --quiet", "watcher bare"]


def test_completions_and_man_page_are_current() -> None:
    """They are generated (`make clidocs`); a new command or option must reach them."""
    pytest.importorskip("shtab")
    pytest.importorskip("argparse_manpage")
    result = subprocess.run([sys.executable, str(ROOT / "deploy" / "clidocs.py"), "--check"],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def bash_complete(words: list[str]) -> list[str]:
    """What bash offers for the last word, through the installed completion function."""
    script = (f"source {COMPLETIONS / 'bash' / 'watcher'}\n"
              f"COMP_WORDS=({' '.join(repr(w) for w in words)}); COMP_CWORD={len(words) - 1}\n"
              "_shtab_watcher; printf '%s\\n' \"${COMPREPLY[@]}\"\n")
    out = subprocess.run([needs("bash"), "--norc", "-c", script], capture_output=True,
                         text=True, timeout=30, check=True).stdout
    return out.split()


def test_bash_completes_commands_options_choices_and_files() -> None:
    assert bash_complete(["watcher", "sta"]) == ["status"]
    assert "--json" in bash_complete(["watcher", "status", "--j"])
    assert bash_complete(["watcher", "--log-format", ""]) == ["text", "json"]
    assert bash_complete(["watcher", "db", ""]) == ["copy"]
    assert str(ROOT / "indicators.yaml") in bash_complete(
        ["watcher", "check", str(ROOT / "indicators.y")])


def test_fish_completes_commands_with_their_help() -> None:
    script = (f"source {COMPLETIONS / 'fish' / 'watcher.fish'}; complete -C 'watcher sta'; "
              "complete -C 'watcher status --j'; complete -C 'watcher db '")
    out = subprocess.run([needs("fish"), "--no-config", "-c", script], capture_output=True,
                         text=True, timeout=30, check=True).stdout.splitlines()
    assert out == ["status\tcriterion, evidence per indicator, feed health",
                   ("--json\tone JSON object: the verdict (docs/verdict.schema.json) and the "
                    "status, for scripts and monitoring"),
                   "copy\tcopy every row to a new, empty database (e.g. SQLite → PostgreSQL)"]


def test_zsh_completion_offers_every_command_with_its_help() -> None:
    """zsh's completion system needs a terminal; the file is sourced for real and the list
    it hands to _describe (the function that shows it) is printed instead."""
    path = COMPLETIONS / "zsh" / "_watcher"
    assert path.read_text(encoding="utf-8").startswith("#compdef watcher")
    script = f"source {path}; _describe() {{ print -l -- ${{(P)2}} }}; _shtab_watcher_commands"
    out = subprocess.run([needs("zsh"), "-f", "-c", script], capture_output=True, text=True,
                         timeout=30, check=True).stdout.splitlines()
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert sorted(out) == sorted(f"{c.dest}:{c.help}" for c in sub._choices_actions)


def test_man_page_renders_without_warnings() -> None:
    result = subprocess.run([needs("groff"), "-k", "-man", "-ww", "-z", str(MAN)],
                            capture_output=True, text=True, timeout=30, check=False)
    assert (result.returncode, result.stderr) == (0, "")
    text = MAN.read_text(encoding="utf-8")
    assert ".SH ENVIRONMENT" in text and "WATCHER_STATE_DIR" in text
    assert "watcher digest" in text and r"\-\-preview" in text
