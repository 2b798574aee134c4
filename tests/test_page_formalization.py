"""The accession's steps published on the parliament's and the President's own pages move the
digest's formalization line (issues 19 and 12), polled end to end over 127.0.0.1."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.test_page_sources import HTML, page_config, serve
from watcher.cli import main


def test_a_ratification_step_on_a_parliament_page_moves_the_formalization_line_in_the_digest(
        feed_server: Any, state_env: Path, tmp_path: Path) -> None:
    """The issue's done-when: the Mazhilis page publishes the bill's entry and vote; the digest's
    formalization line moves from 'announced' to 'passed by the Mazhilis' (the vote is a step of
    its own). Then the Senate's approval and the President's signature, on their own pages,
    make it 'ratified'."""
    serve(feed_server, "mazhilis-ru", "earlier")
    path = page_config(tmp_path, feed_server, ["mazhilis-ru", "senate-ru", "akorda-ru"])
    for other in ("senate-ru", "akorda-ru"):
        feed_server.add(f"/{other}", b"<html><body><p>maintenance</p></body></html>",
                        content_type=HTML)

    def digest_after_poll() -> str:
        assert main(["poll", "--config", str(path)]) == 0
        preview = tmp_path / "digest.html"
        assert main(["digest", "--preview", str(preview), "--config", str(path)]) == 0
        return preview.read_text(encoding="utf-8")

    before = digest_after_poll()
    assert "accession announced, not yet signed" in before
    serve(feed_server, "mazhilis-ru")                      # the bill entered and was voted
    assert main(["poll", "--feed", "mazhilis-ru", "--config", str(path)]) == 0
    after = digest_after_poll()
    assert "accession passed by the Mazhilis, not yet ratified" in after
    for other in ("senate-ru", "akorda-ru"):
        serve(feed_server, other)
        assert main(["poll", "--feed", other, "--config", str(path)]) == 0
    assert "accession ratified" in digest_after_poll()
