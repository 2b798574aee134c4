"""The command line's grammar (DESIGN §8): every command, its options and their help text.

Scripts depend on it; `watcher --help` and each command's help are its documentation.
"""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from watcher import __version__

if TYPE_CHECKING:
    # The subcommands' parsers, added in the order `watcher --help` lists them.
    Commands = argparse._SubParsersAction[argparse.ArgumentParser]


def _global_options(top: bool) -> argparse.ArgumentParser:
    """The options every command takes, before or after its name: `watcher --config X check`
    and `watcher check --config X` mean the same. Only the top-level parser has defaults;
    a subcommand's own default would overwrite the value given before the command."""
    common = argparse.ArgumentParser(add_help=False,
                                     argument_default=None if top else argparse.SUPPRESS)
    common.add_argument("--config", type=Path,
                        help="indicators.yaml (default: $WATCHER_CONFIG, "
                             "$CONFIGURATION_DIRECTORY/indicators.yaml, "
                             "/etc/watcher/indicators.yaml, ./indicators.yaml)")
    common.add_argument("-v", "--verbose", action="store_true", help="debug logs and tracebacks")
    common.add_argument("--log-format", choices=["text", "json"],
                        help="log line format (default: text)")
    common.add_argument("--db", metavar="FILE|URL",
                        help="this database instead of $WATCHER_DATABASE_URL: a SQLite file (e.g. "
                             "one `replay --db` kept) or a URL; for replay, where to keep its "
                             "database")
    if top:
        common.set_defaults(verbose=False, log_format="text")
    return common


def build_parser() -> argparse.ArgumentParser:
    """The `watcher` command and its subcommands."""
    common = _global_options(top=False)
    p = argparse.ArgumentParser(prog="watcher", parents=[_global_options(top=True)],
                                description="Polls feeds, matches indicators, tracks the 6–12 "
                                            "month criterion, emails a digest.")
    p.add_argument("--version", action="version", version=f"watcher {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _cycle_commands(sub, common)
    _look_commands(sub, common)
    _rule_commands(sub, common)
    _admin_commands(sub, common)
    _web_commands(sub, common)
    return p


def _cycle_commands(sub: Commands, common: argparse.ArgumentParser) -> None:
    """run, poll, digest: the service and its steps by hand."""
    run = sub.add_parser("run", parents=[common], help="the service (foreground)")
    run.add_argument("--once", action="store_true",
                     help="one full cycle (poll, judge, digest, deliver), then exit")
    pl = sub.add_parser("poll", parents=[common], help="fetch, store and match now")
    pl.add_argument("--feed", action="append", metavar="ID",
                    help="only this feed (repeatable); polls it even if not due")
    dg = sub.add_parser("digest", parents=[common],
                        help="write (and send) the digest for this period")
    mode = dg.add_mutually_exclusive_group()
    mode.add_argument("--send", action="store_true", help="write it to the outbox and deliver now")
    mode.add_argument("--preview", type=Path, metavar="FILE",
                      help="write the HTML a recipient would see; nothing is sent")
    dg.add_argument("--since", type=date.fromisoformat, metavar="DATE",
                    help="count events new since DATE (YYYY-MM-DD)")
    dg.add_argument("--full", action="store_true",
                    help="with --preview: the full report (no list cut)")
    dg.add_argument("--as-of", type=date.fromisoformat, metavar="DATE",
                    help="with --preview: the digest as it would have read at the end of DATE")


def _look_commands(sub: Commands, common: argparse.ArgumentParser) -> None:
    """check, status, explain: what the config, the watch and an item say."""
    ck = sub.add_parser("check", parents=[common],
                        help="validate indicators.yaml and run its examples")
    ck.add_argument("path", nargs="?", type=Path,
                    help="the file to check (default: the one --config or the search finds)")
    ck.add_argument("--schema", action="store_true",
                    help="print the JSON Schema of indicators.yaml (for editors) and exit")
    st = sub.add_parser("status", parents=[common],
                        help="criterion, evidence per indicator, feed health")
    st.add_argument("--json", action="store_true",
                    help="one JSON object: the verdict (docs/verdict.schema.json) and the "
                         "status, for scripts and monitoring")
    st.add_argument("--as-of", type=date.fromisoformat, metavar="DATE",
                    help="the criterion as it stood at the end of DATE (from what was seen by "
                         "then)")
    _review_commands(sub, common)
    ex = sub.add_parser("explain", parents=[common], help="why an item matched")
    ex.add_argument("item", help="item id or URL")
    ex.add_argument("--all", action="store_true",
                    help="also show indicators none of whose terms hit")


def _review_commands(sub: Commands, common: argparse.ArgumentParser) -> None:
    """review, confirm, dismiss, undo: the analyst's call on an event (issue 12)."""
    rv = sub.add_parser("review", parents=[common],
                        help="candidates and counting events, with short ids")
    rv.add_argument("--as-of", type=date.fromisoformat, metavar="DATE",
                    help="as it stood at the end of DATE")
    for name, what in (("confirm", "it counts: you corroborate it"),
                       ("dismiss", "it never counts nor alerts"),
                       ("undo", "withdraw the latest decision on its reports")):
        dc = sub.add_parser(name, parents=[common], help=f"the analyst's call on an event: {what}")
        dc.add_argument("event", help="short id from `watcher review` (E1234)")
        dc.add_argument("--by", help="who decides (default: the login name)")
        if name == "confirm":
            dc.add_argument("--note", default="", help="why, for the record")
        if name == "dismiss":
            dc.add_argument("--reason", required=True, help="why it is not follow-up")


def _rule_commands(sub: Commands, common: argparse.ArgumentParser) -> None:
    """rematch, replay, score: the rules over stored, archived or piped items."""
    rm = sub.add_parser("rematch", parents=[common],
                        help="re-apply the current rules to stored items")
    rm.add_argument("--since", type=date.fromisoformat, metavar="DATE",
                    help="only items first seen on or after DATE (YYYY-MM-DD)")
    rp = sub.add_parser("replay", parents=[common],
                        help="backtest: ingest archived feed files, judge as of dates")
    rp.add_argument("dir", type=Path,
                    help="folder of archived feed files (dated names or sub-folders per feed)")
    rp.add_argument("--as-of", action="append", required=True, type=date.fromisoformat,
                    metavar="DATE",
                    help="evaluate the criterion as it stood at the end of DATE (repeatable)")
    rp.add_argument("--into-live", action="store_true",
                    help="ingest into the live database (default: a temporary one; --db FILE "
                         "keeps it)")
    rp.add_argument("--json", action="store_true",
                    help="one verdict object per date (docs/verdict.schema.json), one per line")
    sub.add_parser("score", parents=[common],
                   help="stateless: JSON-lines items on stdin → matches on stdout")


def _admin_commands(sub: Commands, common: argparse.ArgumentParser) -> None:
    """silence, unsilence, eval, db: alerts, rule quality, the database."""
    si = sub.add_parser("silence", parents=[common],
                        help="stop alerts for an indicator until a date (not the digest)")
    si.add_argument("indicator", nargs="?",
                    help="indicator id, or 'criterion' for state-change alerts")
    si.add_argument("--until", type=_moment, metavar="DATE",
                    help="YYYY-MM-DD (UTC midnight) or YYYY-MM-DDTHH:MM")
    si.add_argument("--reason", help="why (shown in the digest)")
    si.add_argument("--list", action="store_true", help="list silences (active and expired)")
    un = sub.add_parser("unsilence", parents=[common], help="alerts for an indicator again")
    un.add_argument("indicator", help="indicator id, or 'criterion'")
    ev = sub.add_parser("eval", parents=[common],
                        help="precision/recall/F1 against labeled items")
    ev.add_argument("path", type=Path, nargs="+",
                    help="labeled items, one JSON object a line (../shared/devset format); "
                         "several files: one line of figures per file")
    form = ev.add_mutually_exclusive_group()
    form.add_argument("--titles-only", action="store_true",
                      help="blank every summary (as headline-only feeds such as Google News give)")
    form.add_argument("--both", action="store_true",
                      help="measure each file twice, with summaries and with titles only")
    fd = sub.add_parser("feed", parents=[common], help="try a source before deploying it")
    fdsub = fd.add_subparsers(dest="feed_command", required=True, metavar="FEED_COMMAND")
    ft = fdsub.add_parser("test", parents=[common],
                          help="fetch a source once and print the items it gives and the rules "
                               "each would match; stores nothing")
    ft.add_argument("source", metavar="ID|URL", help="a feed id from indicators.yaml, or a URL")
    ft.add_argument("--select", action="append", default=[], metavar="KEY=SELECTOR",
                    help="with a URL: read it as a page (item=…, title=…, link=…, date=…, "
                         "summary=…, date_format=…, date_lang=…, timezone=…); repeatable")
    ft.add_argument("--lang", help="with a URL: the source's language (e.g. ru)")
    db = sub.add_parser("db", parents=[common], help="database tools")
    dbsub = db.add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    cp = dbsub.add_parser("copy", parents=[common],
                          help="copy every row to a new, empty database (e.g. SQLite → PostgreSQL)")
    cp.add_argument("--from", dest="source", metavar="URL",
                    help="the database to copy (default: $WATCHER_DATABASE_URL or the state "
                         "dir's SQLite file)")
    cp.add_argument("--to", dest="target", metavar="URL", required=True,
                    help="an empty database, e.g. postgresql+psycopg://watcher@db.example.org/watcher")


def _web_commands(sub: Commands, common: argparse.ArgumentParser) -> None:
    """web: the analyst's workbench (issue 15), and its users."""
    wb = sub.add_parser("web", parents=[common],
                        help="the analyst's workbench: a web app over the service's database")
    wb.add_argument("--listen", metavar="HOST:PORT",
                    help="where to listen (default: $WATCHER_WEB_LISTEN or 127.0.0.1:8080)")
    wb.add_argument("--public-read", action="store_true",
                    help="reading needs no login (writing still does)")
    wbsub = wb.add_subparsers(dest="web_command", metavar="WEB_COMMAND")
    us = wbsub.add_parser("user", parents=[common], help="the workbench's users")
    ussub = us.add_subparsers(dest="user_command", required=True, metavar="USER_COMMAND")
    ua = ussub.add_parser("add", parents=[common],
                          help="add a user to $WATCHER_WEB_USERS, or set their password")
    ua.add_argument("name", help="the name decisions are recorded with")
    ua.add_argument("--read-only", action="store_true",
                    help="may read, not decide nor silence (role 'reader')")
    ua.add_argument("--password-stdin", action="store_true",
                    help="read the password as one line from stdin instead of prompting")


def _moment(text: str) -> datetime:
    """A --until value: a date means its midnight UTC; a naive time is UTC."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not YYYY-MM-DD or YYYY-MM-DDTHH:MM") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
