"""Digest model → subject, plain text and HTML via jinja2 templates (autoescaped HTML).

Feed text is hostile until proven otherwise: every `{{ }}` goes through `neutralise` (bidi
overrides and control characters removed) and HTML autoescaping; links pass `safe_url`
(http and https only, so no `javascript:`). The CSS stays one class-based <style> block
(_style.css): inlining it into every element tripled the digest and pushed it past Gmail's
102 KB clip (issue 14); only what must hold without <style> is written inline.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, tzinfo
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from watcher.config import Config
from watcher.report.alerts import AlertReport
from watcher.report.charts import BAR_HEIGHT, Spark
from watcher.report.digest import DigestReport, Uptime
from watcher.report.happenings import strength
from watcher.text import truncate

# Bidi embeddings, overrides and isolates (and marks) can make "gro.live//:sptth" read as a
# trusted link; the templates isolate feed text with dir="auto" instead.
_BIDI = dict.fromkeys(map(ord, "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                                "\u2066\u2067\u2068\u2069"), None)
_URL_JUNK = re.compile(r"[\x00-\x20\x7f]")
_TIMELINE_CHARS = {"past": "=", "future": ".", "baseline": "B", "warn": "6", "expire": "X",
                   "today": "T", "event": "*"}
_BLOCKS = "▁▂▃▄▅▆▇█"


def neutralise(value: Any) -> Any:
    """Every string printed by a template: bidi controls and C0/C1 controls removed."""
    if not isinstance(value, str) or isinstance(value, Markup):
        return value
    value = value.translate(_BIDI)
    return "".join(c for c in value if c in "\n\t" or unicodedata.category(c) != "Cc")


def safe_url(url: str | None) -> str | None:
    """The URL if it is plain http(s) with a host, else None (the template shows no link).

    Browsers drop tabs and newlines inside URLs, so 'java\tscript:' is checked as such."""
    if not url:
        return None
    cleaned = _URL_JUNK.sub("", url.translate(_BIDI))
    parts = urlsplit(cleaned)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return cleaned


def span(seconds: float) -> str:
    """'6 d 23 h', '5 h 12 min', '40 s': uptime figures for the health section."""
    s = int(seconds)
    if s >= 86400:
        return f"{s // 86400} d {s % 86400 // 3600} h"
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60} min"
    return f"{s // 60} min" if s >= 60 else f"{s} s"


def spark_chars(spark: Spark) -> str:
    """The weekly bars as block characters for the plain-text part (' ' for no evidence)."""
    top = len(_BLOCKS) - 1
    return "".join(_BLOCKS[min(top, (h * len(_BLOCKS) - 1) // BAR_HEIGHT)] if h else " "
                   for h in spark.heights)


def local_stamp(moment: datetime, tz: tzinfo) -> str:
    """'2026-03-10 12:00 Asia/Almaty': a time in the digest's time zone, named."""
    return f"{moment.astimezone(tz):%Y-%m-%d %H:%M} {tz}"


def uptime_line(up: Uptime | None, since: datetime | None) -> str:
    """The health section's service line; no percentage of a span too short to mean one."""
    if up is None:
        return "No service run recorded yet (digest made by the command line)."
    starts = f"{up.starts} start(s)"
    if up.seconds_total < 3600:
        return (f"Service running, {starts}; {span(up.seconds_total)} since "
                f"{'the last digest' if since else 'it was first started'}, too soon for an "
                "uptime figure.")
    return (f"Service up {span(up.seconds_up)} of the {span(up.seconds_total)} since "
            f"{'the last digest' if since else 'it was first started'} ({up.percent:.1f}%), "
            f"{starts}.")


@lru_cache(maxsize=1)
def environment() -> Environment:
    """One jinja2 environment: HTML autoescaped, undefined names are errors, not blanks.

    The templates and CSS are package data (watcher/report/templates), found through the
    package's loader however watcher is installed (a checkout, a venv, `pip install --user`;
    issue 18: as data-files under sys.prefix/share, a --user install could not find them)."""
    env = Environment(loader=PackageLoader("watcher.report", "templates"),
                      undefined=StrictUndefined,
                      autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True)
    env.filters["day"] = lambda d: f"{d:%d %b %Y}" if d else "—"
    env.filters["stamp"] = lambda d: f"{d:%Y-%m-%d %H:%M} UTC" if d else "never"
    env.filters["local"] = local_stamp
    env.filters["cut"] = truncate
    # Printed next to each link, so the reader sees where it goes whatever its title says.
    env.filters["host"] = lambda url: urlsplit(url).hostname or ""
    env.filters["safe_url"] = safe_url
    env.filters["span"] = span
    env.filters["spark_chars"] = spark_chars
    env.filters["strength"] = strength
    env.filters["uptime_line"] = uptime_line
    env.filters["strip_chars"] = lambda cells: "".join(_TIMELINE_CHARS[c] for c in cells)
    env.finalize = neutralise
    return env


def subject(report: DigestReport, config: Config) -> str:
    """'[watcher] 2026-W49 · FOLLOW-UP (deals) · 3 new, 1 counting': the week (so clients do
    not thread every digest into one), the state, the week's figures; under 80 characters."""
    text = config.digest.subject.format(state=report.state_label, period=report.period,
                                        new=report.new_total,
                                        counting=report.week.counting if report.week else 0)
    return fit_subject(text, report.state)


def fit_subject(text: str, state: str) -> str:
    """One line under 80 characters that always names the criterion's state."""
    text = " ".join(str(neutralise(text)).split())
    if state not in text:
        text = f"{state}: {text}"
    return truncate(text, 78)


def render_digest(report: DigestReport, config: Config) -> tuple[str, str, str]:
    """(subject, text, html) for one digest."""
    env = environment()
    title = subject(report, config)
    ctx = {"r": report, "config": config, "subject": title}
    return (title, env.get_template("digest.txt").render(ctx),
            env.get_template("digest.html").render(ctx))


def render_alert(report: AlertReport, config: Config) -> tuple[str, str, str]:
    """(subject, text, html) for one grouped alert: the subject and the first line are the
    happening ('Kazakhstan, Israel sign water cooperation agreement — 2 sources')."""
    subject = fit_alert_subject(report, config)
    env = environment()
    ctx = {"a": report, "config": config, "subject": subject}
    return (subject, env.get_template("alert.txt").render(ctx),
            env.get_template("alert.html").render(ctx))


def fit_alert_subject(report: AlertReport, config: Config) -> str:
    """'[watcher] ALERT: Kazakhstan, Israel sign water … — 2 sources (+1 more)': the first
    happening's title is what gets shortened, so its sources and the count of others stay."""
    first = report.lines[0] if report.lines else None
    headline = first.headline if first else report.state
    title = first.event.title if first and first.event else headline
    others = len(report.lines) - 1
    tail = headline[len(title):] if headline.startswith(title) else ""
    tail += f" (+{others} more)" if others > 0 else ""
    frame = " ".join(config.alerts.subject.format(state=report.state, what="").split())
    room = max(78 - len(frame) - len(tail) - 1, 20)
    what = truncate(" ".join(str(neutralise(title)).split()), room) + tail
    text = config.alerts.subject.format(state=report.state, what=what)
    return truncate(" ".join(str(neutralise(text)).split()), 78)


def short_body(lines: list[str], link: str | None) -> str:
    """A chat channel's message: a few lines and, when the report has a URL, the link (the
    title is sent apart, so it is not repeated)."""
    body = "\n".join(truncate(" ".join(str(neutralise(line)).split()), 300) for line in lines)
    return f"{body}\n{link}" if link else body


def alert_post(report: AlertReport, link: str | None) -> str:
    """An alert on a chat channel: each happening with whether it counts, each state change."""
    lines = []
    for line in report.lines:
        status = f" · {line.event.status.split(' (`')[0]}" if line.event else ""
        lines.append(f"{line.headline}{status}")
    return short_body(lines[:6] + ([f"… and {len(lines) - 6} more"] if len(lines) > 6 else []),
                      link)


def digest_post(report: DigestReport, link: str | None) -> str:
    """The digest on a chat channel: each track's state and this week's figures."""
    lines = ([f"{t.state} · {t.title}: {t.words}" for t in report.tracks]
             if len(report.tracks) > 1 else [report.headline])
    if report.week is not None:
        lines.append(f"This week: {report.week.figures()}")
    return short_body(lines, link)
