"""Mail craft: headers, subject, inlined CSS, dark mode, and hostile feed text kept harmless."""

from __future__ import annotations

import re
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import at
from tests.test_criterion import CFG, M
from tests.test_pipeline import context, received, serve_fixtures, write_config
from watcher.deliver.outbox import message_id
from watcher.judge.criterion import evaluate
from watcher.judge.events import cluster, host_of
from watcher.judge.score import score_events
from watcher.models import MatchedItem
from watcher.report.digest import build_digest
from watcher.report.render import fit_subject, render_digest, safe_url
from watcher.service import run_once

NOW = at("2026-03-10T06:00")
RLO = "\u202e"
HOSTILE = [
    (("Azerbaijan joins the Abraham Accords <img src=x onerror=alert(1)> "
      f"{RLO}fdp.exe"), "javascript:alert(document.cookie)"),
    ("Uzbekistan joins the Abraham Accords\r\nBcc: victim@example.net <script>x()</script>",
     "java\tscript:alert(2)"),
    ("Saudi Arabia joins the Abraham Accords \"><a href=javascript:alert(3)>click</a>",
     "data:text/html,<script>alert(4)</script>"),
]


def hostile_digest() -> tuple[str, str, str]:
    items = [MatchedItem(n, "f", title, url, at("2026-02-10"), at("2026-02-10"),
                         host_of("https://evil.example.com/") or "evil", "outlet", m)
             for n, (title, url) in enumerate(HOSTILE, 1) for m in M.match(title)]
    assert len(items) == 3
    evs = score_events(cluster(items), CFG)
    report = build_digest(CFG, evs, evaluate(CFG, evs, NOW), [], period="2026-W11", now=NOW,
                          since=None)
    return render_digest(report, CFG)


def test_feed_text_cannot_inject_active_html_or_links() -> None:
    _subject, text, html = hostile_digest()
    assert (
        "<script" not in html
        and "<img" not in html
        and "onerror=" not in html.replace("onerror=alert(1)&gt;", "")
    )
    assert "&lt;img src=x onerror=alert(1)&gt;" in html              # shown, as text
    assert all(h.startswith("http") for h in re.findall(r'href="([^"]*)"', html))
    assert "data:text" not in html and "&lt;a href=javascript:alert(3)&gt;" in html   # as text
    assert RLO not in html and RLO not in text
    assert 'dir="auto"' in html                                        # feed text isolated
    assert text.count("(no usable link)") == 3 and "javascript:alert(1)" not in text


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        " java\tscript:x",
        "java\nscript:x",
        "data:text/html,x",
        "vbscript:x",
        "//evil.example",
        "mailto:x@example.org",
        f"https://ok.example{RLO}/x",
        "",
    ],
)
def test_only_http_links_survive(url: str) -> None:
    got = safe_url(url)
    assert got is None or (got.startswith("https://ok.example") and RLO not in got)


def test_subject_stays_under_80_characters_and_names_the_state() -> None:
    long = "Weekly digest for the Central Asia desk on the Abraham Accords follow-up " * 3
    for raw in (long, "[watcher] {state} " + long):
        subject = fit_subject(raw.replace("{state}", "HIGH-WATER"), "HIGH-WATER")
        assert len(subject) < 80 and "HIGH-WATER" in subject and "\n" not in subject
    assert fit_subject(f"{RLO}[watcher]\r\nBcc: x@example.net", "WARN").startswith(
        "WARN: [watcher] Bcc"
    )


def test_message_id_is_stable_per_period_and_recipient() -> None:
    a = message_id("digest", "2026-W11", "Analyst@Example.org", "watcher@example.org")
    assert a == message_id("digest", "2026-W11", "analyst@example.org", "watcher@example.org")
    assert a != message_id("digest", "2026-W12", "analyst@example.org", "watcher@example.org")
    assert a != message_id("digest", "2026-W11", "other@example.org", "watcher@example.org")


def test_digest_on_the_wire_has_the_headers_css_and_dark_mode(
        feed_server: Any, smtp_server: Any, state_env: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    serve_fixtures(feed_server)
    monkeypatch.setenv("WATCHER_SMTP_URL", smtp_server.url)
    run_once(context(write_config(tmp_path, feed_server)))
    (msg,) = received(smtp_server)
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["List-Id"] == "watcher digests <digest.example.org>"
    assert msg["Date"] and msg["Message-ID"] == message_id(
        "digest", "2026-W11", "analyst@example.org", "watcher@example.org"
    )
    assert msg["Subject"] == "[watcher] 2026-W11 · FOLLOW-UP · 4 new, 2 counting"
    assert msg["From"] == "watcher <watcher@example.org>"
    html = _html(msg)
    assert '<meta name="color-scheme" content="light dark">' in html
    assert "@media (prefers-color-scheme: dark)" in html           # kept for clients that read it
    assert "@media only screen and (max-width: 480px)" in html
    assert "<script" not in html and "src=" not in html
    _head, body = html.split("</head>", 1)
    assert "{" not in body                                   # every rule is in the one <style>
    # inline only what must hold without <style>: the hidden preheader and the bars' widths
    assert body.count('style="') <= 3
    assert 'class="preheader" style="display:none;' in body


def test_a_hostile_feed_item_arrives_harmless(
    feed_server: Any,
    smtp_server: Any,
    state_env: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    serve_fixtures(feed_server)
    title = ("Azerbaijan joins the Abraham Accords &lt;img src=x onerror=alert(1)&gt; "
             f"{RLO}evil\r\nBcc: victim@example.net")
    feed_server.add("/outlet.rss", f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>x</title><link>https://gazette.example.org/</link>
<item><title>{title}</title><link>javascript:alert(1)</link><guid>h1</guid>
<pubDate>Wed, 11 Feb 2026 07:15:00 GMT</pubDate></item></channel></rss>""".encode(),
                    content_type="application/rss+xml")
    monkeypatch.setenv("WATCHER_SMTP_URL", smtp_server.url)
    ctx = context(write_config(tmp_path, feed_server))
    run_once(ctx)
    (msg,) = received(smtp_server)
    assert msg["Bcc"] is None and [r.rcpt_tos for r in smtp_server.messages] == [
        ["analyst@example.org"]
    ]
    html = _html(msg)
    assert "Azerbaijan joins the Abraham Accords" in html and "<img" not in html
    assert "javascript:" not in html and RLO not in html
    assert RLO not in msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def _html(msg: EmailMessage) -> str:
    part = msg.get_body(("html",))
    assert part is not None
    return str(part.get_content())
