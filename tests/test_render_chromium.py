"""`watcher digest --preview FILE` opened in headless Chromium at 375 px, light and dark.

Skipped only when chromium is not installed; `.ci/run` installs Debian's package, so in CI
it runs. Set WATCHER_REQUIRE_CHROMIUM=1 to make a missing browser a failure instead.
"""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.browser import Chromium, chromium_path
from tests.test_pipeline import context, serve_fixtures, write_config
from watcher.ingest.poll import poll

pytestmark = pytest.mark.skipif(
    chromium_path() is None and not os.environ.get("WATCHER_REQUIRE_CHROMIUM"),
    reason="chromium not installed (apt-get install -y chromium)")
WIDTH = 375


def preview(config: Path, out: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "WATCHER_SMTP_URL"}
    done = subprocess.run([sys.executable, "-m", "watcher", "digest", "--config", str(config),
                           "--preview", str(out)], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def ink(png: bytes) -> tuple[float, tuple[int, int, int]]:
    """Share of pixels that are not near-white, and the colour of the top-left corner."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    small = image.resize((image.width // 3, image.height // 3))
    data = small.tobytes()
    pixels = list(zip(data[0::3], data[1::3], data[2::3], strict=True))
    dark = sum(1 for r, g, b in pixels if min(r, g, b) < 200)
    return dark / len(pixels), image.getpixel((2, 2))  # type: ignore[return-value]


def test_preview_renders_at_375px_without_overflow_in_light_and_dark(
        feed_server: Any, state_env: Path, tmp_path: Path) -> None:
    serve_fixtures(feed_server)
    config = write_config(tmp_path, feed_server)
    asyncio.run(poll(context(config)))
    page = tmp_path / "digest.html"
    preview(config, page)
    with Chromium(width=WIDTH) as browser:
        browser.open(page)
        assert browser.evaluate("document.title").startswith("[watcher] ")
        assert browser.evaluate("document.documentElement.scrollWidth") <= WIDTH
        widest = browser.evaluate(
            "Math.max(...[...document.querySelectorAll('body *')]"
            ".map(e => e.getBoundingClientRect().right))")
        assert widest <= WIDTH + 0.5                           # nothing sticks out to the right
        assert browser.evaluate("document.querySelectorAll('td.cell').length") == 53
        assert browser.evaluate("document.scripts.length") == 0
        light = browser.screenshot()
        (tmp_path / "light.png").write_bytes(light)
        browser.call("Emulation.setEmulatedMedia",
                     features=[{"name": "prefers-color-scheme", "value": "dark"}])
        dark = browser.screenshot()
    share, corner = ink(light)
    assert 0.05 < share < 0.9, f"page looks blank or solid: {share:.2%} ink"
    assert Image.open(io.BytesIO(light)).width == WIDTH
    assert min(corner) > 200                                   # light background
    dark_share, dark_corner = ink(dark)
    assert max(dark_corner) < 60 and dark_share > 0.5           # dark background in dark mode
