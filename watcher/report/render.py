"""Digest model → subject, plain text and HTML via jinja2 templates (autoescaped HTML).

Feed text is hostile until proven otherwise: every `{{ }}` goes through `neutralise` (bidi
overrides and control characters removed) and HTML autoescaping; links pass `safe_url`
(http and https only, so no `javascript:`); the CSS is inlined by css-inline because most
mail clients drop <style> (the @media rules for dark mode and small screens are kept there).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import css_inline
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from watcher.config import Config
from watcher.report.alerts import AlertReport
from watcher.report.charts import BAR_HEIGHT, Spark
from watcher.report.digest import DigestReport
from watcher.text import truncate

# Bidi embeddings, overrides and isolates (and marks) can make "gro.live//:sptth" read as a
# trusted link; the templates isolate feed text with dir="auto" instead.
_BIDI = dict.fromkeys(map(ord, "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                                "\u2066\u2067\u2068\u2069"), None)
_URL_JUNK = re.compile(r"[\x00-\x20\x7f]")
_TIMELINE_CHARS = {"past": "=", "future": ".", "baseline": "B", "warn": "6", "expire": "X",
                   "today": "T", "event": "*"}
_BLOCKS = "▁▂▃▄▅▆▇█"
_INLINER = css_inline.CSSInliner(keep_at_rules=True)


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


def inline_css(html: str) -> str:
    """Styles into style="" attributes; @media rules (dark mode, small screens) stay in <style>."""
    return str(_INLINER.inline(html))


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
    env.filters["cut"] = truncate
    # Printed next to each link, so the reader sees where it goes whatever its title says.
    env.filters["host"] = lambda url: urlsplit(url).hostname or ""
    env.filters["safe_url"] = safe_url
    env.filters["span"] = span
    env.filters["spark_chars"] = spark_chars
    env.filters["strip_chars"] = lambda cells: "".join(_TIMELINE_CHARS[c] for c in cells)
    env.finalize = neutralise
    return env


def subject(report: DigestReport, config: Config) -> str:
    """The subject carries the state; it stays under 80 characters."""
    text = config.digest.subject.format(state=report.state, period=report.period,
                                        new=report.new_total)
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
            inline_css(env.get_template("digest.html").render(ctx)))


def render_alert(report: AlertReport, config: Config) -> tuple[str, str, str]:
    """(subject, text, html) for one grouped alert; the subject names the state and what."""
    what = ", ".join(dict.fromkeys(line.subject if line.event else f"criterion → {report.state}"
                                   for line in report.lines))
    subject = fit_subject(config.alerts.subject.format(state=report.state, what=what),
                          report.state)
    env = environment()
    ctx = {"a": report, "config": config, "subject": subject}
    return (subject, env.get_template("alert.txt").render(ctx),
            inline_css(env.get_template("alert.html").render(ctx)))
