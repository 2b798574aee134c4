"""Digest model → subject, plain text and HTML via jinja2 templates (autoescaped HTML)."""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from watcher.config import Config
from watcher.errors import WatcherError
from watcher.report import DigestReport
from watcher.text import truncate

def _templates() -> Path:
    """The repo's templates/ (a checkout or editable install), else the installed copy."""
    for candidate in (Path(__file__).resolve().parent.parent / "templates",
                      Path(sys.prefix) / "share" / "watcher" / "templates"):
        if (candidate / "digest.html").exists():
            return candidate
    raise WatcherError("digest templates not found (reinstall watcher)")


@lru_cache(maxsize=1)
def environment() -> Environment:
    """One jinja2 environment: HTML autoescaped, undefined names are errors, not blanks."""
    env = Environment(loader=FileSystemLoader(_templates()), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True)
    env.filters["day"] = lambda d: f"{d:%d %b %Y}" if d else "—"
    env.filters["stamp"] = lambda d: f"{d:%Y-%m-%d %H:%M} UTC" if d else "never"
    env.filters["cut"] = truncate
    # Printed next to each link, so the reader sees where it goes whatever its title says.
    env.filters["host"] = lambda url: urlsplit(url).hostname or ""
    return env


def subject(report: DigestReport, config: Config) -> str:
    """The subject carries the state; it stays under 80 characters."""
    text = config.digest.subject.format(state=report.state, period=report.period,
                                        new=report.new_total)
    return truncate(" ".join(text.split()), 78)


def render_digest(report: DigestReport, config: Config) -> tuple[str, str, str]:
    """(subject, text, html) for one digest."""
    env = environment()
    ctx = {"r": report, "config": config, "subject": subject(report, config)}
    return (ctx["subject"], env.get_template("digest.txt").render(ctx),  # type: ignore[return-value]
            env.get_template("digest.html").render(ctx))
