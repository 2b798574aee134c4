"""`make screenshot`: docs/digest.png and docs/alert.png, the demo's digest and an alert as a
phone (375 px) shows them.

Run `make demo` first. The digest is the HTML part `make demo` wrote to the file outbox; the
alert is the one the demo's strongest recent happening would send, rendered from the demo's
database as of the day after its newest report (the demo's own run is past every alert's
7-day freshness, so it sends none). Both open in headless Chromium (Debian's `chromium`).
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIGEST_HEIGHT = 1600     # the first screen (812 px), then the first events
ALERT_HEIGHT = 812       # one phone screen
sys.path.insert(0, str(ROOT))

from tests.browser import Chromium


def demo_alert(state: Path) -> str | None:
    """The HTML of the alert the demo's newest qualifying happening sends, or None."""
    os.environ.update(WATCHER_CONFIG=str(ROOT / ".demo" / "indicators.yaml"),
                      WATCHER_STATE_DIR=str(state))
    os.environ.pop("WATCHER_DATABASE_URL", None)
    from watcher.config import load_config
    from watcher.context import Context
    from watcher.report.alerts import qualifies, select_alerts
    from watcher.report.render import render_alert
    from watcher.service import judge
    from watcher.settings import load_settings
    settings = load_settings()
    ctx = Context.open(load_config(settings.config_path), settings, read_only=True)
    try:
        events, _ = judge(ctx)
        fresh = [max(m.published for m in e.items) for e in events
                 if qualifies(e, ctx.config, max(m.published for m in e.items))]
        if not fresh:
            return None
        now = max(fresh) + timedelta(hours=1)
        events, verdict = judge(ctx, now)
        before = [e for e in events if max(m.published for m in e.items) <= now]
        report = select_alerts(ctx.config, before, verdict, [], {}, set(), now)
        return render_alert(report, ctx.config)[2] if report.lines else None
    finally:
        ctx.store.close()


def shoot(page: Path, out: Path, height: int) -> None:
    with Chromium(width=375, height=812) as browser:
        browser.open(page)
        out.write_bytes(browser.screenshot(max_height=height))
    print(f"wrote {out} from {page.name}")


def main() -> int:
    state = ROOT / ".demo" / "state"
    pages = sorted((state / "outbox").glob("digest.*.html"))
    if not pages:
        print("no demo digest: run `make demo` first", file=sys.stderr)
        return 1
    docs = ROOT / "docs"
    docs.mkdir(exist_ok=True)
    shoot(pages[-1], docs / "digest.png", DIGEST_HEIGHT)
    html = demo_alert(state)
    if html is None:
        print("the demo has no happening that would alert", file=sys.stderr)
        return 1
    alert = state / "alert-preview.html"
    alert.write_text(html, encoding="utf-8")
    shoot(alert, docs / "alert.png", ALERT_HEIGHT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
