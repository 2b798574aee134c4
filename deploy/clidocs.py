"""Shell completions and the man page, generated from watcher's argparse parser (issue 18).

    python deploy/clidocs.py          rewrite deploy/completions/ and deploy/man/watcher.1
    python deploy/clidocs.py --check  exit 1 and name the stale files (tests/test_clidocs.py)

bash and zsh come from shtab, the man page from argparse-manpage (both dev dependencies:
the generated files are committed and installed with the package as data files, so an
install needs neither); fish, which shtab does not write, from the small walker below.
A command or option added to watcher/cli/parser.py shows up in all four after `make
clidocs`; the test fails until then.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import shtab
from argparse_manpage.manpage import Manpage

from watcher import DISTRIBUTION, __version__
from watcher.cli.parser import build_parser

HERE = Path(__file__).resolve().parent
FILES = {
    "bash": HERE / "completions" / "bash" / "watcher",
    "zsh": HERE / "completions" / "zsh" / "_watcher",
    "fish": HERE / "completions" / "fish" / "watcher.fish",
    "man": HERE / "man" / "watcher.1",
}
DIRECTORY_ARGS = {"dir"}                 # `watcher replay DIR`: a folder, not a file
GENERATED = "generated from watcher's argparse parser by deploy/clidocs.py: do not edit"


def parser_with_file_hints() -> argparse.ArgumentParser:
    """The parser, its path arguments marked for shtab (files; folders for DIRECTORY_ARGS)."""
    parser = build_parser()
    for _path, action in walk(parser):
        if action.type is Path:
            hint = shtab.DIRECTORY if action.dest in DIRECTORY_ARGS else shtab.FILE
            action.complete = hint  # type: ignore[attr-defined]
    return parser


def walk(parser: argparse.ArgumentParser,
         path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], argparse.Action]]:
    """Every action of every (sub)command, with the command path it belongs to."""
    for action in parser._actions:
        yield path, action
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from walk(child, (*path, name))


def subcommands(parser: argparse.ArgumentParser) -> argparse._SubParsersAction[
        argparse.ArgumentParser] | None:
    return next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)


# --- fish -------------------------------------------------------------------------------

def fish() -> str:
    """`complete` lines: the global options anywhere, then each command level by level."""
    parser = build_parser()
    lines = [f"# fish completion for watcher, {GENERATED}", "complete -c watcher -f"]
    lines += [_fish_option(action, None) for action in parser._actions
              if action.option_strings]
    globals_ = {s for a in parser._actions for s in a.option_strings}
    _fish_level(parser, (), globals_, lines)
    return "\n".join(lines) + "\n"


def _fish_level(parser: argparse.ArgumentParser, path: tuple[str, ...], globals_: set[str],
                lines: list[str]) -> None:
    sub = subcommands(parser)
    if sub is None:
        return
    names = " ".join(sub.choices)
    here = (f"__fish_seen_subcommand_from {path[-1]}; and not __fish_seen_subcommand_from "
            f"{names}") if path else "__fish_use_subcommand"
    for choice in sub._choices_actions:
        lines.append(f"complete -c watcher -n {_q(here)} -a {choice.dest} -d {_q(choice.help)}")
    for name, child in sub.choices.items():
        seen = f"__fish_seen_subcommand_from {name}"
        for action in child._actions:
            if action.option_strings and not set(action.option_strings) & globals_:
                lines.append(_fish_option(action, seen))
            elif not action.option_strings and action.type is Path:
                lines.append(f"complete -c watcher -n {_q(seen)} -F")
        _fish_level(child, (*path, name), globals_, lines)


def _fish_option(action: argparse.Action, condition: str | None) -> str:
    parts = ["complete -c watcher"]
    if condition:
        parts.append(f"-n {_q(condition)}")
    for flag in action.option_strings:
        parts.append(f"-l {flag[2:]}" if flag.startswith("--") else f"-s {flag[1:]}")
    if action.choices:
        parts.append(f"-xa {_q(' '.join(map(str, action.choices)))}")
    elif action.nargs != 0:
        parts.append("-rF" if action.type is Path else "-x")
    parts.append(f"-d {_q(action.help)}")
    return " ".join(parts)


def _q(text: object) -> str:
    """A fish single-quoted string."""
    return "'" + str(text or "").replace("\\", "\\\\").replace("'", "\\'") + "'"


# --- man page ---------------------------------------------------------------------------

MAN_SECTIONS = {
    "environment": r"""Machine settings and secrets come from the environment, never from
indicators.yaml. The main ones:
.TP
.B WATCHER_CONFIG
indicators.yaml when \-\-config is not given (then $CONFIGURATION_DIRECTORY/indicators.yaml,
/etc/watcher/indicators.yaml, ./indicators.yaml).
.TP
.B WATCHER_STATE_DIR
database, outbox and reports (default: $STATE_DIRECTORY, else ~/.local/share/watcher).
.TP
.B WATCHER_DATABASE_URL
sqlite:///… (default: watcher.db in the state directory) or postgresql+psycopg://….
.TP
.B WATCHER_SMTP_URL\fR, \fBWATCHER_SMTP_USER\fR, \fBWATCHER_SMTP_PASSWORD
the mail server; unset: messages are written to the file outbox.
.TP
.B WATCHER_LOG_LEVEL
DEBUG, INFO (default), WARNING, ERROR or CRITICAL.
.TP
.B WATCHER_ALLOW_PRIVATE
private hosts and ranges a feed's own URL may reach.
.TP
.B WATCHER_NOTIFY_URLS
Apprise URLs that also receive alerts and digests (the optional extra [notify]).
.PP
The README's Configuration section lists them all.""",
    "exit status": r"""0 ok; 1 a user error (bad configuration, bad input, no database for a
command that only reads), with a one\-line message; 2 wrong usage; any other code is a bug.""",
    "files": r""".TP
.I /etc/watcher/indicators.yaml
what to watch (systemd: ConfigurationDirectory=watcher)
.TP
.I /var/lib/watcher/watcher.db
the service's database (systemd: StateDirectory=watcher)""",
    "see also": r"""The README and deploy/README.md of the watcher sources;
\fBsystemctl\fR(1), \fBjournalctl\fR(1).""",
}


_REQUEST = re.compile(r"^\.(TH|SH|SS|TP|B|BR|I|IR|IP|PP|RS|RE|nf|fi|br|\\\")(\s|$)")


def man(today: str | None = None) -> str:
    """The man page (section 1); `today` for its date line."""
    page = Manpage(build_parser())
    page.description = "indicator-tracking alert daemon"
    page.source = f"{DISTRIBUTION} {__version__}"
    page.manual = "watcher manual"
    page.date = today or date.today().isoformat()
    for heading, content in MAN_SECTIONS.items():
        page.add_section(heading, ">", content)
    return f'.\\" {GENERATED}\n' + "".join(map(_text_line, str(page).splitlines(True)))


def _text_line(line: str) -> str:
    """argparse-manpage wraps help text as it comes: a line it starts with "./x" or "'x" would
    be read as a roff request and vanish; \\& keeps it text."""
    if line.startswith((".", "'")) and not _REQUEST.match(line):
        return "\\&" + line
    return line


def _body(text: str) -> str:
    """A man page without its .TH line, which carries the date it was made."""
    return re.sub(r"(?m)^\.TH .*$", "", text)


# --- files ------------------------------------------------------------------------------

def generated(current_man: str | None) -> dict[str, str]:
    """What each file should hold; the man page keeps its date when nothing else changed."""
    parser = parser_with_file_hints()
    page = man()
    if current_man is not None and _body(current_man) == _body(page):
        page = current_man
    return {"bash": shtab.complete(parser, shell="bash"),
            "zsh": shtab.complete(parser, shell="zsh"), "fish": fish(), "man": page}


def main(argv: list[str]) -> int:
    check = argv == ["--check"]
    man_file = FILES["man"]
    wanted = generated(man_file.read_text(encoding="utf-8") if man_file.exists() else None)
    stale = [name for name, text in wanted.items()
             if not FILES[name].exists() or FILES[name].read_text(encoding="utf-8") != text]
    if check:
        for name in stale:
            print(f"{FILES[name].relative_to(HERE.parent)} is stale: run `make clidocs`")
        return 1 if stale else 0
    for name in stale:
        FILES[name].parent.mkdir(parents=True, exist_ok=True)
        FILES[name].write_text(wanted[name], encoding="utf-8")
        print(f"wrote {FILES[name].relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
