"""`make screenshot`: docs/digest.png, the demo's digest email as a phone (375 px) shows it.

Run `make demo` first; this opens the HTML part it wrote to the file outbox in headless
Chromium (Debian's `chromium`) and saves the top of the page.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEIGHT = 2400            # first screen, balance, indicators, the first events: enough to judge
sys.path.insert(0, str(ROOT))

from tests.browser import Chromium


def main() -> int:
    pages = sorted((ROOT / ".demo" / "state" / "outbox").glob("digest.*.html"))
    if not pages:
        print("no demo digest: run `make demo` first", file=sys.stderr)
        return 1
    out = ROOT / "docs" / "digest.png"
    out.parent.mkdir(exist_ok=True)
    with Chromium(width=375) as browser:
        browser.open(pages[-1])
        out.write_bytes(browser.screenshot(max_height=HEIGHT))
    print(f"wrote {out} from {pages[-1].name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
