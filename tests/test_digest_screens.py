"""The digest and an alert as a reader sees them: real headless Chromium (Debian's chromium,
driven by tests/browser.py) at 375 px (a phone) and 1280 px (a desktop), light and dark.

Checked: nothing is wider than the screen, and the first screen (812 px, an iPhone's height)
holds each track's verdict and this week's figures, so they are read without scrolling.
Skipped only when chromium is not installed; CI installs it.
"""

from __future__ import annotations

import io
import os
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.browser import Chromium, chromium_path
from tests.digestweeks import config, generated_week
from tests.test_alerts import alert_config
from tests.test_golden import demo_digest
from tests.test_pipeline import context, serve_fixtures
from watcher.report.render import render_digest
from watcher.service import run_once

pytestmark = pytest.mark.skipif(
    chromium_path() is None and not os.environ.get("WATCHER_REQUIRE_CHROMIUM"),
    reason="chromium not installed (apt-get install -y chromium)")
FIRST_SCREEN = 812
GEOMETRY = """(() => {
  const right = Math.max(...[...document.querySelectorAll('body *')]
      .map(e => e.getBoundingClientRect().right));
  const bottom = sel => { const e = document.querySelector(sel);
      return e ? e.getBoundingClientRect().bottom + window.scrollY : null; };
  return {scroll: document.documentElement.scrollWidth, right: right,
          verdict: bottom('#verdict'), week: bottom('#week'), h1: bottom('h1'),
          background: getComputedStyle(document.body).backgroundColor,
          tracks: [...document.querySelectorAll('.track')].map(e => e.innerText)};
})()"""


def corner(png: bytes) -> tuple[int, int, int]:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return image.getpixel((2, image.height - 3))  # type: ignore[return-value]


def look(page: Path, width: int, tmp: Path) -> dict[str, Any]:
    """The page's geometry at `width`, light and dark, with first-screen screenshots saved."""
    out: dict[str, Any] = {}
    with Chromium(width=width, height=FIRST_SCREEN) as browser:
        browser.open(page)
        assert browser.evaluate("document.scripts.length") == 0
        for scheme in ("light", "dark"):
            browser.call("Emulation.setEmulatedMedia",
                         features=[{"name": "prefers-color-scheme", "value": scheme}])
            out[scheme] = browser.evaluate(GEOMETRY)
            png = browser.screenshot(full_page=False)
            (tmp / f"{page.stem}-{width}-{scheme}.png").write_bytes(png)
            out[scheme]["corner"] = corner(png)
    return out


def check_fits(seen: dict[str, Any], width: int) -> None:
    for scheme in ("light", "dark"):
        g = seen[scheme]
        assert g["scroll"] <= width, f"{scheme}: page {g['scroll']} px wide on a {width} px screen"
        assert g["right"] <= width + 0.5, f"{scheme}: something sticks out to {g['right']} px"
    assert min(seen["light"]["corner"]) > 200                          # a light page
    assert max(seen["dark"]["corner"]) < 60                            # a dark one in dark mode


def check_first_screen(seen: dict[str, Any]) -> None:
    for scheme in ("light", "dark"):
        g = seen[scheme]
        assert g["verdict"] is not None and g["verdict"] <= FIRST_SCREEN, g
        assert g["week"] is not None and g["week"] <= FIRST_SCREEN, g


@pytest.mark.parametrize("width", [375, 1280])
def test_the_demo_digest_fits_and_opens_on_the_verdict_and_the_week(
        width: int, feed_server: Any, state_env: Path, tmp_path: Path) -> None:
    msg = demo_digest(feed_server, tmp_path)
    html = msg.get_body(preferencelist=("html",))
    assert html is not None
    page = tmp_path / "demo.html"
    page.write_text(html.get_content(), encoding="utf-8")
    seen = look(page, width, tmp_path)
    check_fits(seen, width)
    check_first_screen(seen)
    tracks = seen["light"]["tracks"]
    assert len(tracks) == 3 and tracks[0].startswith("FOLLOW-UP deals: follow-up since ")
    assert "rests on one official source" in tracks[0]


@pytest.mark.parametrize("width", [375, 1280])
def test_a_week_of_200_events_fits_and_opens_on_the_verdict_and_the_week(
        width: int, tmp_path: Path) -> None:
    report, _ = generated_week(200)
    _, _, html = render_digest(report, config())
    page = tmp_path / "week200.html"
    page.write_text(html, encoding="utf-8")
    seen = look(page, width, tmp_path)
    check_fits(seen, width)
    check_first_screen(seen)


def alert_page(server: Any, tmp: Path) -> tuple[str, Path]:
    """The alert one cycle of the alerting fixture feeds sends (tests/test_alerts.py), as a
    page: (its subject, the HTML file)."""
    ctx = context(alert_config(tmp, server))
    run_once(ctx)
    (raw,) = [m.raw for m in ctx.store.messages() if m.kind == "alert"][:1]
    msg = message_from_bytes(raw, _class=EmailMessage, policy=policy.SMTP)
    assert isinstance(msg, EmailMessage)
    html = msg.get_body(preferencelist=("html",))
    assert html is not None
    page = tmp / "alert.html"
    page.write_text(html.get_content(), encoding="utf-8")
    return str(msg["Subject"]), page


def test_an_alert_on_a_phone_leads_with_the_happening(
        feed_server: Any, state_env: Path, tmp_path: Path) -> None:
    serve_fixtures(feed_server)
    subject, page = alert_page(feed_server, tmp_path)
    seen = look(page, 375, tmp_path)
    check_fits(seen, 375)
    assert seen["light"]["h1"] <= FIRST_SCREEN / 2           # the happening, at the top
    text = page.read_text(encoding="utf-8")
    first = text.split("<h1", 1)[1].split("</h1>", 1)[0]
    assert "Kazakhstan and Israel sign water technology agreement in Astana — 2 sources" in first
    assert subject.startswith("[watcher] ALERT: Kazakhstan and Israel sign water")
