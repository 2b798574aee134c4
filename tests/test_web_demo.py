"""Every page of the workbench renders on the demo's data (issue 15): `make demo`'s cycle
(demo/run_demo.py, into a temp dir), then a real `watcher web` over its state, as `make web`
serves it: the overview, every page of the events list, every event's page, the review
queue, silences, feeds and the digest's full report, each 200 and without a script."""

from __future__ import annotations

import os
import re
from pathlib import Path

import httpx
import pytest

from demo import run_demo
from tests.conftest import ROOT
from tests.webserver import PASSWORD, serve, watcher


@pytest.mark.sqlite_only("the demo keeps its state in SQLite, as `make demo` does")
def test_every_page_renders_with_the_demos_data(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    work = tmp_path / ".demo"
    monkeypatch.setattr(run_demo, "WORK", work)
    assert run_demo.main() == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WATCHER_", "CRED"))}
    env.update(WATCHER_CONFIG=str(work / "indicators.yaml"), WATCHER_STATE_DIR=str(work / "state"),
               WATCHER_WEB_USERS=str(tmp_path / "users"), PYTHONPATH=str(ROOT))
    watcher(env, "web", "user", "add", "analyst", "--password-stdin", stdin=PASSWORD)
    with serve(env, config=work / "indicators.yaml") as base:
        client = httpx.Client(base_url=base, timeout=60)
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
        assert token
        client.post("/login", data={"csrf": token.group(1), "name": "analyst",
                                    "password": PASSWORD})
        seen: set[str] = set()
        pages = ["/", "/review", "/silences", "/feeds", "/events"]
        while pages:
            path = pages.pop(0)
            answer = client.get(path)
            assert answer.status_code == 200, path
            assert "<script" not in answer.text.lower() and 'class="card' in answer.text, path
            seen.add(path)
            found = re.findall(r'href="(/events/E\d+|/events\?[^"]*page=\d+[^"]*)"', answer.text)
            pages += [p.replace("&amp;", "&") for p in dict.fromkeys(found)
                      if p.replace("&amp;", "&") not in seen and p not in pages]
        events = {p for p in seen if re.fullmatch(r"/events/E\d+", p)}
        total = int(re.search(r"(\d+) found", client.get("/events").text).group(1))  # type: ignore[union-attr]
        assert any("page=2" in p for p in seen) and 25 < len(events) <= total
        reports = sorted((work / "state" / "reports").glob("digest-*.html"))
        assert reports
        report = client.get(f"/reports/{reports[-1].name}")
        assert report.status_code == 200 and "<script" not in report.text.lower()
        assert 'href="/review"' in report.text and 'href="/events?since=' in report.text
        assert client.get("/reports/..%2Fwatcher.db").status_code == 404
