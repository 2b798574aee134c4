"""Golden files: what analysts read, kept in the repo so a change to it shows in review as a diff.

- tests/golden/feeds/NAME.json: the Items a feed file parses to (reader's data/full.rss ↔
  full.rss.py pairs), for a few files of each kind (RSS, Atom, JSON Feed, a legacy encoding,
  an ill-formed document read with a warning, a Google News feed naming its sources).
- tests/golden/digest/demo.txt and demo.html: the digest `make demo` writes, built here on the
  same feed snapshots with a fixed clock; the volatile parts (Date, Message-ID, MIME
  boundaries, the server's port, the temporary state directory, event ids, which follow the
  order feeds arrive in) are blanked (rss2email's golden emails).

A deliberate change regenerates them: `make golden` (WATCHER_UPDATE_GOLDEN=1), then review
the diff of tests/golden/ like any other change.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import yaml

from demo.run_demo import FEEDS as DEMO_FEEDS
from demo.run_demo import demo_feeds
from tests.conftest import ROOT, at
from watcher.config import load_config
from watcher.context import Context
from watcher.ingest.parse import parse_feed
from watcher.service import run_once
from watcher.settings import load_settings

GOLDEN = ROOT / "tests" / "golden"
UPDATE = os.environ.get("WATCHER_UPDATE_GOLDEN") == "1"
FIXTURES = ROOT / "tests" / "fixtures" / "feeds"
# (golden name, feed file, content type the server would send, base URL, configured language)
FEEDS = [
    (
        "news_en.rss",
        FIXTURES / "news_en.rss",
        "application/rss+xml",
        "https://news.example.org/",
        None,
    ),
    (
        "releases.atom",
        FIXTURES / "releases.atom",
        "application/atom+xml",
        "https://gov.example.kz/",
        None,
    ),
    (
        "feed.json",
        FIXTURES / "feed.json",
        "application/feed+json",
        "https://json.example.org/",
        None,
    ),
    (
        "news_ru_cp1251.rss",
        FIXTURES / "news_ru_cp1251.rss",
        "text/xml",
        "https://ru.example.org/",
        "ru",
    ),
    (
        "illformed.rss",
        FIXTURES / "illformed.rss",
        "application/rss+xml",
        "https://bad.example.org/",
        None,
    ),
    (
        "gnews-en.xml",
        DEMO_FEEDS / "gnews-en.xml",
        "application/xml",
        "https://news.google.com/",
        "en",
    ),
]
# Monday 07:00 in Almaty, ten days after the demo's newest snapshot item: its weekly digest.
DEMO_NOW = at("2026-11-30T02:00")


def check_golden(name: str, actual: str) -> None:
    """Compare with tests/golden/NAME, or rewrite it under WATCHER_UPDATE_GOLDEN=1."""
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"{path} is missing: run `make golden` and review the new file"
    expected = path.read_text(encoding="utf-8")
    assert actual == expected, (f"{name} differs from the golden file; if the change is meant, "
                                "run `make golden` and review the diff of tests/golden/")


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


@pytest.mark.parametrize(
    ("name", "path", "ctype", "base", "lang"), FEEDS, ids=[f[0] for f in FEEDS]
)
def test_feed_parses_to_its_golden_items(
    name: str, path: Path, ctype: str, base: str, lang: str | None
) -> None:
    parsed = parse_feed("golden", path.read_bytes(), content_type=ctype, base_url=base, lang=lang)
    doc = {"title": parsed.title, "warning": parsed.warning,
           "items": [{k: _jsonable(v) for k, v in vars(item).items()} for item in parsed.items]}
    check_golden(f"feeds/{name}.json", json.dumps(doc, ensure_ascii=False, indent=2) + "\n")


def demo_digest(server: Any, tmp_path: Path) -> EmailMessage:
    """The digest of one `watcher run --once` over the demo snapshots, at DEMO_NOW."""
    for snapshot in sorted(DEMO_FEEDS.glob("*.xml")):
        server.add(f"/{snapshot.name}", snapshot.read_bytes(), content_type="application/xml")
    for page in sorted((ROOT / "tests" / "fixtures" / "pages").glob("*.html")):
        server.add(f"/pages/{page.name}", page.read_bytes(),
                   content_type="text/html; charset=utf-8")
    data = yaml.safe_load((ROOT / "indicators.yaml").read_text(encoding="utf-8"))
    data["feeds"] = demo_feeds(server.url(""))
    config = tmp_path / "indicators.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    ctx = Context.open(load_config(config), load_settings(), clock=lambda: DEMO_NOW)
    try:
        run_once(ctx)
        digests = sorted((m for m in ctx.store.messages() if m.kind == "digest"),
                         key=lambda m: m.recipient)
    finally:
        ctx.store.close()
    assert digests, "the demo cycle wrote no digest"
    msg = message_from_bytes(digests[0].raw, _class=EmailMessage, policy=policy.SMTP)
    assert isinstance(msg, EmailMessage)
    return msg


def blank(text: str, server: Any, tmp_path: Path) -> str:
    """The parts that change from run to run, replaced by fixed words."""
    text = text.replace("\r\n", "\n")
    text = text.replace(server.url(""), "http://127.0.0.1:PORT").replace(str(tmp_path), "TMP")
    # an event's short id is its earliest report's row id: feeds are stored as they arrive
    text = re.sub(r"(?<![\w/.-])E\d+\b", "E#", text)
    return re.sub(r'boundary="[^"]+"', 'boundary="BOUNDARY"', text)


def test_demo_digest_matches_its_golden_text_and_html(feed_server: Any, state_env: Path,
                                                      tmp_path: Path) -> None:
    msg = demo_digest(feed_server, tmp_path)
    volatile = {"date": "DATE", "message-id": "<MESSAGE-ID>"}
    headers = "".join(f"{k}: {volatile.get(k.lower(), v)}\n" for k, v in msg.items())
    text_part = msg.get_body(preferencelist=("plain",))
    html_part = msg.get_body(preferencelist=("html",))
    assert isinstance(text_part, EmailMessage) and isinstance(html_part, EmailMessage)
    check_golden("digest/demo.txt", blank(headers + "\n" + text_part.get_content(), feed_server,
                                          tmp_path))
    check_golden("digest/demo.html", blank(html_part.get_content(), feed_server, tmp_path))
