"""`make screenshot-web`: docs/workbench.png (1280 px), docs/workbench-375.png and
docs/workbench-event-375.png (a phone), the workbench on the demo's data.

Run `make demo` first. Serves `watcher web` on a free loopback port over .demo/state, logs in
as the demo analyst in headless Chromium (Debian's `chromium`) and saves the overview, and the
page of the event that counts, as a phone shows them.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import Chromium
from tests.webserver import serve

DEMO = ROOT / ".demo"
LOGIN = ("analyst", "demo-password")        # what `make web` creates (README)


def log_in(browser: Chromium, base: str) -> None:
    browser.goto(f"{base}/login")
    browser.submit(f"""document.querySelector('input[name=name]').value = {json.dumps(LOGIN[0])};
        document.querySelector('input[name=password]').value = {json.dumps(LOGIN[1])};
        document.querySelector('form button[type=submit]:not(.secondary)').click()""")


def main() -> int:
    if not (DEMO / "state" / "watcher.db").exists() or not (DEMO / "web-users").exists():
        print("no demo data or login: run `make demo` and `make web` once first", file=sys.stderr)
        return 1
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATCHER_")}
    env.update(WATCHER_STATE_DIR=str(DEMO / "state"), WATCHER_WEB_USERS=str(DEMO / "web-users"),
               WATCHER_CONFIG=str(DEMO / "indicators.yaml"), PYTHONPATH=str(ROOT))
    docs = ROOT / "docs"
    with serve(env, config=DEMO / "indicators.yaml") as base:
        with Chromium(width=1280, height=1400) as browser:
            log_in(browser, base)
            (docs / "workbench.png").write_bytes(browser.screenshot(max_height=1400))
        with Chromium(width=375, height=900) as browser:
            log_in(browser, base)
            (docs / "workbench-375.png").write_bytes(browser.screenshot(max_height=1800))
            browser.goto(f"{base}/events?status=counts")
            event = browser.evaluate("document.querySelector('.ev a').getAttribute('href')")
            browser.goto(f"{base}{event}")
            (docs / "workbench-event-375.png").write_bytes(browser.screenshot(max_height=1800))
    print(f"wrote docs/workbench.png, docs/workbench-375.png, docs/workbench-event-375.png "
          f"(event {event})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
